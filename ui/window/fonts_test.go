package window

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/uitest"
)

// Fyne parses its fonts again for each text style and each theme override
// it draws, and with them its bundled 4.2 MB colour emoji font: five
// styles in a new scope grew the heap by 31 MB with it, 7.4 MB without.
// The window's RSS was 30 MB more at start and 25 MB more after issue 11's
// burst, over its 300 MB bound. The app is built with Fyne's no_emoji tag
// (Makefile, packaging), so emoji come from the system's font, loaded once
// and only when one is drawn.
func TestTextStylesDoNotEachParseAnEmojiFont(t *testing.T) {
	test.NewTempApp(t)
	styles := []fyne.TextStyle{{}, {Bold: true}, {Italic: true}, {Bold: true, Italic: true}, {Monospace: true}}
	labels := container.NewVBox()
	for _, s := range styles {
		labels.Add(widget.NewLabelWithStyle("Temperature 21.5 °C", fyne.TextAlignLeading, s))
	}
	// A theme override of its own is a font scope nothing has drawn in
	// yet, whatever other tests of this package drew before.
	w := test.NewTempWindow(t, container.NewThemeOverride(labels, theme.DefaultTheme()))
	before := uitest.LiveHeap()
	w.Canvas().Capture()
	grown := float64(uitest.LiveHeap()) - float64(before)
	t.Logf("drawing %d text styles in a new scope: heap +%.1f MB", len(styles), grown/1e6)
	if grown > 16e6 {
		t.Errorf("drawing %d text styles in a new theme scope grew the heap by %.0f MB, want under 16 MB: "+
			"build and test with -tags no_emoji (make test does), which leaves out Fyne's bundled emoji font", len(styles), grown/1e6)
	}
}
