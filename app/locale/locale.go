// Package locale has one job: make a C or POSIX locale read as
// en_US.UTF-8 before Fyne looks at it. Fyne's lang package parses the
// locale in its init and prints "Fyne error: Error parsing user locale C"
// on every run under C, POSIX or C.UTF-8, the default of Debian
// containers and many CI machines, headless subcommands included.
//
// Go initialises packages in import-path order among those whose imports
// are ready, and Fyne's lang waits for github.com/nicksnyder/go-i18n,
// which sorts after this package, so this init runs first wherever the
// package is imported (main.go imports it).
package locale

import (
	"os"
	"strings"
)

func init() { fixEnv(os.Getenv, os.Setenv) }

// Fallback is what a C or POSIX locale is read as.
const Fallback = "en_US.UTF-8"

// fixEnv replaces the variable that decides the messages locale (the
// first set of LC_ALL, LC_MESSAGES, LANG, as POSIX orders them) with
// Fallback when it names the C or POSIX locale, or sets LANG when none is
// set. A real locale is left alone.
func fixEnv(get func(string) string, set func(string, string) error) {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := get(name)
		if v == "" {
			continue
		}
		if isCLocale(v) {
			_ = set(name, Fallback)
		}
		return
	}
	_ = set("LANG", Fallback)
}

func isCLocale(v string) bool {
	base, _, _ := strings.Cut(v, ".")
	return base == "C" || base == "POSIX"
}
