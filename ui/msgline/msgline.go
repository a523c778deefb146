// Package msgline keeps room in a panel for messages that come and go (a
// field's error, "Published…", a subscription's result), so that what is
// below them does not jump each time one appears or vanishes.
package msgline

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Reserve stacks the visible objects one under the other, from the top,
// in at least the height of lines lines of label text. A message longer
// than that still shows whole, and then moves what is below; the kept
// height covers the messages a panel usually shows.
func Reserve(lines int, objs ...fyne.CanvasObject) *fyne.Container {
	return container.New(reserved(lines), objs...)
}

type reserved int

// keptHeight is the height of a label of lines lines.
func keptHeight(lines int) float32 {
	if lines <= 0 {
		return 0
	}
	one, step := heights.of(fyne.CurrentApp().Settings().Theme())
	return one + float32(lines-1)*step
}

// heights are a label's height and what each further line adds, measured
// once per text size and padding: measuring at every layout made two
// labels each time, and Fyne keeps a widget's renderer for a minute.
var heights lineHeights

type lineHeights struct {
	mu        sync.Mutex
	key       heightKey
	one, step float32
}

type heightKey struct {
	font                     string
	text, padding, lineSpace float32
}

func (h *lineHeights) of(th fyne.Theme) (one, step float32) {
	key := heightKey{th.Font(fyne.TextStyle{}).Name(), th.Size(theme.SizeNameText),
		th.Size(theme.SizeNameInnerPadding), th.Size(theme.SizeNameLineSpacing)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.key != key || h.one == 0 {
		h.one = widget.NewLabel("1").MinSize().Height
		h.step = widget.NewLabel("1\n2").MinSize().Height - h.one
		h.key = key
	}
	return h.one, h.step
}

func (r reserved) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	var y float32
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		// A wrapping label's height depends on its width: size it first.
		o.Resize(fyne.NewSize(size.Width, o.MinSize().Height))
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h
	}
}

func (r reserved) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		if o.Visible() {
			m := o.MinSize()
			s.Width = max(s.Width, m.Width)
			s.Height += m.Height
		}
	}
	s.Height = max(s.Height, keptHeight(int(r)))
	return s
}
