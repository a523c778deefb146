package shell

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// Fyne draws a leading tab's icon at twice the inline icon size above its
// label, with the inner padding around both: 83 px a tab with the default
// theme, so at the default 720 px height only seven of the nine panels
// fitted and the rest hid behind an overflow menu. The navigation draws
// with these sizes instead (about 70 px a tab); every other size, and all
// colours and fonts, are the app theme's.
const (
	navInlineIcon   = 16 // default 20: the tab icon is 32 px, not 40
	navInnerPadding = 6  // default 8
)

// navTheme is the app's theme, read at each call so a theme or text-size
// switch in Settings applies here too, with the navigation's smaller
// icons and padding.
type navTheme struct {
	sizes map[fyne.ThemeSizeName]float32
}

func (navTheme) base() fyne.Theme { return fyne.CurrentApp().Settings().Theme() }

func (t navTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return t.base().Color(n, v)
}
func (t navTheme) Font(s fyne.TextStyle) fyne.Resource     { return t.base().Font(s) }
func (t navTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base().Icon(n) }

func (t navTheme) Size(n fyne.ThemeSizeName) float32 {
	if s, ok := t.sizes[n]; ok {
		return s
	}
	return t.base().Size(n)
}

// compactNav draws the navigation with the smaller sizes.
func compactNav(tabs *container.AppTabs) *container.ThemeOverride {
	return container.NewThemeOverride(tabs, navTheme{sizes: map[fyne.ThemeSizeName]float32{
		theme.SizeNameInlineIcon:   navInlineIcon,
		theme.SizeNameInnerPadding: navInnerPadding,
	}})
}

// scopeTabButtons draws the buttons of tabs appended since the override
// was made with the navigation's sizes: an override reaches only the
// widgets that exist when it walks its content, so Fyne asks for a Refresh
// after adding to it.
func scopeTabButtons(nav *container.ThemeOverride) { nav.Refresh() }
