package connections

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// radio finds the visible radio group offering option.
func radio(t *testing.T, o fyne.CanvasObject, option string) *widget.RadioGroup {
	t.Helper()
	return uitest.First(t, o, "radio group with "+option, func(r *widget.RadioGroup) bool { return slices.Contains(r.Options, option) })
}

// The Yandex IoT Core preset, filled in the New dialog as a device by ID
// and password and as a registry by certificate, gives a form and a saved
// profile for Yandex's server, its CA, the ID's topics and the login.
func TestYandexPresetInTheNewDialog(t *testing.T) {
	tests := []struct {
		name                 string
		as, login            string
		id                   string
		wantUser             string
		wantSub              string
		wantTopics           []string
		wantCert, wantCAText bool
	}{
		{"device by password", yandexAsDevice, yandexByPassword, "are-dev1", "are-dev1", "$devices/are-dev1/commands",
			[]string{"$devices/are-dev1/events", "$devices/are-dev1/state"}, false, true},
		{"registry by certificate", yandexAsRegistry, yandexByCert, "are-reg1", "", "$registries/are-reg1/events",
			[]string{"$registries/are-reg1/commands"}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			certFile, keyFile := tempFile(t, "dev.pem", "cert"), tempFile(t, "dev.key", "key")
			test.Tap(button(t, h.panel.Content(), "New…"))
			d := topDialog(t, h.win)
			find[*widget.Select](t, d).SetSelected("Yandex IoT Core")
			radio(t, d, yandexAsDevice).SetSelected(tc.as)
			radio(t, d, yandexByPassword).SetSelected(tc.login)
			if got := texts(d); tc.login == yandexByPassword && !strings.Contains(got, "The user name is the "+strings.ToLower(tc.as)+" ID") {
				t.Errorf("the dialog does not say how the login works; it shows:\n%s", got)
			}
			test.Type(entry(t, d, "the "+strings.ToLower(tc.as)+" ID"), tc.id)
			if tc.wantCert {
				test.Type(entry(t, d, "the device certificate"), certFile)
				test.Type(entry(t, d, "its private key"), keyFile)
			}
			if ca := entry(t, d, "empty: Yandex's root CA"); ca == nil {
				t.Fatal("no CA field saying Yandex's CA is built in")
			}
			test.Tap(button(t, d, "Next…"))

			form := topDialog(t, h.win)
			if form == d {
				t.Fatalf("the dialog stayed open: %s", texts(d))
			}
			if got := entry(t, form, "mqtt://host").Text; got != "mqtts://mqtt.cloud.yandex.net:8883" {
				t.Errorf("URL %q", got)
			}
			if got := find[*widget.RadioGroup](t, form).Selected; got != protoV311 {
				t.Errorf("protocol %q, want %q", got, protoV311)
			}
			if got := entry(t, form, "one filter per line").Text; got != tc.wantSub {
				t.Errorf("subscribe on connect %q, want %q", got, tc.wantSub)
			}
			if got := entry(t, form, "none").Text; got != tc.wantUser {
				t.Errorf("user name %q, want %q", got, tc.wantUser)
			}
			shown := texts(form)
			for _, topic := range tc.wantTopics {
				if !strings.Contains(shown, topic) {
					t.Errorf("the form does not show the topic to publish to %s; it shows:\n%s", topic, shown)
				}
			}
			entry(t, form, "empty: Yandex's root CA") // the form, too, says which CA is trusted
			if tc.login == yandexByPassword {
				test.Type(entry(t, form, "empty: asked for at connect"), "yx-secret")
			}
			test.Tap(button(t, form, "Save"))
			h.q.Until(t, "the profile to be saved", func() bool { return len(h.saved(t)) == 2 })

			p := h.saved(t)[1]
			if p.Preset != client.PresetYandex || p.TLS.BuiltinCA != client.BuiltinYandex || p.Protocol != client.MQTT311 || p.Username != tc.wantUser {
				t.Errorf("saved %+v", p)
			}
			if len(p.Subscribe) != 1 || p.Subscribe[0].Filter != tc.wantSub || p.Subscribe[0].QoS != 1 {
				t.Errorf("saved subscriptions %+v, want %s at QoS 1", p.Subscribe, tc.wantSub)
			}
			if tc.wantCert != (p.TLS.CertFile == certFile && p.TLS.KeyFile == keyFile) {
				t.Errorf("saved TLS %+v; certificate mode %v", p.TLS, tc.wantCert)
			}
			if pw, err := h.secrets.Get(p.ID, client.SecretPassword); tc.login == yandexByPassword && (err != nil || pw != "yx-secret") {
				t.Errorf("the password is not in the keyring: %q, %v", pw, err)
			}
			var topics []string
			for _, tm := range p.Templates {
				topics = append(topics, tm.Topic)
			}
			if !slices.Equal(topics, tc.wantTopics) {
				t.Errorf("saved templates %v, want %v", topics, tc.wantTopics)
			}
		})
	}
}

// A profile's publish templates are a click away: its row opens the
// Publish panel on the connection and the template's topic.
func TestRowOpensPublishOnATemplate(t *testing.T) {
	pr, err := client.NewFromPreset(client.PresetYandex, client.PresetInput{Device: "are-dev1", Name: "Meter"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	h := newHarness(t, harnessOpts{profiles: []client.Profile{pr}, publishTo: func(connection, topic string) { got = append(got, connection, topic) }})
	r := h.row(t, "Meter")
	test.Tap(button(t, r.box, "state…"))
	if want := []string{"Meter", "$devices/are-dev1/state"}; !slices.Equal(got, want) {
		t.Errorf("Publish opened on %q, want %q", got, want)
	}
	if len(uitest.Buttons(h.row(t, LocalName).box, "events…")) != 0 {
		t.Error("a profile without templates offers to publish to one")
	}
}

// Choosing to log in by certificate and giving none is said, not turned
// into a password login behind the user's back.
func TestYandexCertificateLoginNeedsTheFiles(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	test.Tap(button(t, h.panel.Content(), "New…"))
	d := topDialog(t, h.win)
	find[*widget.Select](t, d).SetSelected("Yandex IoT Core")
	radio(t, d, yandexByPassword).SetSelected(yandexByCert)
	test.Type(entry(t, d, "the device ID"), "are-dev1")
	test.Tap(button(t, d, "Next…"))
	if topDialog(t, h.win) != d {
		t.Fatal("the dialog went on to the form without a certificate")
	}
	if got := texts(d); !strings.Contains(got, "give the device's certificate and private key") {
		t.Errorf("the dialog does not say what is missing; it shows:\n%s", got)
	}
}
