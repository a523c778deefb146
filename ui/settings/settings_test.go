package settings

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// newWindow is a window of a new test app with the saved settings
// applied, as the app starts.
func newWindow(t *testing.T) (fyne.App, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	Restore(a)
	w := test.NewTempWindow(t, widget.NewLabel("Explorer"))
	w.Resize(fyne.NewSize(600, 400))
	return a, w
}

// background is the colour of the window's corner, where nothing but
// the canvas is drawn.
func background(w fyne.Window) color.Color {
	img := w.Canvas().Capture()
	return img.At(img.Bounds().Max.X-2, img.Bounds().Max.Y-2)
}

func same(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2
}

func TestDialogThemeSwitchesTheVariant(t *testing.T) {
	a, w := newWindow(t)
	d := Show(a, w, Options{})
	d.theme.SetSelected("Light")
	d.Hide()
	light := background(w)
	if want := theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantLight); !same(light, want) {
		t.Errorf("after choosing Light the window's background is %v, want %v", light, want)
	}
	d = Show(a, w, Options{})
	d.theme.SetSelected("Dark")
	d.Hide()
	dark := background(w)
	if want := theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark); !same(dark, want) {
		t.Errorf("after choosing Dark the window's background is %v, want %v", dark, want)
	}
}

func TestDialogFontSizeScalesText(t *testing.T) {
	a, w := newWindow(t)
	label := widget.NewLabel("temperature 21.5")
	w.SetContent(label)
	before := label.MinSize()
	d := Show(a, w, Options{})
	d.font.SetSelected("130 %")
	d.Hide()
	label.Refresh()
	after := label.MinSize()
	if after.Width < before.Width*1.25 || after.Height <= before.Height {
		t.Errorf("at 130 %% the label is %v, at 100 %% %v: want about 1.3 times larger", after, before)
	}
}

// prefsProvider hands an app the preferences it was made with: a
// second app on the same store, as the next start reads the same file.
type prefsProvider struct{ p fyne.Preferences }

func (prefsProvider) ProviderDescription() string                  { return "test" }
func (prefsProvider) ProviderIcon() fyne.Resource                  { return nil }
func (prefsProvider) ProviderName() string                         { return "test" }
func (prefsProvider) Setup(fyne.App) error                         { return nil }
func (prefsProvider) Cleanup(fyne.App)                             {}
func (c prefsProvider) CloudPreferences(fyne.App) fyne.Preferences { return c.p }

func TestSettingsPersistAcrossStarts(t *testing.T) {
	a, w := newWindow(t)
	store := a.Preferences()
	d := Show(a, w, Options{})
	d.theme.SetSelected("Dark")
	d.dense.SetSelected("Compact")
	d.font.SetSelected("120 %")
	d.Hide()

	next := test.NewTempApp(t)
	next.SetCloudProvider(prefsProvider{store})
	got := Restore(next)
	want := Settings{Theme: ThemeDark, Density: DensityCompact, FontPercent: 120}
	if got != want {
		t.Fatalf("the next start restored %+v, want %+v", got, want)
	}
	th := next.Settings().Theme()
	if bg := th.Color(theme.ColorNameBackground, theme.VariantLight); !same(bg, theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark)) {
		t.Errorf("the next start's background is %v, want the dark one", bg)
	}
	if s, want := th.Size(theme.SizeNameText), theme.DefaultTheme().Size(theme.SizeNameText)*1.2; math.Abs(float64(s-want)) > 0.01 {
		t.Errorf("the next start's text size is %v, want 120 %%", s)
	}
}

// Unknown values (a hand-edited file, a later version's choice) start
// with the defaults.
func TestLoadIgnoresUnknownValues(t *testing.T) {
	a := test.NewTempApp(t)
	a.Preferences().SetString(keyTheme, "sepia")
	a.Preferences().SetInt(keyFont, 400)
	if got := Load(a.Preferences()); got != Default() {
		t.Errorf("Load = %+v, want the defaults", got)
	}
}
