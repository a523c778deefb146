package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // daily's tz must work where the OS has no zone database (Windows)

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

type counter struct {
	next, start, step, wrap int64
}

func newCounter(c *scenario.Counter) (*counter, error) {
	g := &counter{next: c.Start, start: c.Start, step: c.Step, wrap: c.Wrap}
	if g.step == 0 {
		g.step = 1
	}
	if g.wrap != 0 {
		if g.step > 0 && g.wrap <= g.start {
			return nil, fmt.Errorf("wrap %d is not above start %d; a counter counting up restarts at start once it reaches wrap", g.wrap, g.start)
		}
		if g.step < 0 && g.wrap >= g.start {
			return nil, fmt.Errorf("wrap %d is not below start %d; a counter counting down restarts at start once it reaches wrap", g.wrap, g.start)
		}
	}
	return g, nil
}

func (c *counter) Next(*Sample) any {
	v := c.next
	n := v + c.step
	if c.wrap != 0 && ((c.step > 0 && n >= c.wrap) || (c.step < 0 && n <= c.wrap)) {
		n = c.start
	}
	c.next = n
	return v
}

type uniform struct {
	rng      *rand.Rand
	min, max float64
	lo, n    int64 // integer: lo + [0, n)
	integer  bool
}

func newUniform(u *scenario.Uniform, seed uint64) (*uniform, error) {
	if err := checkRange(u.Min, u.Max); err != nil {
		return nil, err
	}
	g := &uniform{rng: newRand(seed, streamValue), min: u.Min, max: u.Max, integer: u.Integer}
	if u.Integer {
		lo, hi := math.Ceil(u.Min), math.Floor(u.Max)
		if lo > hi {
			return nil, fmt.Errorf("no whole number between min %v and max %v; widen the range or drop integer", u.Min, u.Max)
		}
		g.lo, g.n = int64(lo), int64(hi)-int64(lo)+1
	}
	return g, nil
}

func (u *uniform) Next(*Sample) any {
	if u.integer {
		return u.lo + u.rng.Int64N(u.n)
	}
	return u.min + u.rng.Float64()*(u.max-u.min)
}

func checkRange(lo, hi float64) error {
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return fmt.Errorf("min %v and max %v must be finite numbers", lo, hi)
	}
	if lo > hi {
		return fmt.Errorf("min %v is above max %v; give min <= max", lo, hi)
	}
	return nil
}

type gaussian struct {
	rng      *rand.Rand
	mean, sd float64
	min, max float64
}

func newGaussian(g *scenario.Gaussian, seed uint64) (*gaussian, error) {
	if g.StdDev < 0 || math.IsNaN(g.StdDev) {
		return nil, fmt.Errorf("stddev %v is negative; give 0 or more", g.StdDev)
	}
	out := &gaussian{rng: newRand(seed, streamValue), mean: g.Mean, sd: g.StdDev, min: math.Inf(-1), max: math.Inf(1)}
	if g.Min != nil {
		out.min = *g.Min
	}
	if g.Max != nil {
		out.max = *g.Max
	}
	if out.min > out.max {
		return nil, fmt.Errorf("min %v is above max %v; give min <= max", out.min, out.max)
	}
	return out, nil
}

func (g *gaussian) Next(s *Sample) any { return g.float(s) }

