package inspector

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/message"
)

const (
	// maxPoints bounds each series: the newest points of the history.
	maxPoints = 1000
	// maxSeries bounds the fields plotted at once, so the lines stay
	// legible and each has its own colour.
	maxSeries = 6
)

func timeOf(ns int64) time.Time { return time.Unix(0, ns) }

// chartReq asks the chart goroutine for the series of a history.
type chartReq struct {
	gen   uint64
	ents  []*entry // messages and markers of missing ones, newest first
	picks []string // the fields to plot; nil: the default
}

// chartLoop returns the chart goroutine's handler. It decodes each message
// once per set of picked fields and keeps the values it found, so a live
// update decodes only the new messages.
func (in *Inspector) chartLoop() func(context.Context, chartReq) {
	var (
		cache    = map[*entry]map[string]decode.Field{}
		cacheFor string // the picks the cache holds values of
	)
	return func(ctx context.Context, q chartReq) {
		if len(q.ents) == 0 {
			return
		}
		first := slices.IndexFunc(q.ents, func(e *entry) bool { return e.missed == 0 })
		if first < 0 {
			return
		}
		newest := &q.ents[first].rec
		var paths []string
		for _, f := range decode.NumericFields(decode.Auto, newest.Topic, newest.Payload) {
			paths = append(paths, f.Path)
		}
		picks := q.picks
		if picks == nil && len(paths) > 0 {
			// The payload itself when it is a number, else its first numeric
			// field: NumericFields lists the payload first when it is one.
			picks = []string{paths[0]}
		}
		if key := strings.Join(picks, "\x00"); key != cacheFor {
			clear(cache)
			cacheFor = key
		}
		out := make([]series, len(picks))
		for i, p := range picks {
			out[i].name = p
		}
		live := make(map[*entry]bool, len(q.ents))
		for _, e := range q.ents {
			if ctx.Err() != nil {
				return
			}
			if e.missed > 0 {
				// Messages the history lost: their values are unknown.
				for i := range out {
					breakBefore(out[i].pts)
				}
				continue
			}
			live[e] = true
			full := true
			for i := range out {
				full = full && len(out[i].pts) >= maxPoints
			}
			if full {
				continue
			}
			vals, ok := cache[e]
			if !ok {
				vals = pickFields(&e.rec, picks)
				cache[e] = vals
			}
			for i := range out {
				f, ok := vals[out[i].name]
				switch {
				case !ok:
					breakBefore(out[i].pts)
				case len(out[i].pts) < maxPoints:
					out[i].pts = append(out[i].pts, point{t: e.rec.Time.UnixNano(), v: f.Value})
					out[i].step = out[i].step || f.Bool
				}
			}
		}
		for e := range cache {
			if !live[e] {
				delete(cache, e)
			}
		}
		for i := range out {
			// Newest first so far; plotted oldest first, and store pages
			// follow arrival order, which a clock step can disorder.
			slices.Reverse(out[i].pts)
			slices.SortStableFunc(out[i].pts, func(a, b point) int {
				return compareInt(a.t, b.t)
			})
		}
		in.do(func() { in.applyChart(q.gen, paths, picks, q.picks == nil, out) })
	}
}

// breakBefore marks that no line joins the newest point so far (pts are
// gathered newest first) to the older ones that follow: the message
// between them had no value for the series.
func breakBefore(pts []point) {
	if len(pts) > 0 {
		pts[len(pts)-1].brk = true
	}
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pickFields returns the values of the picked paths in r's payload.
func pickFields(r *message.Message, picks []string) map[string]decode.Field {
	vals := map[string]decode.Field{}
	if len(picks) == 0 {
		return vals
	}
	for _, f := range decode.NumericFields(decode.Auto, r.Topic, r.Payload) {
		// A CBOR or MessagePack float can be NaN or infinite: no place on
		// an axis.
		if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
			continue
		}
		if slices.Contains(picks, f.Path) {
			vals[f.Path] = f
		}
	}
	return vals
}

// chartPanel is the Chart tab: the numeric fields of the topic's newest
// message to pick from (filterable, virtualised: a large document has
// thousands) and the chart of the picked ones.
type chartPanel struct {
	chart  *chart
	filter *widget.Entry
	list   *widget.List
	note   *widget.Label
	fields []string // of the newest message
	shown  []string // fields passing the filter
	picks  []string
	onPick func([]string)
	box    fyne.CanvasObject
}

func newChartPanel(onPick func([]string)) *chartPanel {
	p := &chartPanel{chart: newChart(), onPick: onPick, note: widget.NewLabel("")}
	wrap(p.note)
	p.note.Importance = widget.LowImportance
	p.filter = widget.NewEntry()
	p.filter.SetPlaceHolder(lang.L("Filter fields"))
	p.filter.OnChanged = func(string) { p.applyFilter() }
	p.list = widget.NewList(
		func() int { return len(p.shown) },
		func() fyne.CanvasObject { return widget.NewCheck("", nil) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			c := o.(*widget.Check)
			path := p.shown[id]
			c.OnChanged = nil
			c.Text = path
			c.Checked = slices.Contains(p.picks, path)
			c.Refresh()
			c.OnChanged = func(on bool) { p.toggle(c, path, on) }
		})
	left := container.NewBorder(container.NewVBox(widget.NewLabelWithStyle(lang.L("Fields"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), p.filter),
		p.note, nil, nil, p.list)
	split := container.NewHSplit(left, p.chart)
	split.Offset = 0.28
	p.box = split
	return p
}

func (p *chartPanel) toggle(c *widget.Check, path string, on bool) {
	switch {
	case on && slices.Contains(p.picks, path), !on && !slices.Contains(p.picks, path):
		return
	case on && len(p.picks) >= maxSeries:
		p.note.SetText(lang.L("At most 6 fields at once: untick one first."))
		c.OnChanged = nil
		c.SetChecked(false)
		c.OnChanged = func(on bool) { p.toggle(c, path, on) }
		return
	case on:
		p.picks = append(slices.Clone(p.picks), path)
	default:
		p.picks = slices.DeleteFunc(slices.Clone(p.picks), func(s string) bool { return s == path })
	}
	p.note.SetText("")
	p.onPick(p.picks)
}

func (p *chartPanel) setFields(fields, picks []string) {
	p.fields, p.picks = fields, picks
	p.applyFilter()
}

func (p *chartPanel) applyFilter() {
	f := strings.ToLower(p.filter.Text)
	p.shown = p.shown[:0]
	for _, s := range p.fields {
		if f == "" || strings.Contains(strings.ToLower(s), f) {
			p.shown = append(p.shown, s)
		}
	}
	// Picked fields the newest message lacks still show, so they can be
	// unticked.
	for _, s := range p.picks {
		if !slices.Contains(p.shown, s) && (f == "" || strings.Contains(strings.ToLower(s), f)) {
			p.shown = append(p.shown, s)
		}
	}
	p.list.Refresh()
}

func (p *chartPanel) clear() {
	p.fields, p.picks, p.shown = nil, nil, nil
	p.note.SetText("")
	p.list.Refresh()
	p.chart.set(nil, "")
}
