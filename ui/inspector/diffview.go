package inspector

import (
	"fmt"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// diffContext is how many unchanged lines stay around each change; longer
// runs fold into one "⋯ N unchanged lines" row.
const diffContext = 3

// diffRow is one row of the diff list.
type diffRow struct {
	text string
	imp  widget.Importance
}

// diffView shows how the selected message differs from the one before it:
// the JSON paths that changed, then the line diff with unchanged runs
// folded. Rows wider than the pane wrap onto further list rows, as in the
// payload pane, so a long value can be read whole.
type diffView struct {
	header *widget.Label
	list   *wrapList
	rows   []diffRow
	shown  []diffRow // rows wrapped at cols columns
	cols   int
	box    fyne.CanvasObject
}

func newDiffView() *diffView {
	d := &diffView{header: widget.NewLabel(""), cols: 80}
	wrap(d.header)
	d.list = newWrapList(
		func() int { return len(d.shown) },
		func() fyne.CanvasObject {
			// Bare monospace text, as in the payload pane: a diff reads like
			// code, label padding would show half as many lines, and wrapping
			// counts columns.
			t := canvas.NewText("", theme.Color(theme.ColorNameForeground))
			t.TextStyle = fyne.TextStyle{Monospace: true}
			return indented(t)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			t := o.(*fyne.Container).Objects[0].(*canvas.Text)
			r := d.shown[id]
			t.Color = d.list.Theme().Color(importanceColor(r.imp), fyne.CurrentApp().Settings().ThemeVariant())
			t.Text = r.text
			t.Refresh()
		},
		d.rewrap)
	d.list.HideSeparators = true
	d.box = container.NewBorder(d.header, nil, nil, nil, d.list)
	return d
}

func (d *diffView) set(header string, rows []diffRow) {
	d.header.SetText(header)
	d.rows = rows
	d.shown = wrapRows(rows, d.cols)
	d.list.ScrollToTop()
	d.list.Refresh()
}

// rewrap wraps the rows again when the list's width in columns changes.
func (d *diffView) rewrap(cols int) {
	if cols == d.cols {
		return
	}
	d.cols = cols
	d.shown = wrapRows(d.rows, cols)
	d.list.Refresh()
}

// wrapRows splits rows wider than cols columns into rows of at most cols,
// each piece keeping its row's colour. Rows break after a space, so that
// a number or value stays whole ("28.7", never "28." and "7"); only a word
// wider than cols is cut.
func wrapRows(rows []diffRow, cols int) []diffRow {
	out := make([]diffRow, 0, len(rows))
	for _, r := range rows {
		for rest := r.text; rest != ""; {
			piece := wordPiece(rest, cols)
			out = append(out, diffRow{text: piece, imp: r.imp})
			rest = rest[len(piece):]
		}
	}
	return out
}

// wordPiece returns the head of s that fills a row of cols columns: all of
// s when it fits, else up to its last space within cols, else (one word
// wider than the row) cols columns of it.
func wordPiece(s string, cols int) string {
	cols = max(cols, 1)
	col, lastSpace := 0, -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		w := 1
		if r == '\t' {
			w = tabCols
		}
		if col+w > cols {
			if lastSpace > 0 {
				return s[:lastSpace]
			}
			if i == 0 {
				return s[:size] // a tab wider than the row
			}
			return s[:i]
		}
		col += w
		i += size
		if r == ' ' || r == '\t' {
			lastSpace = i
		}
	}
	return s
}

// wrapList is a list that reports how many monospace columns fit in it
// whenever its width changes, so that its rows can be wrapped to fit.
type wrapList struct {
	widget.List
	onCols func(cols int)
	cols   int
}

func newWrapList(length func() int, create func() fyne.CanvasObject,
	update func(widget.ListItemID, fyne.CanvasObject), onCols func(int)) *wrapList {
	l := &wrapList{onCols: onCols}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.ExtendBaseWidget(l)
	return l
}

func (l *wrapList) Resize(s fyne.Size) {
	l.List.Resize(s)
	if c := monoCols(s.Width); c != l.cols {
		l.cols = c
		l.onCols(c)
	}
}

// texts returns the rows' text, for tests.
func (d *diffView) texts() []string {
	out := make([]string, len(d.rows))
	for i, r := range d.rows {
		out[i] = r.text
	}
	return out
}

