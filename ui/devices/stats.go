package devices

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/density"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// unknown is shown for a number nobody measured: never a fake 0.
const unknown = "—"

// rateWindow is how much history the rate chart shows.
const rateWindow = 60 * time.Second

type statsWidgets struct {
	progress *widget.ProgressBar
	cells    []*statCell
	lastErr  *widget.Label
	chart    *rateChart
}

// statCell is one live number.
type statCell struct {
	name  string
	value func(FleetStats) string
	alarm func(FleetStats) bool
	text  *widget.Label
}

func (p *Panel) buildStats() fyne.CanvasObject {
	st := &p.st
	st.progress = widget.NewProgressBar()
	st.progress.TextFormatter = p.progressText
	st.cells = newStatCells()
	// Four columns of a name over its number, drawn dense: three rows of
	// name-and-number lines at the theme's padding took 190 px of the
	// 690 the panel has at 1100 × 720, and left the device table three
	// rows. A name over its number needs the width of the longer, where
	// side by side the two did not fit a column in Russian.
	grid := container.NewGridWithColumns(4)
	for _, c := range st.cells {
		name := widget.NewLabel(c.name)
		name.SizeName = theme.SizeNameCaptionText
		grid.Add(container.NewVBox(name, c.text))
	}
	st.lastErr = statusLabel()
	st.chart = newRateChart()
	// The run's status line shares a row with the progress bar: in the
	// row of buttons it had about 100 px left in Russian.
	left := container.NewVBox(container.NewGridWithColumns(2, st.progress, p.ctl.status), grid, st.lastErr)
	return density.Dense(container.NewBorder(nil, nil, nil, st.chart, left))
}

// progressText says how far the ramp got, on the progress bar.
func (p *Panel) progressText() string {
	v := p.st.progress.Value
	if p.phase == idle && v == 0 {
		return lang.L("No fleet running")
	}
	return fmt.Sprintf(lang.L("%s of %s devices connected"), numfmt.Count(p.connected), numfmt.Count(p.wanted))
}

