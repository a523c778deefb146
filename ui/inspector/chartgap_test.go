package inspector

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/topics"
)

// dataSegments returns the data lines the chart draws for its first
// series, as x ranges.
func dataSegments(c *chart) [][2]float32 {
	var out [][2]float32
	for _, o := range test.WidgetRenderer(c).Objects() {
		if l, ok := o.(*canvas.Line); ok && l.StrokeColor == palette[0] && l.StrokeWidth == 2 {
			out = append(out, [2]float32{min(l.Position1.X, l.Position2.X), max(l.Position1.X, l.Position2.X)})
		}
	}
	return out
}

// spansGap reports whether a data line crosses the time range from..to,
// mapping times to x as the chart does: its first point at the left end
// of the lines, its last at the right.
func spansGap(segs [][2]float32, c *chart, from, to time.Time) bool {
	pts := c.series[0].pts
	t0, t1 := pts[0].t, pts[len(pts)-1].t
	left, right := float32(1e9), float32(0)
	for _, s := range segs {
		left, right = min(left, s[0]), max(right, s[1])
	}
	x := func(t time.Time) float32 {
		return left + float32(float64(t.UnixNano()-t0)/float64(t1-t0))*(right-left)
	}
	a, b := x(from), x(to)
	for _, s := range segs {
		// A segment from before the gap's start to after its end crosses it.
		if s[0] <= a+0.5 && s[1] >= b-0.5 {
			return true
		}
	}
	return false
}

// A topic that went quiet for a while, or sent something that is not a
// number, shows a gap: the line stops and starts again instead of
// joining the values on either side as if it had data in between.
func TestChartBreaksTheLineAtGaps(t *testing.T) {
	tests := []struct {
		name string
		// payloads at i seconds after base; "" skips second i.
		msgs     map[int]string
		gapFrom  int
		gapTo    int
		wantSegs int
	}{
		{"silence far longer than the usual interval",
			map[int]string{0: "1", 1: "2", 2: "3", 3: "4", 60: "5", 61: "6", 62: "7", 63: "8"}, 3, 60, 6},
		{"a message without a number",
			map[int]string{0: "1", 1: "2", 2: "3", 3: "offline", 4: "5", 5: "6", 6: "7"}, 2, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, topics.Options{}, nil)
			n := 0
			for i := range 100 {
				if p, ok := tt.msgs[i]; ok {
					h.feed(rec("plant/temp", p, i))
					n++
				}
			}
			h.show("plant/temp")
			in := h.in
			h.q.until(t, "the chart", func() bool { return len(in.chart.chart.series) == 1 })
			in.tabs.SelectIndex(1)
			in.chart.chart.Resize(fyne.NewSize(600, 300))
			segs := dataSegments(in.chart.chart)
			if spansGap(segs, in.chart.chart, base.Add(time.Duration(tt.gapFrom)*time.Second), base.Add(time.Duration(tt.gapTo)*time.Second)) {
				t.Errorf("a line crosses the gap from %d s to %d s: %v", tt.gapFrom, tt.gapTo, segs)
			}
			if len(segs) != tt.wantSegs {
				t.Errorf("%d segments, want %d (every pair of neighbours but the gap)", len(segs), tt.wantSegs)
			}
		})
	}
}

// runs splits a series where it has no data, and only there: irregular
// but steady traffic stays one line.
func TestChartRuns(t *testing.T) {
	at := func(secs ...float64) []point {
		out := make([]point, len(secs))
		for i, s := range secs {
			out[i] = point{t: int64(s * 1e9), v: float64(i)}
		}
		return out
	}
	lens := func(rs [][]point) []int {
		var out []int
		for _, r := range rs {
			out = append(out, len(r))
		}
		return out
	}
	brk := at(0, 1, 2, 3, 4)
	brk[3].brk = true
	for _, tt := range []struct {
		name string
		pts  []point
		want []int
	}{
		{"steady", at(0, 1, 2, 3, 4, 5), []int{6}},
		{"jittery but steady", at(0, 1.5, 2, 3.8, 4, 6), []int{6}},
		{"a long silence", at(0, 1, 2, 3, 30, 31, 32), []int{4, 3}},
		{"a marked break", brk, []int{3, 2}},
		{"too few points to tell a gap", at(0, 100), []int{2}},
		{"a single point left alone", at(0, 1, 2, 3, 60), []int{4, 1}},
	} {
		if got := lens(runs(tt.pts)); !equalInts(got, tt.want) {
			t.Errorf("%s: runs of %v, want %v", tt.name, got, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
