package settings

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/iotstudio/iotstudio/ui/density"
)

// appTheme is Fyne's default theme with the user's variant, text size
// and tree density, and legible secondary text.
type appTheme struct {
	s    Settings
	base fyne.Theme
}

// NewTheme is the app's theme for s.
func NewTheme(s Settings) fyne.Theme {
	return appTheme{s: s, base: theme.DefaultTheme()}
}

// variant is the one to draw: the user's fixed choice, or the system's
// (v, as Fyne asks) when the user follows the system.
func (t appTheme) variant(v fyne.ThemeVariant) fyne.ThemeVariant {
	switch t.s.Theme {
	case ThemeLight:
		return theme.VariantLight
	case ThemeDark:
		return theme.VariantDark
	}
	return v
}

func (t appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	v = t.variant(v)
	if c, ok := legible(n, v); ok {
		return c
	}
	return t.base.Color(n, v)
}

func (t appTheme) Font(s fyne.TextStyle) fyne.Resource     { return t.base.Font(s) }
func (t appTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base.Icon(n) }

func (t appTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case density.SizeNameTreePadding:
		if t.s.Density == DensityCompact {
			return density.Compact
		}
		return 1
	case theme.SizeNameText, theme.SizeNameCaptionText, theme.SizeNameHeadingText,
		theme.SizeNameSubHeadingText, theme.SizeNameInlineIcon:
		return t.base.Size(n) * float32(t.s.FontPercent) / 100
	}
	return t.base.Size(n)
}
