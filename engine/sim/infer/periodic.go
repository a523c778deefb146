package infer

import (
	"encoding/json"
	"math"
	"time"
)

// A numeric field is a sine rather than a walk when, for most devices,
// its autocorrelation swings negative and then back to a strong peak
// within a third of the series (three periods observed), the peaks agree
// on one period, and a sine of that period explains most of the
// variance. Random walks fail the last two; they stay walks.
const (
	minPeriodicSamples = 24   // per device: fewer cannot show three periods
	maxPeriodicSamples = 2000 // per device, the newest: bounds the autocorrelation's n²/3 work
	acfTrough          = -0.3 // the autocorrelation must dip below this...
	acfPeak            = 0.6  // ...then rise to a peak above this
	periodAgreement    = 0.15 // devices' periods within 15% of the median
	periodicShare      = 0.8  // of the devices with enough samples
	minExplained       = 0.5  // share of variance the fitted sine explains
)

// wave is a fitted sine: its period, and each device's phase as the
// generator counts it (a fraction of the period, from Unix time 0).
type wave struct {
	period time.Duration
	phases []float64
}

// sine returns the sine that fits the series, if it is one.
func (ns numSeries) sine() (wave, bool) {
	var periods []float64 // ns
	var series []sampled
	for _, s := range ns.perDevice {
		if len(s) < minPeriodicSamples {
			continue
		}
		sm := toSampled(s[max(0, len(s)-maxPeriodicSamples):])
		series = append(series, sm)
		if p, ok := acfPeriod(sm.x); ok {
			periods = append(periods, p*float64(medianGap(sm.t)))
		}
	}
	if len(series) == 0 || float64(len(periods)) < periodicShare*float64(len(series)) {
		return wave{}, false
	}
	med := median(periods)
	for _, p := range periods {
		if math.Abs(p-med) > periodAgreement*med {
			return wave{}, false
		}
	}
	// The autocorrelation's peak is only as exact as the sampling: refine
	// the period to the one whose sine fits best.
	best, bestFit := med, -1.0
	for j := -25; j <= 25; j++ {
		p := med * (1 + float64(j)*0.002)
		if fit := totalFit(series, p); fit > bestFit {
			best, bestFit = p, fit
		}
	}
	w := wave{period: roundDuration(time.Duration(best))}
	for _, s := range series {
		phase, explained := fitSine(s, float64(w.period))
		if explained < minExplained {
			return wave{}, false
		}
		w.phases = append(w.phases, phase)
	}
	return w, w.period > 0
}

// shared returns the devices' common phase when they are in step (all
// within 5% of a period of their circular mean).
func (w wave) shared() (float64, bool) {
	var sx, sy float64
	for _, p := range w.phases {
		sx += math.Cos(2 * math.Pi * p)
		sy += math.Sin(2 * math.Pi * p)
	}
	mean := math.Mod(math.Atan2(sy, sx)/(2*math.Pi)+1, 1)
	for _, p := range w.phases {
		d := math.Abs(p - mean)
		if math.Min(d, 1-d) > 0.05 {
			return 0, false
		}
	}
	// Rounding a phase just under a whole period gives 1, which the
	// generator refuses: it is 0.
	return math.Mod(math.Round(mean*1000)/1000, 1), true
}

// sampled is one device's series as numbers, parsed once for the many
// fits that follow.
type sampled struct {
	t []time.Time
	x []float64
}

func toSampled(s []obs) sampled {
	sm := sampled{t: make([]time.Time, len(s)), x: make([]float64, len(s))}
	for i, o := range s {
		sm.t[i] = o.t
		sm.x[i], _ = o.v.(json.Number).Float64()
	}
	return sm
}

func medianGap(ts []time.Time) time.Duration {
	gaps := make([]float64, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, float64(ts[i].Sub(ts[i-1])))
	}
	return time.Duration(median(gaps))
}

// acfPeriod returns the lag, in samples (interpolated), of the first
// autocorrelation peak after a trough, within a third of the series.
func acfPeriod(xs []float64) (float64, bool) {
	n := len(xs)
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(n)
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	v /= float64(n)
	if v == 0 {
		return 0, false
	}
	maxLag := n / 3
	r := make([]float64, maxLag+2)
	for k := 1; k <= maxLag+1 && k < n; k++ {
		s := 0.0
		for i := 0; i+k < n; i++ {
			s += (xs[i] - m) * (xs[i+k] - m)
		}
		r[k] = s / float64(n-k) / v
	}
	dipped := false
	for k := 1; k <= maxLag; k++ {
		if r[k] < acfTrough {
			dipped = true
		}
		if dipped && r[k] > acfPeak && r[k] >= r[k-1] && r[k] >= r[k+1] {
			den := r[k-1] - 2*r[k] + r[k+1]
			if den == 0 {
				return float64(k), true
			}
			return float64(k) + 0.5*(r[k-1]-r[k+1])/den, true
		}
	}
	return 0, false
}

// fitSine fits x ≈ a + b·sin θ + c·cos θ with θ the generator's angle at
// each sample time, and returns the phase that makes the generator's
// sin(θ + 2π·phase) match, and the share of variance explained.
func fitSine(s sampled, period float64) (phase, explained float64) {
	xs := s.x
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	// Normal equations of the two-term fit (the mean is removed first).
	var ss, cc, sc, xsn, xcn, v float64
	for i, t := range s.t {
		th := angle(t, period)
		sn, cs := math.Sin(th), math.Cos(th)
		d := xs[i] - m
		ss, cc, sc = ss+sn*sn, cc+cs*cs, sc+sn*cs
		xsn, xcn, v = xsn+d*sn, xcn+d*cs, v+d*d
	}
	det := ss*cc - sc*sc
	if det == 0 || v == 0 {
		return 0, 0
	}
	b := (xsn*cc - xcn*sc) / det
	c := (xcn*ss - xsn*sc) / det
	fitted := 0.0
	for _, t := range s.t {
		th := angle(t, period)
		f := b*math.Sin(th) + c*math.Cos(th)
		fitted += f * f
	}
	phase = math.Mod(math.Atan2(c, b)/(2*math.Pi)+1, 1)
	return phase, fitted / v
}

// angle is 2π times the fraction of the period t is into, counted from
// Unix time 0 as the wave generator counts it.
func angle(t time.Time, period float64) float64 {
	p := int64(period)
	ns := t.UnixNano() % p
	if ns < 0 {
		ns += p
	}
	return 2 * math.Pi * float64(ns) / float64(p)
}

// totalFit sums the variance a sine of period explains over the devices.
func totalFit(series []sampled, period float64) float64 {
	sum := 0.0
	for _, s := range series {
		_, e := fitSine(s, period)
		sum += e
	}
	return sum
}
