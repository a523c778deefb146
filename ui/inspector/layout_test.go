package inspector

import (
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/topics"
)

// inspectorSize is the inspector's part of the app's default 1100 × 720
// window: the panel bar and the explorer's tree take the left 645 px.
var inspectorSize = fyne.NewSize(455, 720)

// A hex dump fits the inspector's width: each row is a whole dump row
// (offset, bytes, text), none wraps onto a row of its own.
func TestHexRowsFitTheInspector(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.win.Resize(inspectorSize)
	payload := make([]byte, 61) // the last row is partial
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	h.feed(rec("dev/raw", string(payload), 0))
	h.show("dev/raw")
	lv := h.in.lines
	cols := monoCols(lv.Size().Width)
	dumpRow := regexp.MustCompile(`^[0-9a-f]{8}  ([0-9a-f]{2} +)+ \|.*\|$`)
	seen := 0
	for i := range lv.rowCount() {
		r := lv.row(i)
		if !dumpRow.MatchString(r) {
			t.Errorf("row %d %q is not a whole dump row (the list fits %d columns)", i, r, cols)
		}
		if textCols(r) > cols {
			t.Errorf("row %d is %d columns, the list fits %d", i, textCols(r), cols)
		}
		if i := strings.Index(r, " |"); i >= 0 {
			seen += len(r) - (i + 2) - 1
		}
	}
	if seen != len(payload) {
		t.Errorf("the rows show %d bytes as text, want all %d", seen, len(payload))
	}
}

// cutLabels returns the labels under o that show less than their text:
// an ellipsis where the text did not fit.
func cutLabels(o fyne.CanvasObject) []string {
	var out []string
	visible(o, func(o fyne.CanvasObject) {
		l, ok := o.(*widget.Label)
		if !ok || l.Text == "" {
			return
		}
		var shown strings.Builder
		visible(l, func(o fyne.CanvasObject) {
			if t, ok := o.(*canvas.Text); ok {
				shown.WriteString(t.Text)
			}
		})
		if strings.Join(strings.Fields(shown.String()), "") != strings.Join(strings.Fields(l.Text), "") {
			out = append(out, l.Text)
		}
	})
	return out
}