func (g *gaussian) float(*Sample) float64 {
	return clamp(g.mean+g.rng.NormFloat64()*g.sd, g.min, g.max)
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// walk moves by up to step each sample, pulled back towards mean by a
// fraction revert of the distance, and bounced off its bounds (a value
// clamped at a bound would stick there for many samples).
type walk struct {
	rng               *rand.Rand
	v, min, max, step float64
	mean, revert      float64
}

func newWalk(w *scenario.Walk, seed uint64) (*walk, error) {
	if err := checkRange(w.Min, w.Max); err != nil {
		return nil, err
	}
	if w.Step < 0 || math.IsNaN(w.Step) {
		return nil, fmt.Errorf("step %v is negative; give the largest move per sample (0 or more)", w.Step)
	}
	if w.Revert < 0 || w.Revert > 1 {
		return nil, fmt.Errorf("revert %v is out of range; give 0 (none) to 1 (back to mean at once)", w.Revert)
	}
	g := &walk{rng: newRand(seed, streamValue), v: (w.Min + w.Max) / 2, min: w.Min, max: w.Max, step: w.Step, revert: w.Revert}
	if w.Start != nil {
		if *w.Start < w.Min || *w.Start > w.Max {
			return nil, fmt.Errorf("start %v is outside min %v and max %v", *w.Start, w.Min, w.Max)
		}
		g.v = *w.Start
	}
	g.mean = g.v
	if w.Mean != nil {
		if *w.Mean < w.Min || *w.Mean > w.Max {
			return nil, fmt.Errorf("mean %v is outside min %v and max %v", *w.Mean, w.Min, w.Max)
		}
		g.mean = *w.Mean
	}
	return g, nil
}

func (w *walk) Next(s *Sample) any { return w.float(s) }

func (w *walk) float(*Sample) float64 {
	v := w.v
	n := v + w.revert*(w.mean-v) + (2*w.rng.Float64()-1)*w.step
	if n > w.max {
		n = 2*w.max - n
	}
	if n < w.min {
		n = 2*w.min - n
	}
	w.v = clamp(n, w.min, w.max)
	return v
}

// wave is a periodic signal of absolute time, so devices with the same
// phase are in step whenever they started.
type wave struct {
	shape    func(x float64) float64 // x in [0,1) → [0,1]
	min, max float64
	period   int64 // ns
	phase    float64
}

var shapes = map[string]func(float64) float64{
	// sine starts at the middle, rises to max at a quarter period.
	"sine": func(x float64) float64 { return 0.5 + 0.5*math.Sin(2*math.Pi*x) },
	// square is max for the first half period, min for the second.
	"square": func(x float64) float64 {
		if x < 0.5 {
			return 1
		}
		return 0
	},
	// triangle rises from min to max in the first half period, falls back in the second.
	"triangle": func(x float64) float64 {
		if x < 0.5 {
			return 2 * x
		}
		return 2 - 2*x
	},
	// sawtooth rises from min to max over the period, then drops.
	"sawtooth": func(x float64) float64 { return x },
}

func newWave(kind string, w *scenario.Wave, seed uint64) (*wave, error) {
	if err := checkRange(w.Min, w.Max); err != nil {
		return nil, err
	}
	if time.Duration(w.Period) <= 0 {
		return nil, fmt.Errorf("period %v must be positive, e.g. 60s or 24h", time.Duration(w.Period))
	}
	if w.Phase < 0 || w.Phase >= 1 {
		return nil, fmt.Errorf("phase %v is out of range; give a fraction of the period, 0 to below 1", w.Phase)
	}
	g := &wave{shape: shapes[kind], min: w.Min, max: w.Max, period: int64(time.Duration(w.Period)), phase: w.Phase}
	if w.RandomPhase {
		g.phase = newRand(seed, streamPhase).Float64()
	}
	return g, nil
}

func (w *wave) Next(s *Sample) any { return w.float(s) }

func (w *wave) float(s *Sample) float64 {
	ns := s.Now.UnixNano() % w.period
	if ns < 0 {
		ns += w.period
	}
	x := float64(ns)/float64(w.period) + w.phase
	x -= math.Floor(x)
	return w.min + (w.max-w.min)*w.shape(x)
}

// daily interpolates between values at times of day, wrapping at
// midnight, in the clock time of its zone.
type daily struct {
	at  []int // seconds since midnight, ascending
	v   []float64
	loc *time.Location
}

const day = 24 * 3600

func newDaily(d *scenario.Daily) (*daily, error) {
	if len(d.Points) == 0 {
		return nil, fmt.Errorf(`no points; give values at times of day, e.g. points: {"06:00": 15, "14:00": 24}`)
	}
	g := &daily{loc: time.Local}
	if d.TZ != "" {
		loc, err := time.LoadLocation(d.TZ)
		if err != nil {
			return nil, fmt.Errorf("tz %q is not a known time zone; give an IANA name such as Europe/Paris or UTC", d.TZ)
		}
		g.loc = loc
	}
	type point struct {
		at int
		v  float64
	}
	points := make([]point, 0, len(d.Points))
	for k, v := range d.Points {
		at, err := timeOfDay(k)
		if err != nil {
			return nil, err
		}
		points = append(points, point{at, v})
	}
	sort.Slice(points, func(i, j int) bool { return points[i].at < points[j].at })
	for i, p := range points {
		if i > 0 && p.at == points[i-1].at {
			return nil, fmt.Errorf("two points at the same time of day %s", clock(p.at))
		}
		g.at = append(g.at, p.at)
		g.v = append(g.v, p.v)
	}
	return g, nil
}

// timeOfDay parses "HH:MM" or "HH:MM:SS".
func timeOfDay(s string) (int, error) {
	bad := fmt.Errorf("point %q is not a time of day; write HH:MM or HH:MM:SS, 00:00 to 23:59:59", s)
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	limits := []int{24, 60, 60}
	secs := 0
	for i := range 3 {
		n := 0
		if i < len(parts) {
			var err error
			if n, err = strconv.Atoi(parts[i]); err != nil || n < 0 || n >= limits[i] {
				return 0, bad
			}
		}
		secs = secs*60 + n
	}
	return secs, nil
}

func clock(secs int) string {
	return fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs/60%60, secs%60)
}

func (d *daily) Next(s *Sample) any { return d.float(s) }

func (d *daily) float(s *Sample) float64 {
	t := s.Now.In(d.loc)
	h, m, sec := t.Clock()
	x := float64(h*3600+m*60+sec) + float64(t.Nanosecond())/1e9
	n := len(d.at)
	// i is the first point after x; the one before it wraps to yesterday's last.
	i := sort.Search(n, func(i int) bool { return float64(d.at[i]) > x })
	prev, next := (i-1+n)%n, i%n
	a, b := float64(d.at[prev]), float64(d.at[next])
	if b <= a { // the segment crosses midnight
		b += day
		if x < a {
			x += day
		}
	}
	if b == a {
		return d.v[prev]
	}
	f := (x - a) / (b - a)
	return d.v[prev] + f*(d.v[next]-d.v[prev])
}