func newStatCells() []*statCell {
	cs := []*statCell{
		{name: lang.L("Connected"), value: func(s FleetStats) string {
			return numfmt.Count(s.Connected) + " / " + numfmt.Count(s.Wanted)
		}, alarm: func(s FleetStats) bool { return !s.Ramping && s.Connected < s.Wanted }},
		{name: lang.L("Msg/s"), value: func(s FleetStats) string { return numfmt.Rate(s.Rate) }},
		{name: lang.L("Sent"), value: func(s FleetStats) string { return numfmt.Count(s.Sent) }},
		{name: lang.L("Errors"), value: func(s FleetStats) string { return numfmt.Count(s.Errors) },
			alarm: func(s FleetStats) bool { return s.Errors > 0 }},
		{name: lang.L("Reconnects"), value: func(s FleetStats) string { return numfmt.Count(s.Reconnects) }},
		{name: lang.L("Lag p50/p99"), value: func(s FleetStats) string {
			return duration(s.LagP50) + " / " + duration(s.LagP99)
		}, alarm: func(s FleetStats) bool { return s.LagP99 >= 100*time.Millisecond }},
		{name: lang.L("Delivered/lost"), value: func(s FleetStats) string {
			if !s.LatencyKnown {
				return unknown
			}
			return numfmt.Count(s.Delivered) + " / " + numfmt.Count(s.Lost) + lossPercent(s)
		}, alarm: func(s FleetStats) bool { return s.LatencyKnown && s.Lost > 0 }},
		{name: lang.L("Latency p50/p99"), value: func(s FleetStats) string {
			if !s.LatencyKnown {
				return unknown
			}
			return duration(s.LatencyP50) + " / " + duration(s.LatencyP99)
		}},
	}
	for _, c := range cs {
		c.text = widget.NewLabelWithStyle(unknown, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		c.text.Truncation = fyne.TextTruncateEllipsis
	}
	return cs
}

func lossPercent(s FleetStats) string {
	total := s.Delivered + s.Lost
	if total == 0 || s.Lost == 0 {
		return ""
	}
	return fmt.Sprintf(" (%.2g %%)", 100*float64(s.Lost)/float64(total))
}

// showStats shows a run's stats, or "—" everywhere when there is no run
// yet (known false).
func (p *Panel) showStats(s FleetStats, known bool) {
	st := &p.st
	for _, c := range st.cells {
		v, imp := unknown, widget.MediumImportance
		if known {
			v = c.value(s)
			if c.alarm != nil && c.alarm(s) {
				imp = widget.WarningImportance
			}
		}
		if c.text.Text != v || c.text.Importance != imp {
			c.text.Text, c.text.Importance = v, imp
			c.text.Refresh()
		}
	}
	p.connected, p.wanted = s.Connected, s.Wanted
	frac := 0.0
	if s.Wanted > 0 {
		frac = float64(s.Connected) / float64(s.Wanted)
	}
	st.progress.SetValue(frac)
	switch {
	case !known || s.Errors == 0 && s.LastError == "":
		setStatus(st.lastErr, "", widget.MediumImportance)
	case s.LastError == "":
		setStatus(st.lastErr, lang.L("Errors, none described."), widget.DangerImportance)
	default:
		setStatus(st.lastErr, lang.L("Last error: ")+s.LastError, widget.DangerImportance)
	}
}

// duration shows a lag or latency, unknown when there is none.
func duration(d time.Duration) string {
	if d < 0 {
		return unknown
	}
	return numfmt.Duration(d)
}

// ratePoint is the fleet's send rate at one time.
type ratePoint struct {
	at time.Time
	v  float64
}

// addRate records a rate for the chart: one point a second is plenty
// for 60 s, whatever the refresh rate.
func (p *Panel) addRate(at time.Time, v float64) {
	if n := len(p.rates); n > 0 && at.Sub(p.rates[n-1].at) < time.Second {
		return
	}
	p.rates = append(p.rates, ratePoint{at, v})
	cut := 0
	for cut < len(p.rates) && at.Sub(p.rates[cut].at) > rateWindow {
		cut++
	}
	p.rates = append(p.rates[:0], p.rates[cut:]...)
	p.st.chart.set(p.rates)
}

// rateChart draws the send rate of the last minute as a line: the
// inspector's chart is that package's own and plots fields, not a
// rolling window, so this one is small and separate.
type rateChart struct {
	widget.BaseWidget
	pts []ratePoint
}

func newRateChart() *rateChart {
	c := &rateChart{}
	c.ExtendBaseWidget(c)
	return c
}

func (c *rateChart) set(pts []ratePoint) {
	c.pts = append(c.pts[:0], pts...)
	c.Refresh()
}

func (c *rateChart) CreateRenderer() fyne.WidgetRenderer { return &rateRenderer{c: c} }

type rateRenderer struct {
	c    *rateChart
	size fyne.Size
	objs []fyne.CanvasObject
}

func (r *rateRenderer) Destroy()                     {}
func (r *rateRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *rateRenderer) MinSize() fyne.Size           { return fyne.NewSize(240, 90) }
func (r *rateRenderer) Layout(s fyne.Size)           { r.size = s; r.build() }
func (r *rateRenderer) Refresh()                     { r.build(); canvas.Refresh(r.c) }

func (r *rateRenderer) build() {
	r.objs = r.objs[:0]
	s := r.size
	if s.Width <= 0 || s.Height <= 0 {
		return
	}
	th := r.c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	dim := th.Color(theme.ColorNamePlaceHolder, v)
	line := th.Color(theme.ColorNamePrimary, v)
	textSize := th.Size(theme.SizeNameCaptionText)
	pts := r.c.pts
	peak := 0.0
	for _, p := range pts {
		peak = max(peak, p.v)
	}
	caption := lang.L("Messages / s, last 60 s")
	if len(pts) > 0 {
		caption += lang.L(", peak ") + numfmt.Rate(peak)
	}
	t := canvas.NewText(caption, dim)
	t.TextSize = textSize
	t.Move(fyne.NewPos(0, 0))
	t.Resize(t.MinSize())
	r.objs = append(r.objs, t)
	top := t.MinSize().Height + 2
	bottom := s.Height - 1
	base := canvas.NewLine(dim)
	base.Position1, base.Position2 = fyne.NewPos(0, bottom), fyne.NewPos(s.Width, bottom)
	r.objs = append(r.objs, base)
	if len(pts) < 2 {
		return
	}
	scale := max(peak*1.1, 1)
	end := pts[len(pts)-1].at
	xOf := func(at time.Time) float32 {
		return s.Width * float32(1-float64(end.Sub(at))/float64(rateWindow))
	}
	yOf := func(v float64) float32 { return bottom - float32(v/scale)*(bottom-top) }
	for k := 1; k < len(pts); k++ {
		l := canvas.NewLine(line)
		l.StrokeWidth = 2
		l.Position1 = fyne.NewPos(xOf(pts[k-1].at), yOf(pts[k-1].v))
		l.Position2 = fyne.NewPos(xOf(pts[k].at), yOf(pts[k].v))
		r.objs = append(r.objs, l)
	}
}
