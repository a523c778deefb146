package connections

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
)

// New… with a preset fills the form with what that broker wants, and Save
// stores it.
func TestNewFromPresetFillsTheForm(t *testing.T) {
	cert, key := tempFile(t, "dev.crt", "cert"), tempFile(t, "dev.key", "key")
	for _, tc := range []struct {
		name   string
		preset string
		fill   map[string]string // entry placeholder prefix -> text
		tick   string            // check box to tick
		want   map[string]string // entry placeholder prefix -> text in the form
		proto  string
		check  func(t *testing.T, p client.Profile)
	}{
		{
			name: "Azure IoT Hub", preset: "Azure IoT Hub",
			fill: map[string]string{"myhub or": "plant-hub", "the device ID": "press-7"},
			want: map[string]string{"none": "plant-hub.azure-devices.net/press-7/?api-version=2021-04-12", "mqtt://host": "mqtts://plant-hub.azure-devices.net:8883",
				"one filter per line": "devices/press-7/messages/devicebound/#"},
			proto: protoV311,
			check: func(t *testing.T, p client.Profile) {
				if p.Azure == nil || p.Azure.Device != "press-7" || p.ClientID != "press-7" || p.Username != "plant-hub.azure-devices.net/press-7/?api-version=2021-04-12" {
					t.Errorf("saved Azure profile: %+v", p)
				}
				if !slices.Equal(p.Subscribe, []client.Subscription{{Filter: "devices/press-7/messages/devicebound/#", QoS: 1}}) {
					t.Errorf("saved Azure subscriptions: %+v", p.Subscribe)
				}
			},
		},
		{
			name: "AWS IoT Core on 443", preset: "AWS IoT Core",
			fill: map[string]string{"your ATS endpoint": "abc-ats.iot.eu-west-1.amazonaws.com", "the thing name": "press-7",
				"the device certificate": cert, "its private key": key},
			tick:  "Port 443",
			want:  map[string]string{"mqtt://host": "mqtts://abc-ats.iot.eu-west-1.amazonaws.com:443", "none; e.g.": client.AWSALPN, "one filter per line": ""},
			proto: protoV5,
			check: func(t *testing.T, p client.Profile) {
				if !slices.Equal(p.TLS.ALPN, []string{client.AWSALPN}) || p.TLS.CertFile != cert || p.ClientID != "press-7" {
					t.Errorf("saved AWS profile: %+v", p)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			test.Tap(button(t, h.panel.Content(), "New…"))
			d := topDialog(t, h.win)
			find[*widget.Select](t, d).SetSelected(tc.preset)
			for ph, v := range tc.fill {
				test.Type(entry(t, d, ph), v)
			}
			if tc.tick != "" {
				test.Tap(check(t, d, tc.tick))
			}
			test.Tap(button(t, d, "Next…"))

			form := topDialog(t, h.win)
			for ph, v := range tc.want {
				if got := entry(t, form, ph).Text; got != v {
					t.Errorf("form field %q shows %q, want %q", ph, got, v)
				}
			}
			if got := find[*widget.RadioGroup](t, form).Selected; got != tc.proto {
				t.Errorf("protocol %q, want %q", got, tc.proto)
			}
			test.Tap(button(t, form, "Save"))
			h.q.Until(t, "the profile to be saved", func() bool { return len(h.saved(t)) == 2 })
			saved := h.saved(t)[1]
			tc.check(t, saved)
			if !strings.Contains(texts(h.panel.Content()), saved.Name) {
				t.Errorf("the list does not show %q", saved.Name)
			}
		})
	}
}

// A custom broker subscribes to every topic on connect, so its tree shows
// up in the Explorer; the filters are checked like the Subscribe panel's.
func TestSubscribeOnConnectFilters(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	form := h.newCustomForm(t, "mqtt://broker.example:1883")
	subs := entry(t, form, "one filter per line")
	if subs.Text != "#" {
		t.Errorf("a custom broker subscribes on connect to %q, want #", subs.Text)
	}
	subs.SetText("plant/#/temp")
	test.Tap(button(t, form, "Save"))
	if got := texts(form); !strings.Contains(got, "subscribe on connect") || !strings.Contains(got, "must be the last level") {
		t.Errorf("the form does not say what is wrong with the filter; it shows:\n%s", got)
	}
	for _, p := range h.saved(t) {
		if p.URL == "mqtt://broker.example:1883" {
			t.Fatalf("saved despite a bad filter: %+v", p)
		}
	}
	subs.SetText("plant/#\n\n  $SYS/#  ")
	test.Tap(button(t, form, "Save"))
	h.q.Until(t, "the profile to be saved", func() bool { return len(h.saved(t)) == 2 })
	want := []client.Subscription{{Filter: "plant/#"}, {Filter: "$SYS/#"}}
	if got := h.saved(t)[1].Subscribe; !slices.Equal(got, want) {
		t.Errorf("saved subscriptions %+v, want %+v", got, want)
	}
}

func TestInvalidURLShowsTheErrorAndSavesNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	form := h.newCustomForm(t, "mqtt://broker.example:1883")
	url := entry(t, form, "mqtt://host")
	url.SetText("http://broker.example")
	test.Tap(button(t, form, "Save"))
	if got := texts(form); !strings.Contains(got, "URL") || !strings.Contains(got, "http") {
		t.Errorf("the form does not say what is wrong with the URL; it shows:\n%s", got)
	}
	if ps := h.saved(t); len(ps) != 0 {
		t.Errorf("an invalid profile was saved: %+v", ps)
	}
	if topDialog(t, h.win) != form {
		t.Error("the form closed; the user's input is lost")
	}
}

