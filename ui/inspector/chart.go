package inspector

import (
	"image/color"
	"math"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// point is one value at one receive time (Unix ns).
type point struct {
	t int64
	v float64
	// brk: the topic had no value between the previous point and this
	// one (a message without the field, or messages the history lost), so
	// no line joins them.
	brk bool
}

// series is one plotted field.
type series struct {
	name string
	pts  []point // oldest first
	step bool    // a boolean: drawn as steps, since it holds its value until the next message
}

// palette tells up to maxSeries lines apart on light and dark themes.
var palette = []color.NRGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
}

// chart draws series against a time axis with canvas lines and texts: at
// most maxPoints points per series, so a redraw at 10 Hz is a few thousand
// light objects and needs no library.
type chart struct {
	widget.BaseWidget
	series []series
	empty  string // shown when there is nothing to plot
}

func newChart() *chart {
	c := &chart{}
	c.ExtendBaseWidget(c)
	return c
}

func (c *chart) set(s []series, empty string) {
	c.series, c.empty = s, empty
	c.Refresh()
}

func (c *chart) CreateRenderer() fyne.WidgetRenderer {
	return &chartRenderer{c: c}
}

type chartRenderer struct {
	c    *chart
	size fyne.Size
	objs []fyne.CanvasObject
}

func (r *chartRenderer) Destroy()                     {}
func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *chartRenderer) MinSize() fyne.Size           { return fyne.NewSize(240, 140) }

func (r *chartRenderer) Layout(s fyne.Size) {
	r.size = s
	r.build()
}

func (r *chartRenderer) Refresh() {
	r.build()
	canvas.Refresh(r.c)
}

// build lays the whole chart out again for the current size and data.
func (r *chartRenderer) build() {
	r.objs = r.objs[:0]
	s := r.size
	if s.Width <= 0 || s.Height <= 0 {
		return
	}
	th := r.c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	fg := th.Color(theme.ColorNameForeground, v)
	dim := th.Color(theme.ColorNamePlaceHolder, v)
	grid := th.Color(theme.ColorNameSeparator, v)
	textSize := th.Size(theme.SizeNameCaptionText)
	pad := th.Size(theme.SizeNamePadding)

	tmin, tmax := int64(math.MaxInt64), int64(math.MinInt64)
	vmin, vmax := math.Inf(1), math.Inf(-1)
	n := 0
	for _, se := range r.c.series {
		for _, p := range se.pts {
			tmin, tmax = min(tmin, p.t), max(tmax, p.t)
			vmin, vmax = math.Min(vmin, p.v), math.Max(vmax, p.v)
			n++
		}
	}
	if n == 0 {
		r.note(r.c.empty, dim, th.Size(theme.SizeNameText), s.Width-2*pad)
		return
	}
	if tmax == tmin { // one instant: give it a second either side
		tmin, tmax = tmin-1e9, tmax+1e9
	}

	// Legend along the top.
	x := pad
	lineH := fyne.MeasureText("0", textSize, fyne.TextStyle{}).Height
	for i, se := range r.c.series {
		sw := canvas.NewRectangle(palette[i%len(palette)])
		sw.Move(fyne.NewPos(x, pad+lineH/2-3))
		sw.Resize(fyne.NewSize(12, 6))
		t := canvas.NewText(se.name, fg)
		t.TextSize = textSize
		t.Move(fyne.NewPos(x+16, pad))
		t.Resize(t.MinSize())
		r.objs = append(r.objs, sw, t)
		x += 16 + t.MinSize().Width + 2*pad
	}
	top := pad + lineH + 2*pad
	bottom := s.Height - lineH - 2*pad

	// Value axis: round ticks, labels right-aligned left of the plot.
	want := max(2, min(6, int((bottom-top)/(3*lineH))))
	ticks, from, to := niceTicks(vmin, vmax, want)
	labelW := float32(0)
	labels := make([]*canvas.Text, len(ticks))
	for i, tv := range ticks {
		labels[i] = canvas.NewText(formatValue(tv), dim)
		labels[i].TextSize = textSize
		labelW = max(labelW, labels[i].MinSize().Width)
	}
	left := pad + labelW + pad
	right := s.Width - 2*pad
	if right-left < 20 || bottom-top < 20 {
		return // too small to draw anything legible
	}
	yOf := func(v float64) float32 {
		return bottom - float32((v-from)/(to-from))*(bottom-top)
	}
	xOf := func(t int64) float32 {
		return left + float32(float64(t-tmin)/float64(tmax-tmin))*(right-left)
	}
	for i, tv := range ticks {
		y := yOf(tv)
		gl := canvas.NewLine(grid)
		gl.StrokeWidth = 1
		gl.Position1, gl.Position2 = fyne.NewPos(left, y), fyne.NewPos(right, y)
		ls := labels[i].MinSize()
		labels[i].Move(fyne.NewPos(left-pad-ls.Width, y-ls.Height/2))
		labels[i].Resize(ls)
		r.objs = append(r.objs, gl, labels[i])
	}

	// Time axis: ticks on round local times, labels centred under them
	// but kept inside the chart.
	tt, layout := timeTicks(timeOf(tmin), timeOf(tmax), max(2, int((right-left)/110)))
	for _, at := range tt {
		px := xOf(at.UnixNano())
		mark := canvas.NewLine(dim)
		mark.StrokeWidth = 1
		mark.Position1, mark.Position2 = fyne.NewPos(px, bottom), fyne.NewPos(px, bottom+pad)
		t := canvas.NewText(at.Format(layout), dim)
		t.TextSize = textSize
		ts := t.MinSize()
		tx := min(max(px-ts.Width/2, left), s.Width-ts.Width)
		t.Move(fyne.NewPos(tx, bottom+pad))
		t.Resize(ts)
		r.objs = append(r.objs, mark, t)
	}
	for _, ax := range [][2]fyne.Position{
		{fyne.NewPos(left, top), fyne.NewPos(left, bottom)},
		{fyne.NewPos(left, bottom), fyne.NewPos(right, bottom)},
	} {
		l := canvas.NewLine(fg)
		l.StrokeWidth = 1
		l.Position1, l.Position2 = ax[0], ax[1]
		r.objs = append(r.objs, l)
	}

	// The data: each run a line, a lone point a dot.
	for i, se := range r.c.series {
		col := palette[i%len(palette)]
		for _, run := range runs(se.pts) {
			r.drawRun(run, se.step, col, xOf, yOf)
		}
	}
}

