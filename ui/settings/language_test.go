package settings

import (
	"os"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/translations"
)

// englishSystem makes the OS's language English for the test and puts
// the window's language back to it afterwards: the language is global.
func englishSystem(t *testing.T) {
	t.Helper()
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "en_US.UTF-8")
	t.Cleanup(func() {
		_ = os.Setenv("LANGUAGE", "")
		if err := translations.Register(translations.System); err != nil {
			t.Error(err)
		}
	})
}

// formLabels are the Settings dialog's field names, as the user reads them.
func formLabels(d *Dialog) []string {
	var out []string
	for _, it := range d.dlgForm.Items {
		out = append(out, it.Text)
	}
	return out
}

func TestLanguageChoiceAppliesAtTheNextStart(t *testing.T) {
	englishSystem(t)
	a, w := newWindow(t)
	d := Show(a, w, Options{})
	if got := formLabels(d); got[0] != "Theme" {
		t.Fatalf("with an English system the dialog reads %q", got)
	}
	d.lang.SetSelected("Русский")
	d.Hide()
	// Fyne translates a string when a widget is made: the open window
	// keeps its language until the next start.
	if got := formLabels(Show(a, w, Options{})); got[0] != "Theme" {
		t.Errorf("the running window switched to %q; the note promises the next start", got)
	}

	next := test.NewTempApp(t)
	next.SetCloudProvider(prefsProvider{a.Preferences()})
	if s := Restore(next); s.Language != translations.Russian {
		t.Fatalf("the next start restored the language %q, want ru", s.Language)
	}
	nw := test.NewTempWindow(t, widget.NewLabel(""))
	got := formLabels(Show(next, nw, Options{}))
	want := []string{"Тема", "Дерево топиков", "Размер текста", "Язык"}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("the next start's Settings read %q, want %q", got, want)
		}
	}
}