func TestBadNumbersAndTakenNamesAreNamed(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	f := h.panel.showForm(mustPreset(t, "Plant", "mqtt://127.0.0.1:1883"), newProfile, "")
	f.keepAlive.SetText("forever")
	f.name.SetText(LocalName)
	test.Tap(f.save)
	got := f.errText.Text
	for _, want := range []string{`Keep-alive "forever": give whole seconds from 0 to 65535`, `Name "Local broker": another connection`} {
		if !strings.Contains(got, want) {
			t.Errorf("error %q does not say %q", got, want)
		}
	}
	if len(h.saved(t)) != 0 {
		t.Error("saved despite the errors")
	}
}

func TestInsecureTLSShowsTheWarning(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	f := h.panel.showForm(mustPreset(t, "Cloud", "mqtts://broker.example:8883"), newProfile, "")
	form := topDialog(t, h.win)
	if strings.Contains(texts(form), insecureWarning) {
		t.Fatal("the warning shows before insecure is on")
	}
	test.Tap(check(t, form, "Insecure"))
	if !strings.Contains(texts(form), "Anyone in between can read and change the traffic") {
		t.Error("insecure is on and no warning says what it means")
	}
	test.Tap(f.save)
	h.q.Until(t, "the profile to be saved", func() bool { return len(h.saved(t)) == 2 })
	if !h.saved(t)[1].TLS.Insecure {
		t.Error("the saved profile is not insecure")
	}
}

func TestDeleteConfirmsAndForgetsTheSecrets(t *testing.T) {
	pr := mustPreset(t, "Plant", "mqtt://127.0.0.1:1883")
	pr.HasPassword = true
	h := newHarness(t, harnessOpts{profiles: []client.Profile{pr}})
	if err := h.secrets.Set(pr.ID, client.SecretPassword, "s3cret"); err != nil {
		t.Fatal(err)
	}
	r := h.row(t, "Plant")
	if h.row(t, LocalName).remove.Disabled() == false {
		t.Error("the local broker's connection can be deleted")
	}

	test.Tap(r.remove)
	d := topDialog(t, h.win)
	if got := texts(d); !strings.Contains(got, `Delete the connection "Plant"?`) || !strings.Contains(got, "keyring") {
		t.Errorf("the confirmation says %q", got)
	}
	test.Tap(button(t, d, "Cancel"))
	if len(h.saved(t)) != 1 {
		t.Fatal("Cancel deleted the connection")
	}

	test.Tap(r.remove)
	test.Tap(button(t, topDialog(t, h.win), "Delete"))
	if ps := h.saved(t); slices.ContainsFunc(ps, func(q client.Profile) bool { return q.ID == pr.ID }) {
		t.Errorf("after Delete the file still holds it: %+v", ps)
	}
	if strings.Contains(texts(h.panel.Content()), "Plant") {
		t.Error("the list still shows the deleted connection")
	}
	h.q.Until(t, "the password to leave the keyring", func() bool {
		_, ok := h.keyring.get(pr.ID + "/password")
		return !ok
	})
}

