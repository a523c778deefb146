// Package settings is the window's Settings: the theme (light, dark or
// the system's), the Explorer tree's density, the text size and the
// language (ui/translations; it applies at the next start), kept in
// Fyne's preferences and applied as the app's theme. The theme also
// fixes Fyne's grey secondary text, which was hard to read in the dark
// variant and nearly invisible in the light one (contrast.go). The
// Settings dialog applies each change at once and saves it.
package settings

import (
	"fmt"
	"log/slog"
	"slices"

	"fyne.io/fyne/v2"

	"github.com/iotstudio/iotstudio/ui/translations"
)

// ThemeMode is the colour variant the user chose.
type ThemeMode string

const (
	ThemeSystem ThemeMode = "system" // the OS's (or FYNE_THEME's) choice
	ThemeLight  ThemeMode = "light"
	ThemeDark   ThemeMode = "dark"
)

// Density is how tightly the Explorer's tree packs its rows.
type Density string

const (
	DensityNormal  Density = "normal"
	DensityCompact Density = "compact" // a quarter of the padding: 27 px rows instead of 39
)

// FontPercents are the text sizes offered, in percent of Fyne's.
var FontPercents = []int{90, 100, 110, 120, 130}

// Settings are the user's choices.
type Settings struct {
	Theme       ThemeMode
	Density     Density
	FontPercent int
	// Language is the window's language; System follows the OS locale.
	Language translations.Choice
}

// Default is what a first start uses: the system's colours, Fyne's sizes.
func Default() Settings {
	return Settings{Theme: ThemeSystem, Density: DensityNormal, FontPercent: 100}
}

// Preference keys. They are stored in the app's preferences.json beside
// the broker's settings (ui/brokerpanel), hence the prefix.
const (
	keyTheme   = "settings.theme"
	keyDensity = "settings.density"
	keyFont    = "settings.fontPercent"
	keyLang    = "settings.language"
)

// Load reads the settings from p; a missing or unknown value (a file
// edited by hand, a later version's choice) falls back to its default
// rather than fail the start.
func Load(p fyne.Preferences) Settings {
	s := Default()
	switch m := ThemeMode(p.String(keyTheme)); m {
	case ThemeLight, ThemeDark, ThemeSystem:
		s.Theme = m
	}
	switch d := Density(p.String(keyDensity)); d {
	case DensityNormal, DensityCompact:
		s.Density = d
	}
	if f := p.Int(keyFont); slices.Contains(FontPercents, f) {
		s.FontPercent = f
	}
	if l := translations.Choice(p.String(keyLang)); l.Valid() {
		s.Language = l
	}
	return s
}

// Save writes s to p.
func (s Settings) Save(p fyne.Preferences) {
	p.SetString(keyTheme, string(s.Theme))
	p.SetString(keyDensity, string(s.Density))
	p.SetInt(keyFont, s.FontPercent)
	p.SetString(keyLang, string(s.Language))
}

// Apply makes s the app's theme; Fyne redraws every window.
func Apply(a fyne.App, s Settings) {
	a.Settings().SetTheme(NewTheme(s))
}

// Restore applies the settings saved in a's preferences, the language
// included: call it once at start, before the window is built. A
// language that fails to load leaves the window in English, logged.
func Restore(a fyne.App) Settings {
	s := Load(a.Preferences())
	if err := translations.Register(s.Language); err != nil {
		slog.Warn("the window stays in English", "err", err)
	}
	Apply(a, s)
	return s
}

func fontLabel(pct int) string { return fmt.Sprintf("%d %%", pct) }
