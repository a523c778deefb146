package tablefit

import (
	"runtime"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Fit asks for widths at every new width of the table, with the gap the
// table really keeps between columns (its padding: counting a 1 px
// separator instead left the Broker panel's last column 21 px past the
// edge in the real window).
func TestFitAsksAtEachWidthWithTheTablesGap(t *testing.T) {
	test.NewTempApp(t)
	table := widget.NewTable(
		func() (int, int) { return 1, 2 },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(widget.TableCellID, fyne.CanvasObject) {})
	var asked []float32
	var gaps []float32
	fitted := Fit(table, func(width, gap float32) []float32 {
		asked, gaps = append(asked, width), append(gaps, gap)
		return []float32{100, width - 100 - 2*gap}
	})
	w := test.NewTempWindow(t, fitted)
	for _, width := range []float32{900, 700} {
		w.Resize(fyne.NewSize(width, 300))
		if got := asked[len(asked)-1]; got != table.Size().Width {
			t.Errorf("at a %v px window widths were asked for %v px, the table is %v", width, got, table.Size().Width)
		}
	}
	for _, g := range gaps {
		if g != theme.Padding() {
			t.Fatalf("gap %v, the table keeps %v between columns", g, theme.Padding())
		}
	}
}

// Measuring a table's headings again at each layout makes no widgets:
// each measurement made a label, whose renderer Fyne keeps for a minute.
func TestMeasuringAgainMakesNoWidgets(t *testing.T) {
	test.NewTempApp(t)
	first := HeadingWidth("Last error")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 1000 {
		HeadingWidth("Last error")
		TextWidth("reconnecting")
	}
	runtime.ReadMemStats(&after)
	if got := after.Mallocs - before.Mallocs; got > 2000 {
		t.Errorf("2,000 measurements made %d allocations: want them kept", got)
	}
	if got := HeadingWidth("Last error"); got != first {
		t.Errorf("the heading measured %v, then %v", first, got)
	}
}

// A larger text size (Settings) measures wider.
func TestWidthsFollowTheTextSize(t *testing.T) {
	a := test.NewTempApp(t)
	normal := TextWidth("reconnecting")
	a.Settings().SetTheme(largerText{theme.DefaultTheme()})
	if got := TextWidth("reconnecting"); got <= normal {
		t.Errorf("at a larger text size the width is %v, at the normal one %v", got, normal)
	}
}

type largerText struct{ fyne.Theme }

func (t largerText) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameText {
		return 1.5 * t.Theme.Size(n)
	}
	return t.Theme.Size(n)
}
