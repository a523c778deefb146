package window

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/shell"
)

type layoutPanel struct {
	title   string
	content fyne.CanvasObject
}

func (p layoutPanel) Title() string              { return p.title }
func (p layoutPanel) Icon() fyne.Resource        { return theme.ComputerIcon() }
func (p layoutPanel) Content() fyne.CanvasObject { return p.content }

// samePrefs hands a second app the first one's preferences, as the next
// start reads the same preferences file.
type samePrefs struct{ p fyne.Preferences }

func (samePrefs) ProviderDescription() string                  { return "test" }
func (samePrefs) ProviderIcon() fyne.Resource                  { return nil }
func (samePrefs) ProviderName() string                         { return "test" }
func (samePrefs) Setup(fyne.App) error                         { return nil }
func (samePrefs) Cleanup(fyne.App)                             {}
func (c samePrefs) CloudPreferences(fyne.App) fyne.Preferences { return c.p }

// layoutWindow is a main window with an Explorer-like split and two more
// panels, its layout restored from a's preferences.
func layoutWindow(t *testing.T, a fyne.App) (fyne.Window, *container.Split, *windowSettings) {
	t.Helper()
	split := container.NewHSplit(widget.NewLabel("tree"), widget.NewLabel("inspector"))
	w := shell.NewMainWindow(a, layoutPanel{"Explorer", split}, layoutPanel{"Publish", widget.NewLabel("form")}, layoutPanel{"Capture", widget.NewLabel("records")})
	t.Cleanup(w.Close)
	return w, split, rememberLayout(a, w, split)
}

// The next start opens with the size, split and panel the window had
// when it closed.
func TestWindowLayoutPersistsAcrossStarts(t *testing.T) {
	a := test.NewTempApp(t)
	w, split, s := layoutWindow(t, a)
	w.Resize(fyne.NewSize(1400, 900))
	split.SetOffset(0.35)
	shell.ShowPanel(w, layoutPanel{"Capture", shell.PageContent(mustTabs(w).Items[2])})
	s.save()

	next := test.NewTempApp(t)
	next.SetCloudProvider(samePrefs{a.Preferences()})
	w2, split2, _ := layoutWindow(t, next)
	if got := w2.Canvas().Size(); got != fyne.NewSize(1400, 900) {
		t.Errorf("the next start's window is %v, want 1400x900", got)
	}
	if split2.Offset != 0.35 {
		t.Errorf("the next start's split is at %v, want 0.35", split2.Offset)
	}
	if got := mustTabs(w2).Selected().Text; got != "Capture" {
		t.Errorf("the next start shows %q, want Capture", got)
	}
}

// A first start, or one after a squeezed window, keeps the defaults.
func TestWindowLayoutIgnoresUnusableValues(t *testing.T) {
	a := test.NewTempApp(t)
	a.Preferences().SetFloat(keyWidth, 20)
	a.Preferences().SetFloat(keyHeight, 10)
	a.Preferences().SetFloat(keySplit, 0.99)
	a.Preferences().SetString(keyPanel, "Gone")
	w, split, _ := layoutWindow(t, a)
	if got := w.Canvas().Size(); got.Width < minRestored.Width {
		t.Errorf("window restored at %v", got)
	}
	if split.Offset != 0.5 {
		t.Errorf("split restored at %v, want the default 0.5", split.Offset)
	}
	if got := mustTabs(w).Selected().Text; got != "Explorer" {
		t.Errorf("shows %q, want Explorer", got)
	}
}

// Ctrl+, opens the Settings dialog.
func TestShortcutOpensSettings(t *testing.T) {
	a := test.NewTempApp(t)
	w, _, _ := layoutWindow(t, a)
	w.Canvas().(fyne.Shortcutable).TypedShortcut(&desktopComma)
	top := w.Canvas().Overlays().Top()
	if top == nil || find(top, "Close") == nil {
		t.Fatal("Ctrl+, opened no Settings dialog")
	}
}

var desktopComma = desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}

// mustTabs is the navigation of a window made by shell.NewMainWindow.
func mustTabs(w fyne.Window) *container.AppTabs {
	tabs, ok := shell.Tabs(w)
	if !ok {
		panic(fmt.Sprintf("window content %T is not the main window's navigation", w.Content()))
	}
	return tabs
}
