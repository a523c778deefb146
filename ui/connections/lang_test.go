package connections

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// In Russian the Yandex IoT Core preset offers its choices in Russian, and
// a registry that logs in by certificate, picked by those words, is saved
// as a registry with its certificate.
func TestYandexPresetInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	h := newHarness(t, harnessOpts{})
	certFile, keyFile := tempFile(t, "reg.pem", "cert"), tempFile(t, "reg.key", "key")
	test.Tap(button(t, h.panel.Content(), "Создать…"))
	d := topDialog(t, h.win)
	find[*widget.Select](t, d).SetSelected("Yandex IoT Core")
	as, login := radio(t, d, "Устройство"), radio(t, d, "ID и пароль")
	if want := []string{"Устройство", "Реестр"}; !slices.Equal(as.Options, want) {
		t.Errorf("acts as %q, want %q", as.Options, want)
	}
	if want := []string{"ID и пароль", "Сертификат"}; !slices.Equal(login.Options, want) {
		t.Errorf("logs in with %q, want %q", login.Options, want)
	}
	as.SetSelected("Реестр")
	if got := texts(d); !strings.Contains(got, "Имя пользователя — это ID реестра") {
		t.Errorf("the login note does not speak of the registry; the dialog shows:\n%s", got)
	}
	test.Type(entry(t, d, "ID реестра из консоли Yandex Cloud"), "are-reg1")
	login.SetSelected("Сертификат")
	test.Tap(button(t, d, "Далее…"))
	if got := texts(d); topDialog(t, h.win) != d || !strings.Contains(got, "закрытого ключа реестра") {
		t.Fatalf("no certificate given: the dialog shows:\n%s", got)
	}
	test.Type(entry(t, d, "сертификат устройства"), certFile)
	test.Type(entry(t, d, "его закрытый ключ"), keyFile)
	test.Tap(button(t, d, "Далее…"))
	form := topDialog(t, h.win)
	if form == d {
		t.Fatalf("the dialog stayed open: %s", texts(d))
	}
	test.Tap(button(t, form, "Сохранить"))
	h.q.Until(t, "the profile to be saved", func() bool { return len(h.saved(t)) == 2 })
	p := h.saved(t)[1]
	if p.Preset != client.PresetYandex || p.Username != "" || p.TLS.CertFile != certFile || p.TLS.KeyFile != keyFile {
		t.Errorf("saved %+v", p)
	}
	if len(p.Subscribe) != 1 || p.Subscribe[0].Filter != "$registries/are-reg1/events" {
		t.Errorf("saved subscriptions %+v, want the registry's events", p.Subscribe)
	}
}
