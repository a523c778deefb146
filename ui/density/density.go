// Package density draws parts of the window with less padding than the
// app's theme: lists whose rows are one line of small labels (the
// Subscribe panel's messages) always, and the Explorer's tree when the
// user chose the compact tree in Settings. Colours, fonts and text sizes
// stay the app theme's, read at each call, so a theme switch applies here
// too.
package density

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// SizeNameTreePadding is a size the app's theme (ui/settings) answers
// with the factor applied to the Explorer tree's padding: 1 for the
// normal tree, Compact for the compact one. A theme that does not know
// the name answers 0, read as 1. Asking the theme rather than holding a
// flag here lets the Settings dialog change the tree with the one
// SetTheme that already refreshes every window.
const SizeNameTreePadding fyne.ThemeSizeName = "iotstudio-tree-padding"

// Compact is the padding factor of dense rows: with the theme's padding a
// one-line row took 39 px, with a quarter of it 27 px.
const Compact float32 = 0.25

// scaled is the app's theme with its padding multiplied by factor(base).
type scaled struct {
	factor func(base fyne.Theme) float32
}

func (scaled) base() fyne.Theme { return fyne.CurrentApp().Settings().Theme() }

func (t scaled) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return t.base().Color(n, v)
}
func (t scaled) Font(s fyne.TextStyle) fyne.Resource     { return t.base().Font(s) }
func (t scaled) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base().Icon(n) }

func (t scaled) Size(n fyne.ThemeSizeName) float32 {
	b := t.base()
	s := b.Size(n)
	if n == theme.SizeNamePadding || n == theme.SizeNameInnerPadding {
		return s * t.factor(b)
	}
	return s
}

// Dense draws o with a quarter of the theme's padding, always.
func Dense(o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewThemeOverride(o, scaled{factor: func(fyne.Theme) float32 { return Compact }})
}

// Tree draws o with the padding the app's theme asks of the Explorer's
// tree (SizeNameTreePadding).
func Tree(o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewThemeOverride(o, scaled{factor: treeFactor})
}

func treeFactor(base fyne.Theme) float32 {
	if f := base.Size(SizeNameTreePadding); f > 0 {
		return f
	}
	return 1
}

// DensePadding is the padding Dense draws with now, for code that
// measures rows (scrolling a list by whole rows).
func DensePadding() float32 {
	return scaled{}.base().Size(theme.SizeNamePadding) * Compact
}