// diffContent turns a comparison into the header and rows shown.
func diffContent(c *decode.Comparison, prev *entry) (string, []diffRow) {
	when := prev.rec.Time.Local().Format(timeLayout)
	var header string
	switch {
	case c.Equal && c.JSON:
		header = fmt.Sprintf(lang.L("Same JSON document as the message before it (%s)."), when)
	case c.Equal:
		header = fmt.Sprintf(lang.L("Identical to the message before it (%s)."), when)
	case c.JSON:
		header = fmt.Sprintf(lang.L("Compared as JSON with the message before it (%s): %s."), when, numfmt.Plural(len(c.Changes), "change", "changes"))
	default:
		header = fmt.Sprintf(lang.L("Compared line by line with the message before it (%s)."), when)
	}
	switch {
	case c.TooLarge && c.Equal:
		header += " " + fmt.Sprintf(lang.X("diff.note.toolarge.same", "Payloads too large to compare line by line (%s and %s); they are identical."),
			numfmt.Bytes(c.Sizes[0]), numfmt.Bytes(c.Sizes[1]))
	case c.TooLarge:
		header += " " + fmt.Sprintf(lang.X("diff.note.toolarge.differ", "Payloads too large to compare line by line (%s and %s); they differ."),
			numfmt.Bytes(c.Sizes[0]), numfmt.Bytes(c.Sizes[1]))
	case c.Middle != [2]int{}:
		header += " " + fmt.Sprintf(lang.X("diff.note.middle", "The changed part is too large for a minimal diff (%s × %s lines): shown as removed, then added."),
			numfmt.Count(c.Middle[0]), numfmt.Count(c.Middle[1]))
	}
	var rows []diffRow
	for _, ch := range c.Changes {
		path := ch.Path
		if path == "" {
			path = lang.L("(whole document)")
		}
		switch ch.Op {
		case decode.Added:
			rows = append(rows, diffRow{text: fmt.Sprintf(lang.X("diff.added", "added    %s = %s"), path, ch.New), imp: widget.SuccessImportance})
		case decode.Removed:
			rows = append(rows, diffRow{text: fmt.Sprintf(lang.X("diff.removed", "removed  %s (was %s)"), path, ch.Old), imp: widget.DangerImportance})
		default:
			rows = append(rows, diffRow{text: fmt.Sprintf(lang.X("diff.changed", "changed  %s: %s → %s"), path, ch.Old, ch.New), imp: widget.WarningImportance})
		}
	}
	if len(c.Lines) > 0 && !c.Equal {
		if len(rows) > 0 {
			rows = append(rows, diffRow{text: lang.L("Lines:"), imp: widget.MediumImportance})
		}
		rows = append(rows, foldLines(c.Lines, diffContext)...)
	}
	return header, rows
}

// foldLines renders a line diff, keeping ctx unchanged lines around each
// change and folding longer unchanged runs into one row.
func foldLines(lines []decode.DiffLine, ctx int) []diffRow {
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op == decode.Same {
			continue
		}
		for k := max(0, i-ctx); k <= min(len(lines)-1, i+ctx); k++ {
			keep[k] = true
		}
	}
	var rows []diffRow
	for i := 0; i < len(lines); {
		if !keep[i] {
			j := i
			for j < len(lines) && !keep[j] {
				j++
			}
			rows = append(rows, diffRow{text: "⋯ " + numfmt.Plural(j-i, "unchanged line", "unchanged lines"), imp: widget.LowImportance})
			i = j
			continue
		}
		l := lines[i]
		switch l.Op {
		case decode.Added:
			rows = append(rows, diffRow{text: "+ " + l.Text, imp: widget.SuccessImportance})
		case decode.Removed:
			rows = append(rows, diffRow{text: "- " + l.Text, imp: widget.DangerImportance})
		default:
			rows = append(rows, diffRow{text: "  " + l.Text})
		}
		i++
	}
	return rows
}

// importanceColor is the theme colour a label of importance imp would
// have.
func importanceColor(imp widget.Importance) fyne.ThemeColorName {
	switch imp {
	case widget.SuccessImportance:
		return theme.ColorNameSuccess
	case widget.DangerImportance:
		return theme.ColorNameError
	case widget.WarningImportance:
		return theme.ColorNameWarning
	case widget.LowImportance:
		return theme.ColorNamePlaceHolder
	}
	return theme.ColorNameForeground
}