func (r *chartRenderer) drawRun(run []point, step bool, col color.Color, xOf func(int64) float32, yOf func(float64) float32) {
	if len(run) == 1 {
		dot := canvas.NewCircle(col)
		p := fyne.NewPos(xOf(run[0].t), yOf(run[0].v))
		dot.Move(p.SubtractXY(3, 3))
		dot.Resize(fyne.NewSize(6, 6))
		r.objs = append(r.objs, dot)
		return
	}
	for k := 1; k < len(run); k++ {
		a, b := run[k-1], run[k]
		pa, pb := fyne.NewPos(xOf(a.t), yOf(a.v)), fyne.NewPos(xOf(b.t), yOf(b.v))
		if step {
			corner := fyne.NewPos(pb.X, pa.Y)
			r.objs = append(r.objs, segmentLine(col, pa, corner), segmentLine(col, corner, pb))
			continue
		}
		r.objs = append(r.objs, segmentLine(col, pa, pb))
	}
}

// note centres text in the chart, broken between words into lines at
// most width wide: one line was cut at both ends in a narrow chart.
func (r *chartRenderer) note(text string, col color.Color, size, width float32) {
	var lines []*canvas.Text
	line := ""
	flush := func() {
		if line != "" {
			t := canvas.NewText(line, col)
			t.TextSize = size
			lines = append(lines, t)
		}
	}
	for _, w := range strings.Fields(text) {
		next := strings.TrimSpace(line + " " + w)
		if line != "" && fyne.MeasureText(next, size, fyne.TextStyle{}).Width > width {
			flush()
			next = w
		}
		line = next
	}
	flush()
	var h float32
	for _, t := range lines {
		h += t.MinSize().Height
	}
	y := (r.size.Height - h) / 2
	for _, t := range lines {
		ts := t.MinSize()
		t.Move(fyne.NewPos(max((r.size.Width-ts.Width)/2, 0), y))
		t.Resize(ts)
		y += ts.Height
		r.objs = append(r.objs, t)
	}
}

func segmentLine(c color.Color, a, b fyne.Position) *canvas.Line {
	l := canvas.NewLine(c)
	l.StrokeWidth = 2
	l.Position1, l.Position2 = a, b
	return l
}

// gapFactor: an interval this many times the series' median interval is a
// gap in the data rather than jitter, and the line breaks there.
const gapFactor = 5

// runs splits pts (oldest first) into the stretches drawn as one line:
// it breaks at points marked brk and where the time to the next point is
// more than gapFactor times the median interval, so that a silence shows
// as a gap instead of a straight line claiming values nobody sent.
func runs(pts []point) [][]point {
	if len(pts) == 0 {
		return nil
	}
	limit := int64(math.MaxInt64)
	if len(pts) >= 3 {
		dts := make([]int64, 0, len(pts)-1)
		for k := 1; k < len(pts); k++ {
			dts = append(dts, pts[k].t-pts[k-1].t)
		}
		slices.Sort(dts)
		if med := dts[len(dts)/2]; med > 0 {
			limit = gapFactor * med
		}
	}
	var out [][]point
	from := 0
	for k := 1; k < len(pts); k++ {
		if pts[k].brk || pts[k].t-pts[k-1].t > limit {
			out = append(out, pts[from:k])
			from = k
		}
	}
	return append(out, pts[from:])
}