func TestExportHoldsNoSecretAndImportRenames(t *testing.T) {
	pr := mustPreset(t, "Plant", "mqtt://127.0.0.1:1883")
	pr.Username, pr.HasPassword = "op", true
	h := newHarness(t, harnessOpts{profiles: []client.Profile{pr}})
	if err := h.secrets.Set(pr.ID, client.SecretPassword, "hunter2-secret"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.json")
	test.Tap(button(t, h.panel.Content(), "Export…"))
	d := topDialog(t, h.win)
	if !strings.Contains(texts(d), "no secrets") {
		t.Errorf("the export dialog does not say secrets are left out: %q", texts(d))
	}
	test.Type(entry(t, d, "file path"), path)
	test.Tap(button(t, d, "Export"))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), `"local"`) {
		t.Errorf("the export holds a secret or the local profile:\n%s", b)
	}

	h.win.Canvas().Overlays().Remove(h.win.Canvas().Overlays().Top())
	test.Tap(button(t, h.panel.Content(), "Import…"))
	d = topDialog(t, h.win)
	test.Type(entry(t, d, "file path"), path)
	test.Tap(button(t, d, "Import"))
	ps := h.saved(t)
	if len(ps) != 3 || ps[2].Name != "Plant (2)" || !ps[2].HasPassword || ps[2].ID == pr.ID {
		t.Errorf("after import: %+v", ps)
	}
}

// The keyring is unavailable (as on a headless Linux): saving a password
// says so and offers to keep it for the session.
func TestNoKeyringOffersToKeepSecretsForTheSession(t *testing.T) {
	h := newHarness(t, harnessOpts{noKeyring: true})
	pr := mustPreset(t, "Plant", "mqtt://127.0.0.1:1883")
	f := h.panel.showForm(pr, newProfile, "")
	form := topDialog(t, h.win)
	test.Tap(check(t, form, "Log in with a password"))
	test.Type(f.password, "s3cret")
	test.Tap(f.save)
	h.q.Until(t, "the keyring error", func() bool { return f.errText.Visible() })
	if !strings.Contains(f.errText.Text, "no OS keyring") || len(h.saved(t)) != 0 {
		t.Fatalf("error %q, %d saved", f.errText.Text, len(h.saved(t)))
	}
	test.Tap(check(t, form, "Keep the secrets for this session only"))
	test.Tap(f.save)
	h.q.Until(t, "the profile to be saved", func() bool { return len(h.saved(t)) == 2 })
	if v, err := h.secrets.Get(pr.ID, client.SecretPassword); err != nil || v != "s3cret" {
		t.Errorf("session secret %q, %v", v, err)
	}
}

func mustPreset(t *testing.T, name, url string) client.Profile {
	t.Helper()
	p, err := client.NewFromPreset(client.PresetGeneric, client.PresetInput{Name: name, Host: url})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Duplicate opens the form on a copy with a free name; saving adds it
// beside the original, with an ID of its own (secrets are filed by ID, so
// the copy asks for its own).
func TestDuplicateSavesACopyUnderAFreeName(t *testing.T) {
	pr := mustPreset(t, "Plant", "mqtt://127.0.0.1:1883")
	pr.Username, pr.HasPassword = "op", true
	h := newHarness(t, harnessOpts{profiles: []client.Profile{pr}})
	test.Tap(h.row(t, "Plant").dup)
	form := topDialog(t, h.win)
	if !strings.Contains(texts(form), "are not copied") {
		t.Errorf("the form does not say secrets stay with the original: %q", texts(form))
	}
	test.Tap(button(t, form, "Save"))
	// The file now holds the local broker's profile too.
	h.q.Until(t, "the copy to be saved", func() bool { return len(h.saved(t)) == 3 })
	c := h.saved(t)[2]
	if c.Name != "Plant copy" || c.ID == pr.ID || c.URL != pr.URL || c.Username != "op" || !c.HasPassword {
		t.Errorf("the copy: %+v", c)
	}
}
