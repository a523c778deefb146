package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

const earthRadiusM = 6371008.8 // mean radius, as haversine distances use

// route moves along waypoints at a constant speed by the time elapsed
// since its first sample, so its position does not depend on how often
// it is sampled. Positions are linear between waypoints (fine for the
// short legs of a route); legs are measured along the great circle.
type route struct {
	points   [][2]float64 // with the closing leg appended when looping
	cum      []float64    // distance from the start to each point, m
	speedMS  float64
	speedKMH float64
	loop     bool
	start    time.Time
	started  bool
}

// disc is a random point per sample within a radius of a centre,
// uniform by area.
type disc struct {
	rng      *rand.Rand
	lat, lon float64
	radiusM  float64
}

func newGPS(g *scenario.GPS, seed uint64) (Generator, error) {
	hasRoute, hasCenter := len(g.Route) > 0, g.Center != nil
	switch {
	case hasRoute && hasCenter:
		return nil, fmt.Errorf("route and center are both set; give a route (with speed_kmh) or a center (with radius_m)")
	case hasCenter:
		if err := checkLatLon(*g.Center); err != nil {
			return nil, fmt.Errorf("center: %w", err)
		}
		if !(g.RadiusM > 0) {
			return nil, fmt.Errorf("radius_m %v must be positive, in metres", g.RadiusM)
		}
		return &disc{rng: newRand(seed, streamValue), lat: g.Center[0], lon: g.Center[1], radiusM: g.RadiusM}, nil
	case !hasRoute:
		return nil, fmt.Errorf("no route and no center; give route: [[lat, lon], ...] with speed_kmh, or center: [lat, lon] with radius_m")
	}
	if len(g.Route) < 2 {
		return nil, fmt.Errorf("route has %d waypoint; give at least 2", len(g.Route))
	}
	if !(g.SpeedKMH > 0) {
		return nil, fmt.Errorf("speed_kmh %v must be positive", g.SpeedKMH)
	}
	r := &route{speedMS: g.SpeedKMH / 3.6, speedKMH: g.SpeedKMH, loop: g.Loop}
	for i, p := range g.Route {
		if err := checkLatLon(p); err != nil {
			return nil, fmt.Errorf("waypoint %d: %w", i+1, err)
		}
	}
	r.points = append(r.points, g.Route...)
	if g.Loop && g.Route[0] != g.Route[len(g.Route)-1] {
		r.points = append(r.points, g.Route[0])
	}
	r.cum = make([]float64, len(r.points))
	for i := 1; i < len(r.points); i++ {
		r.cum[i] = r.cum[i-1] + distanceM(r.points[i-1], r.points[i])
	}
	if r.cum[len(r.cum)-1] == 0 {
		return nil, fmt.Errorf("route has no length: all its waypoints are the same place")
	}
	return r, nil
}

func checkLatLon(p [2]float64) error {
	if !(p[0] >= -90 && p[0] <= 90 && p[1] >= -180 && p[1] <= 180) {
		return fmt.Errorf("[%v, %v] is not [lat, lon]; lat is -90 to 90, lon -180 to 180", p[0], p[1])
	}
	return nil
}

func (r *route) Next(s *Sample) any {
	if !r.started {
		r.started, r.start = true, s.Now
	}
	total := r.cum[len(r.cum)-1]
	d := math.Max(s.Now.Sub(r.start).Seconds(), 0) * r.speedMS
	backwards := false
	if r.loop {
		d = math.Mod(d, total)
	} else {
		d = math.Mod(d, 2*total)
		if d > total {
			d, backwards = 2*total-d, true
		}
	}
	i := 1
	for i < len(r.cum)-1 && r.cum[i] < d {
		i++
	}
	a, b := r.points[i-1], r.points[i]
	f := 0.0
	if leg := r.cum[i] - r.cum[i-1]; leg > 0 {
		f = (d - r.cum[i-1]) / leg
	}
	// The short way round: a leg from lon 179 to -179 crosses the antimeridian.
	dLon := math.Mod(b[1]-a[1]+540, 360) - 180
	lat, lon := onGlobe(a[0]+f*(b[0]-a[0]), a[1]+f*dLon)
	heading := bearing(a, b)
	if backwards {
		heading = bearing(b, a)
	}
	return Object{
		{"lat", round(lat, 1e6)},
		{"lon", round(lon, 1e6)},
		{"speed_kmh", r.speedKMH},
		{"heading", math.Mod(round(heading, 10), 360)},
	}
}

func (c *disc) Next(*Sample) any {
	r := c.radiusM * math.Sqrt(c.rng.Float64())
	theta := 2 * math.Pi * c.rng.Float64()
	dLat := r * math.Cos(theta) / earthRadiusM
	// At a pole every longitude is the same point; keep the division finite.
	dLon := r * math.Sin(theta) / (earthRadiusM * math.Max(math.Cos(c.lat*math.Pi/180), 1e-9))
	lat, lon := onGlobe(c.lat+dLat*180/math.Pi, c.lon+dLon*180/math.Pi)
	return Object{
		{"lat", round(lat, 1e6)},
		{"lon", round(lon, 1e6)},
	}
}

// onGlobe brings a point that went over a pole or the antimeridian back
// to lat -90..90, lon -180..180.
func onGlobe(lat, lon float64) (float64, float64) {
	if lat > 90 {
		lat, lon = 180-lat, lon+180
	} else if lat < -90 {
		lat, lon = -180-lat, lon+180
	}
	lon = math.Mod(lon+180, 360)
	if lon < 0 {
		lon += 360
	}
	return lat, lon - 180
}

// round keeps positions to 6 decimals (about 0.1 m), which is what GPS
// receivers give and keeps payloads short.
func round(x, scale float64) float64 { return math.Round(x*scale) / scale }

func distanceM(a, b [2]float64) float64 {
	const rad = math.Pi / 180
	lat1, lat2 := a[0]*rad, b[0]*rad
	dLat, dLon := (b[0]-a[0])*rad, (b[1]-a[1])*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1)*math.Cos(lat2)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// bearing is the initial compass heading from a to b, 0 to 360 degrees.
func bearing(a, b [2]float64) float64 {
	const rad = math.Pi / 180
	lat1, lat2 := a[0]*rad, b[0]*rad
	dLon := (b[1] - a[1]) * rad
	y := math.Sin(dLon) * math.Cos(lat2)
	x := math.Cos(lat1)*math.Sin(lat2) - math.Sin(lat1)*math.Cos(lat2)*math.Cos(dLon)
	deg := math.Atan2(y, x) / rad
	return math.Mod(deg+360, 360)
}
