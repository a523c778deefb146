package inspector

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// niceTicks returns round values (1, 2 or 5 times a power of ten apart)
// covering [lo, hi] with at most about want of them, and the padded range
// they span, so that an axis reads 20, 25, 30 rather than 21.37, 24.81.
func niceTicks(lo, hi float64, want int) (ticks []float64, from, to float64) {
	if want < 2 {
		want = 2
	}
	if span := hi - lo; math.IsNaN(span) || math.IsInf(span, 0) {
		lo, hi = 0, 1 // nothing sensible to scale to; callers plot finite values only
	}
	if !(hi > lo) {
		// A flat series: centre it in a band of ±1 (or ±10% of its value).
		pad := math.Max(math.Abs(lo)*0.1, 1)
		lo, hi = lo-pad, hi+pad
	}
	raw := (hi - lo) / float64(want-1)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	// Count in steps and round to the step's decimals, so that the third
	// tick of 0.05 is 0.15 and not 0.15000000000000002.
	scale := math.Pow(10, math.Max(0, -math.Floor(math.Log10(step))))
	start := math.Floor(lo / step)
	for k := 0.0; (start+k)*step < hi+step; k++ {
		ticks = append(ticks, math.Round((start+k)*step*scale)/scale)
	}
	return ticks, ticks[0], ticks[len(ticks)-1]
}

// formatValue writes an axis or legend value with no more digits than it
// needs.
func formatValue(v float64) string {
	if v == 0 {
		return "0"
	}
	if a := math.Abs(v); a >= 1e6 || a < 1e-3 {
		return numfmt.Decimal(strconv.FormatFloat(v, 'g', 4, 64))
	}
	// Six decimals at most, trailing zeros dropped: 21.37, 0.3 (0,3 in
	// Russian).
	s := strconv.FormatFloat(v, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return numfmt.Decimal(strings.TrimSuffix(s, "."))
}

// timeSteps are the intervals a time axis may be ticked at.
var timeSteps = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// timeTicks returns at most want tick times inside [from, to], on whole
// steps of local time (every 5 s, every 15 min, midnight), and the layout
// to label them with: detailed enough to tell neighbours apart, with the
// date only when the range spans days.
func timeTicks(from, to time.Time, want int) ([]time.Time, string) {
	want = max(want, 1)
	span := to.Sub(from)
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if span/s < time.Duration(want) {
			step = s
			break
		}
	}
	layout := "15:04:05"
	switch {
	case step < time.Second:
		layout = "15:04:05.000"
	case step >= 24*time.Hour:
		layout = numfmt.LayoutDay()
	case from.YearDay() != to.YearDay() || from.Year() != to.Year():
		layout = numfmt.LayoutDayMinute()
	case step >= time.Minute:
		layout = "15:04"
	}
	// Round up to a multiple of step in local time: offset by the zone so
	// that hourly ticks fall on the hour wherever the user is.
	_, offset := from.Zone()
	zone := time.Duration(offset) * time.Second
	ns := from.UnixNano() + int64(zone)
	first := ns - ns%int64(step)
	if first < ns {
		first += int64(step)
	}
	var out []time.Time
	for t := first; t <= to.UnixNano()+int64(zone) && len(out) <= want; t += int64(step) {
		out = append(out, time.Unix(0, t-int64(zone)))
	}
	return out, layout
}
