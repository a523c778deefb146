package inspector

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// lineView shows a decoded view's lines in a virtualised list: only the
// rows on screen exist as widgets, and each asks the Result for its line,
// so a 10 MB payload costs what a screenful costs. Lines wider than the
// view wrap onto further rows (rowMap), so every byte can be read without
// a horizontal scrollbar.
type lineView struct {
	widget.BaseWidget
	list  *widget.List
	res   *decode.Result
	lens  lineLens
	rows  rowMap
	cache lineCache
}

func newLineView() *lineView {
	v := &lineView{}
	v.list = widget.NewList(
		func() int { return v.rows.rows },
		func() fyne.CanvasObject {
			// Bare text rather than a label: a label's padding would make
			// rows twice the height of a line of code. The list clips what
			// is wider than it, so a wide character cannot widen it.
			t := canvas.NewText("", theme.Color(theme.ColorNameForeground))
			t.TextStyle = fyne.TextStyle{Monospace: true}
			return indented(t)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			t := o.(*fyne.Container).Objects[0].(*canvas.Text)
			t.Color = v.Theme().Color(theme.ColorNameForeground, fyne.CurrentApp().Settings().ThemeVariant())
			t.Text = v.row(id)
			t.Refresh()
		})
	v.list.HideSeparators = true
	v.ExtendBaseWidget(v)
	return v
}

func (v *lineView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.list)
}

// set shows res, whose line widths are lens; nil clears the view.
func (v *lineView) set(res *decode.Result, lens lineLens) {
	if res == v.res {
		return
	}
	v.res, v.lens = res, lens
	v.cache.reset(res)
	v.layoutRows(v.cols(v.Size().Width))
	v.list.ScrollToTop()
	v.list.Refresh()
}

// layoutRows maps the view's lines to rows of cols columns. A hex dump
// whose 16-byte rows do not fit is shown 8 bytes a row instead, so that
// its rows stay whole rather than wrap mid-byte.
func (v *lineView) layoutRows(cols int) {
	if v.lens.hex > 0 {
		per := decode.HexBytesPerLine
		if cols < hexCols(per) {
			per = narrowHexBytes
		}
		if per != v.lens.hex {
			v.lens = hexLens(len(v.res.Bytes), per)
		}
	}
	v.rows = newRowMap(&v.lens, cols)
}

// cols is how many monospace columns fit in a row of width w.
func (v *lineView) cols(w float32) int { return monoCols(w) }

// monoCols is how many monospace columns fit in a list row of width w.
func monoCols(w float32) int {
	charW := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{Monospace: true}).Width
	// Keep a scroll bar's width and one column spare, so that neither the
	// bar nor a rounding error hides the end of a row.
	avail := w - theme.InnerPadding() - theme.ScrollBarSize() - theme.Padding()
	if avail <= 0 || charW <= 0 {
		return 80 // not laid out yet; corrected by the first Resize
	}
	return max(int(avail/charW)-1, 8)
}

// Resize rewraps the lines when the number of columns changes.
func (v *lineView) Resize(s fyne.Size) {
	v.BaseWidget.Resize(s)
	if c := v.cols(s.Width); c != v.rows.cols && v.res != nil {
		v.layoutRows(c)
		v.list.Refresh()
	}
}

// row returns the text of list row id.
func (v *lineView) row(id int) string {
	if v.res == nil || id >= v.rows.rows {
		return ""
	}
	line, seg := v.rows.locate(id)
	if v.lens.hex > 0 && v.lens.hex != decode.HexBytesPerLine {
		return segment(hexRow(v.res.Bytes, line, v.lens.hex), seg, v.rows.cols)
	}
	return segment(v.cache.line(line), seg, v.rows.cols)
}

// indented lines a list row's text up with the labels around the list.
func indented(o fyne.CanvasObject) *fyne.Container {
	return container.New(layout.NewCustomPaddedLayout(0, 0, theme.InnerPadding(), 0), o)
}

// rowCount is how many rows the list has.
func (v *lineView) rowCount() int { return v.rows.rows }

// summary describes the view for the status line: "1,234 lines".
func (v *lineView) summary() string {
	if v.res == nil {
		return ""
	}
	return numfmt.Plural(v.lens.n, "line", "lines")
}
