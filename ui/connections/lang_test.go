package connections

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
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

// In Russian an Azure SAS token's lifetime reads "1 ч" in the preset and
// in the form and takes Russian units; the form showed Go's "1h0m0s" (in
// every language) and refused "30 мин".
func TestAzureTokenLifetimeInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	h := newHarness(t, harnessOpts{})
	test.Tap(button(t, h.panel.Content(), "Создать…"))
	d := topDialog(t, h.win)
	find[*widget.Select](t, d).SetSelected("Azure IoT Hub")
	test.Type(entry(t, d, "myhub или"), "plant-hub")
	test.Type(entry(t, d, "ID устройства"), "press-7")
	life := entry(t, d, "сколько живёт каждый токен SAS")
	if life.Text != "1 ч" {
		t.Errorf("the preset's lifetime reads %q, want 1 ч", life.Text)
	}
	life.SetText("90 мин")
	test.Tap(button(t, d, "Далее…"))
	form := topDialog(t, h.win)
	if form == d {
		t.Fatalf("the dialog stayed open: %s", texts(d))
	}
	life = entry(t, form, "1 ч")
	if life.Text != "1 ч 30 мин" {
		t.Errorf("the form's lifetime reads %q, want 1 ч 30 мин", life.Text)
	}
	life.SetText("30 мин")
	test.Tap(button(t, form, "Сохранить"))
	h.q.Until(t, "the profile to be saved", func() bool { return len(h.saved(t)) == 2 })
	if p := h.saved(t)[1]; p.Azure == nil || time.Duration(p.Azure.TokenLifetime) != 30*time.Minute {
		t.Errorf("saved %+v, want a token lifetime of 30 minutes", p.Azure)
	}
}

// In Russian the built-in connection is listed and edited as "Локальный
// брокер" and saved under its key, "Local broker", which bridges files and
// the command line name it by; it was listed in English.
func TestLocalBrokerNamedInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	h := newHarness(t, harnessOpts{})
	addr := brokertest.Start(t).Addr
	h.local.Store(&addr)
	local := h.row(t, LocalName)
	if local.name.Text != "Локальный брокер" {
		t.Errorf("the built-in connection is listed as %q", local.name.Text)
	}
	h.q.Until(t, "the local profile to connect", func() bool { return !local.edit.Disabled() })
	test.Tap(local.edit)
	form := topDialog(t, h.win)
	if name := entry(t, form, "имя для списка"); name.Text != "Локальный брокер" {
		t.Errorf("its name reads %q in the form", name.Text)
	}
	entry(t, form, "по фильтру на строку").SetText("plant/#")
	test.Tap(button(t, form, "Сохранить"))
	h.q.Until(t, "the edit saved", func() bool {
		return slices.ContainsFunc(h.saved(t), func(p client.Profile) bool {
			return p.ID == LocalID && len(p.Subscribe) == 1 && p.Subscribe[0].Filter == "plant/#"
		})
	})
	for _, p := range h.saved(t) {
		if p.ID == LocalID && p.Name != LocalName {
			t.Errorf("saved as %q, want %q", p.Name, LocalName)
		}
	}

	// Another connection cannot take the label: it would read as the
	// built-in one everywhere.
	n := len(h.saved(t))
	test.Tap(button(t, h.panel.Content(), "Создать…"))
	d := topDialog(t, h.win)
	test.Type(entry(t, d, "mqtt://host"), "mqtt://plant.example:1883")
	test.Tap(button(t, d, "Далее…"))
	form = topDialog(t, h.win)
	entry(t, form, "имя для списка").SetText("Локальный брокер")
	test.Tap(button(t, form, "Сохранить"))
	if got := texts(form); !strings.Contains(got, `"Локальный брокер"`) || len(h.saved(t)) != n {
		t.Errorf("a second connection named Локальный брокер: %d saved (want %d); the form shows:\n%s", len(h.saved(t)), n, got)
	}
}
