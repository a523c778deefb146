package subscribe

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// denseTheme is the app's theme with a quarter of its padding, for the
// message list: each row is one line of small labels, and with the
// theme's padding a row took 39 px, so nine messages filled the list at
// the default window size. Colours, fonts and text sizes stay the app's,
// read at each call so a theme switch applies here too.
type denseTheme struct{}

func (denseTheme) base() fyne.Theme { return fyne.CurrentApp().Settings().Theme() }

func (t denseTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return t.base().Color(n, v)
}
func (t denseTheme) Font(s fyne.TextStyle) fyne.Resource     { return t.base().Font(s) }
func (t denseTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base().Icon(n) }

func (t denseTheme) Size(n fyne.ThemeSizeName) float32 {
	s := t.base().Size(n)
	if n == theme.SizeNamePadding || n == theme.SizeNameInnerPadding {
		return s / 4
	}
	return s
}

// dense draws o with denseTheme.
func dense(o fyne.CanvasObject) fyne.CanvasObject { return container.NewThemeOverride(o, denseTheme{}) }
