// Package translations holds the window's text in English, Russian and
// Simplified Chinese as Fyne lang files (json/en.json, ru.json, zh-CN.json),
// and registers them with fyne.io/fyne/v2/lang at start. Fyne then picks
// the language from the OS locale (LANGUAGE, LC_ALL, LC_MESSAGES or LANG
// on Linux); a choice made in Settings overrides it at the next start.
//
// To add a language, add its JSON file here with every key of en.json
// (TestCatalogues checks that), and add it to Choices.
package translations

import (
	"embed"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
)

//go:embed json/*.json
var files embed.FS

// Choice is a language the user can ask for; System leaves it to the OS.
type Choice string

const (
	System  Choice = ""
	English Choice = "en"
	Russian Choice = "ru"
	Chinese Choice = "zh-CN"
)

// Choices are the languages offered in Settings, in the order shown.
var Choices = []Choice{System, English, Russian, Chinese}

// Name is how Settings lists c: each language in its own words, so that
// a user who cannot read the current one still finds theirs. System's
// name is translated by the caller.
func (c Choice) Name() string {
	switch c {
	case English:
		return "English"
	case Russian:
		return "Русский"
	case Chinese:
		return "简体中文"
	}
	return "System"
}

// Valid reports whether c is one this build knows; a preferences file
// from a later version may hold another.
func (c Choice) Valid() bool {
	for _, k := range Choices {
		if k == c {
			return true
		}
	}
	return false
}

// CanChoose reports whether a language chosen in Settings takes effect
// here: Fyne reads LANGUAGE on Linux and BSD only; on Windows and macOS
// it asks the OS, so the window follows the OS's language.
func CanChoose() bool { return runtime.GOOS != "windows" && runtime.GOOS != "darwin" }

var (
	registered atomic.Bool
	generation atomic.Uint64 // counts Register and Forget calls
)

// Generation changes whenever the language the window speaks may have
// (Register, Forget): what is worked out once per language, numfmt's
// separators, is worked out again when it differs.
func Generation() uint64 { return generation.Load() }

// Registered reports whether Register ran: before it (in widget tests)
// the window speaks English from the strings in the code, and numfmt
// counts the English way.
func Registered() bool { return registered.Load() }

// Forget undoes what Register told the rest of the window, for tests that
// switch the language and back: Registered reports false again, so numfmt
// counts the English way the other widget tests expect. Fyne keeps the
// catalogues; English is what they say with an English locale.
func Forget() {
	registered.Store(false)
	generation.Add(1)
}

// Register loads the translations and picks the language: c, or the OS's
// when c is System. Call it once at start, before any window is built:
// Fyne's lang has no way to change the language of widgets already made.
//
// Fyne reads the language from the environment (on Linux, BSD) or the OS
// settings (Windows, macOS); a chosen language is passed by setting
// LANGUAGE, which Fyne reads before LANG on Linux and BSD, the platforms
// this override works on.
func Register(c Choice) error {
	if c != System && CanChoose() {
		if err := os.Setenv("LANGUAGE", strings.ReplaceAll(string(c), "-", "_")); err != nil {
			return fmt.Errorf("choose the language %s: %w", c, err)
		}
	}
	for _, f := range catalogues {
		data, err := files.ReadFile("json/" + f.file)
		if err != nil {
			return fmt.Errorf("load the window's translations: %w", err)
		}
		if err := lang.AddTranslationsForLocale(data, f.tag); err != nil {
			return fmt.Errorf("load the window's translations from %s: %w", f.file, err)
		}
	}
	if err := englishForOthers(lang.SystemLocale()); err != nil {
		return err
	}
	registered.Store(true)
	generation.Add(1)
	return nil
}

// catalogues names the tag each file is registered under. Chinese goes
// under zh-Hans, the tag of Fyne's own Chinese (its dialogs' Cancel, OK):
// under zh-CN, a zh_CN.UTF-8 locale picks our file and loses Fyne's.
var catalogues = []struct {
	file string
	tag  fyne.Locale
}{
	{"en.json", "en"},
	{"ru.json", "ru"},
	{"zh-CN.json", "zh-Hans"},
}

// englishForOthers registers the English text under the language of loc
// when it is not one of ours (de, fr…): Fyne picks the language from its
// own translations, which cover more, and would otherwise log "Translation
// failure" for every string of the window before showing it in English.
// Fyne's own dialogs stay in that language.
func englishForOthers(loc fyne.Locale) error {
	l, _, _ := strings.Cut(loc.String(), "-")
	switch l {
	case "en", "ru", "zh":
		return nil
	default:
		data, err := files.ReadFile("json/en.json")
		if err != nil {
			return fmt.Errorf("load the window's translations: %w", err)
		}
		if err := lang.AddTranslationsForLocale(data, fyne.Locale(l)); err != nil {
			return fmt.Errorf("load the English text for the locale %s: %w", loc, err)
		}
		return nil
	}
}
