// Package tablefit sizes a table's columns to the width the table is
// given, so that a table fills its panel without a sideways scroll bar
// and its headings stay whole in every language. Fyne's table has fixed
// column widths; the widths here are worked out again whenever the
// table is laid out (a new width, or a new text size from Settings).
package tablefit

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Widths gives a table's column widths for a table width, with gap
// between two columns (the table keeps its theme's padding there).
type Widths func(width, gap float32) []float32

// Fit lays t out at the whole size it is given, with the column widths
// widths gives for that width.
func Fit(t *widget.Table, widths Widths) *fyne.Container {
	return container.New(&fit{table: t, widths: widths}, t)
}

type fit struct {
	table  *widget.Table
	widths Widths
	set    []float32
}

func (l *fit) MinSize(objs []fyne.CanvasObject) fyne.Size { return objs[0].MinSize() }

func (l *fit) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	ws := l.widths(size.Width, l.table.Theme().Size(theme.SizeNamePadding))
	if len(l.set) != len(ws) {
		l.set = make([]float32, len(ws))
	}
	for i, w := range ws {
		if l.set[i] != w {
			l.set[i] = w
			l.table.SetColumnWidth(i, w)
		}
	}
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(size)
}

// Slack is what a column needs beyond its text's MinSize: Fyne cuts a
// truncating label given exactly its untruncated MinSize ("Подключе…" for
// Подключено in the Journal), and whole from one pixel more.
const Slack = 1

// HeadingWidth is the width a column needs for heading s, drawn bold as
// the tables' headings are.
func HeadingWidth(s string) float32 { return measured.width(s, true) }

// TextWidth is the width a column needs to show s whole in a plain cell.
func TextWidth(s string) float32 { return measured.width(s, false) }

// measured keeps the widths of the few strings tables measure (headings,
// state words) per font and size: tables are laid out again and again,
// and measuring made a label each time, whose renderer Fyne keeps for a
// minute.
var measured widthCache

// maxMeasured bounds the cache; tables measure a few dozen strings.
const maxMeasured = 1024

type widthCache struct {
	mu     sync.Mutex
	key    sizeKey
	widths map[measure]float32
}

type sizeKey struct {
	font          string
	text, padding float32
}

type measure struct {
	s    string
	bold bool
}

func (c *widthCache) width(s string, bold bool) float32 {
	th := fyne.CurrentApp().Settings().Theme()
	key := sizeKey{th.Font(fyne.TextStyle{}).Name(), th.Size(theme.SizeNameText), th.Size(theme.SizeNameInnerPadding)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != key || len(c.widths) >= maxMeasured {
		c.key, c.widths = key, map[measure]float32{}
	}
	m := measure{s, bold}
	if w, ok := c.widths[m]; ok {
		return w
	}
	w := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: bold}).MinSize().Width + Slack
	c.widths[m] = w
	return w
}
