package uitest

import (
	"os"
	"testing"

	"github.com/iotstudio/iotstudio/ui/translations"
)

// InLanguage makes the window speak c for the rest of the test, as a start
// with that language chosen would, and English again afterwards: Fyne's
// language is global to the process. Widgets made after the call show
// their text in c. Not for parallel tests.
func InLanguage(t testing.TB, c translations.Choice) {
	t.Helper()
	for _, k := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES"} {
		setenv(t, k, "")
	}
	setenv(t, "LANG", "en_US.UTF-8")
	was := translations.Registered()
	if err := translations.Register(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Register set LANGUAGE itself; the English system is restored
		// before the variables are.
		_ = os.Setenv("LANGUAGE", "")
		if err := translations.Register(translations.System); err != nil {
			t.Error(err)
		}
		if !was {
			translations.Forget()
		}
	})
}

// setenv is t.Setenv for a testing.TB: the old value comes back at cleanup.
func setenv(t testing.TB, k, v string) {
	old, had := os.LookupEnv(k)
	if err := os.Setenv(k, v); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if had {
			_ = os.Setenv(k, old)
		} else {
			_ = os.Unsetenv(k)
		}
	})
}
