package explorer

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/iotstudio/iotstudio/ui/settings"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// rowPitch is the distance between the tops of the first two rows shown.
func (h *harness) rowPitch(t *testing.T) float32 {
	t.Helper()
	var ys []float32
	for _, r := range h.shownRows() {
		ys = append(ys, fyne.CurrentApp().Driver().AbsolutePositionForObject(r).Y)
	}
	if len(ys) < 2 {
		t.Fatalf("%d rows shown, want at least 2", len(ys))
	}
	lo, next := ys[0], float32(1e9)
	for _, y := range ys {
		lo = min(lo, y)
	}
	for _, y := range ys {
		if y > lo {
			next = min(next, y)
		}
	}
	return next - lo
}

// The compact tree of Settings fits more topics: its rows are closer.
func TestCompactDensityMakesTreeRowsShorter(t *testing.T) {
	h := newHarness(t)
	for _, topic := range []string{"plant/a", "plant/b", "plant/c"} {
		h.pub(t, topic, "1", false)
	}
	h.open(t, "plant")
	settings.Apply(h.app, settings.Default())
	uitest.Relayout(h.win)
	normal := h.rowPitch(t)

	compact := settings.Default()
	compact.Density = settings.DensityCompact
	settings.Apply(h.app, compact)
	uitest.Relayout(h.win)
	if got := h.rowPitch(t); got >= normal-6 {
		t.Errorf("compact rows are %v px apart, normal ones %v: want at least 6 px less", got, normal)
	}
}

// A larger text size in Settings widens the names already shown rather
// than cut them with an ellipsis.
func TestLargerTextKeepsNamesWhole(t *testing.T) {
	h := newHarness(t)
	h.pub(t, "plant/temperature", "1", false)
	h.open(t, "plant")
	settings.Apply(h.app, settings.Default())
	uitest.Relayout(h.win)

	larger := settings.Default()
	larger.FontPercent = 130
	settings.Apply(h.app, larger)
	uitest.Relayout(h.win)
	r := h.shownRow(h.id(t, "plant/temperature"))
	if r == nil {
		t.Fatal("the topic is not shown")
	}
	th := r.Theme()
	want := fyne.MeasureText(r.name.Text, th.Size(theme.SizeNameText), r.name.TextStyle).Width
	if got := r.name.Size().Width; got < want {
		t.Errorf("at 130 %% the name %q is %v px wide, its text %v: cut", r.name.Text, got, want)
	}
}

// Rows shown in the tree cost what their widgets take, not fonts of
// their own: with a theme override per row (the compact density), Fyne
// parsed its fonts again for every row and text style and kept them:
// showing 14 rows took 244 MB, 17 MB a row.
func TestShownRowsDoNotEachHoldFonts(t *testing.T) {
	h := newHarness(t)
	for i := range 20 {
		h.pub(t, fmt.Sprintf("plant/sensor-%02d", i), fmt.Sprintf(`{"t":%d.5}`, i), false)
	}
	h.q.Until(t, "the root row to be shown", func() bool { return h.shownRow(h.root(t)) != nil })
	h.win.Canvas().Capture() // the root row draws its three text styles
	before := uitest.LiveHeap()

	h.open(t, "plant")
	h.win.Canvas().Capture()
	grown := float64(uitest.LiveHeap()) - float64(before)
	rows := len(h.shownRows())
	if rows < 10 {
		t.Fatalf("%d rows shown, want at least 10", rows)
	}
	t.Logf("%d rows: heap +%.1f MB", rows, grown/1e6)
	if perRow := grown / float64(rows); perRow > 1<<20 {
		t.Errorf("showing %d rows grew the heap by %.0f MB, %.1f MB a row: want under 1 MB a row", rows, grown/1e6, perRow/1e6)
	}
}
