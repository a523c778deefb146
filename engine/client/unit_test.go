package client

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func TestSASToken(t *testing.T) {
	// independent is Microsoft's documented algorithm written out again
	// step by step, to check SASToken against.
	independent := func(uri, key string, se int64) string {
		k, _ := base64.StdEncoding.DecodeString(key)
		enc := url.QueryEscape(uri)
		h := hmac.New(sha256.New, k)
		h.Write([]byte(enc + "\n" + strconv.FormatInt(se, 10)))
		return "SharedAccessSignature sr=" + enc + "&sig=" + url.QueryEscape(base64.StdEncoding.EncodeToString(h.Sum(nil))) + "&se=" + strconv.FormatInt(se, 10)
	}
	tests := []struct {
		name, uri, key string
		expiry         int64
		want           string // "" means: compare with independent
	}{
		{
			// The vector in Microsoft's azure-iot-cli-extension tests
			// (TestSasTokenAuth.test_generate_sas_token, no policy).
			name: "Microsoft vector", uri: "iot-hub-for-test.azure-devices.net/devices/iot-device-for-test",
			key: "+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw=", expiry: 1471940363,
			want: "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D&se=1471940363",
		},
		{name: "device with URL-unsafe characters", uri: "h.azure-devices.net/devices/dev 1+ä", key: base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")), expiry: 1700000000},
		{name: "another key and expiry", uri: "myhub.azure-devices.net/devices/sensor-7", key: "c2VjcmV0LWRldmljZS1rZXk=", expiry: 2000000000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SASToken(tc.uri, tc.key, "", time.Unix(tc.expiry, 0))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == "" {
				want = independent(tc.uri, tc.key, tc.expiry)
			}
			if got != want {
				t.Errorf("token\n got %s\nwant %s", got, want)
			}
		})
	}
	if _, err := SASToken("h/devices/d", "not base64!", "", time.Now()); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Errorf("bad key: got %v", err)
	}
	a := AzureAuth{Hub: "iot-hub-for-test.azure-devices.net", Device: "iot-device-for-test", TokenLifetime: Duration(time.Hour)}
	now := time.Unix(1471940363-3600, 0)
	pw, err := a.Password("+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw=", now)
	if err != nil || !strings.Contains(pw, "sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D") {
		t.Errorf("Password with a 1 h lifetime from expiry-1h: %q, %v", pw, err)
	}
	if got, want := a.Username(), "iot-hub-for-test.azure-devices.net/iot-device-for-test/?api-version=2021-04-12"; got != want {
		t.Errorf("Username = %q, want %q", got, want)
	}
}

func TestPresets(t *testing.T) {
	tests := []struct {
		kind    PresetKind
		in      PresetInput
		check   func(t *testing.T, p Profile)
		wantErr string
	}{
		{kind: PresetLocal, in: PresetInput{Addr: "127.0.0.1:1884"}, check: func(t *testing.T, p Profile) {
			if p.URL != "mqtt://127.0.0.1:1884" || p.Protocol != MQTT5 || len(p.Subscribe) != 0 {
				t.Errorf("%+v", p)
			}
		}},
		{kind: PresetLocal, in: PresetInput{}, wantErr: "address"},
		{kind: PresetAWS, in: PresetInput{Host: "abc-ats.iot.eu-west-1.amazonaws.com", CertFile: "c.pem", KeyFile: "k.pem", ThingName: "pump-1"}, check: func(t *testing.T, p Profile) {
			if p.URL != "mqtts://abc-ats.iot.eu-west-1.amazonaws.com:8883" || len(p.TLS.ALPN) != 0 || p.TLS.CertFile != "c.pem" || p.ClientID != "pump-1" || len(p.Subscribe) != 0 {
				t.Errorf("%+v", p)
			}
		}},
		{kind: PresetAWS, in: PresetInput{Host: "abc-ats.iot.eu-west-1.amazonaws.com", CertFile: "c.pem", KeyFile: "k.pem", AWS443: true}, check: func(t *testing.T, p Profile) {
			if !strings.HasSuffix(p.URL, ":443") || len(p.TLS.ALPN) != 1 || p.TLS.ALPN[0] != "x-amzn-mqtt-ca" {
				t.Errorf("%+v", p)
			}
		}},
		{kind: PresetAWS, in: PresetInput{Host: "h"}, wantErr: "certificate"},
		{kind: PresetAzure, in: PresetInput{Hub: "myhub", Device: "dev1", TokenLifetime: 2 * time.Hour}, check: func(t *testing.T, p Profile) {
			if p.Protocol != MQTT311 || p.URL != "mqtts://myhub.azure-devices.net:8883" || p.ClientID != "dev1" ||
				p.Username != "myhub.azure-devices.net/dev1/?api-version=2021-04-12" || p.Azure.TokenLifetime != Duration(2*time.Hour) ||
				p.Azure.EventsTopic() != "devices/dev1/messages/events/" ||
				len(p.Subscribe) != 1 || p.Subscribe[0].Filter != "devices/dev1/messages/devicebound/#" {
				t.Errorf("%+v %+v", p, p.Azure)
			}
		}},
		{kind: PresetEMQX, in: PresetInput{Host: "x.emqxsl.com", Username: "u"}, check: func(t *testing.T, p Profile) {
			if p.URL != "mqtts://x.emqxsl.com:8883" || p.Username != "u" || !p.HasPassword || len(p.Subscribe) != 1 || p.Subscribe[0].Filter != "#" {
				t.Errorf("%+v", p)
			}
		}},
		{kind: PresetHiveMQ, in: PresetInput{Host: "abc.s1.eu.hivemq.cloud", Username: "u"}, check: func(t *testing.T, p Profile) {
			if p.URL != "mqtts://abc.s1.eu.hivemq.cloud:8883" || p.Name != "HiveMQ Cloud" {
				t.Errorf("%+v", p)
			}
		}},
		{kind: PresetGeneric, in: PresetInput{Host: "mqtt://10.0.0.5:1883"}, check: func(t *testing.T, p Profile) {
			if len(p.Subscribe) != 1 || p.Subscribe[0].Filter != "#" || p.Validate() != nil {
				t.Errorf("%+v: %v", p, p.Validate())
			}
			p.Subscribe = []Subscription{{Filter: "a/#/b"}}
			if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "subscribe on connect") {
				t.Errorf("a bad subscribe-on-connect filter: %v", err)
			}
		}},
		{kind: "nope", wantErr: "unknown preset"},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			p, err := NewFromPreset(tc.kind, tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.ID == "" {
				t.Error("no ID")
			}
			tc.check(t, p)
		})
	}
}

func TestStoreRoundTripKeepsSecretsOut(t *testing.T) {
	keyring.MockInit() // the library's in-memory keyring stands in for the OS one
	secrets := NewSecrets(OSKeyring{})
	const password, deviceKey, passphrase = "hunter2-pw-7f3a", "ZGV2aWNlLWtleS1zZWNyZXQ=", "pass-phrase-91c"
	pw := profile("plant", "mqtts://broker.example:8883", MQTT5)
	pw.Username, pw.HasPassword = "alice", true
	pw.TLS = TLSOptions{CertFile: "/c.pem", KeyFile: "/k.pem", HasPassphrase: true, ALPN: []string{"x"}, ServerName: "b"}
	pw.Will = &Will{Topic: "plant/status", Payload: []byte("gone"), QoS: 1, Retain: true}
	az, err := NewFromPreset(PresetAzure, PresetInput{Hub: "hub", Device: "d"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		id   string
		kind SecretKind
		v    string
	}{{pw.ID, SecretPassword, password}, {pw.ID, SecretKeyPassphrase, passphrase}, {az.ID, SecretAzureDeviceKey, deviceKey}} {
		if err := secrets.Set(s.id, s.kind, s.v); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	st := NewStore(dir)
	if err := st.Save([]Profile{pw, az}); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(st.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{password, deviceKey, passphrase} {
		if bytes.Contains(file, []byte(secret)) {
			t.Errorf("the profiles file holds a secret %q:\n%s", secret, file)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data dir holds %d entries after Save, want only the profiles file (no temp files)", len(entries))
	}
	got, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "plant" || got[0].Will.Topic != "plant/status" || string(got[0].Will.Payload) != "gone" ||
		got[0].TLS.ALPN[0] != "x" || !got[0].HasPassword || got[1].Azure.TokenLifetime != Duration(time.Hour) || got[1].ID != az.ID {
		t.Errorf("round trip lost fields: %+v", got)
	}
	creds, err := secrets.Credentials(got[0])
	if err != nil || creds.Password != password || creds.KeyPassphrase != passphrase {
		t.Errorf("credentials after reload: %v", err)
	}
	if s := (Credentials{Password: password}).String(); strings.Contains(s, password) {
		t.Error("Credentials.String shows the password")
	}

	var exp bytes.Buffer
	got[0].ConnectAtStart = true // the exporter had it connected
	if err := Export(&exp, got); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(exp.Bytes(), []byte(password)) || bytes.Contains(exp.Bytes(), []byte(deviceKey)) {
		t.Error("export holds a secret")
	}
	imp, err := Import(&exp)
	if err != nil {
		t.Fatal(err)
	}
	if len(imp) != 2 || imp[0].ID == got[0].ID || imp[0].URL != got[0].URL || imp[0].ConnectAtStart {
		t.Errorf("import: %+v", imp)
	}
	if _, err := secrets.Credentials(imp[0]); !errors.Is(err, ErrSecretNotFound) {
		t.Errorf("an imported profile has no secrets yet: got %v, want ErrSecretNotFound", err)
	}
	if _, err := Import(strings.NewReader(`{"version":1,"profiles":[{"name":"x","url":"mqtt://h","protocol":"4"}]}`)); err == nil {
		t.Error("import accepted a bad protocol")
	}
	if err := os.WriteFile(filepath.Join(dir, ProfilesFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(); err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Errorf("a damaged file: %v", err)
	}
}

// TestKeyringUnavailable runs the real OS keyring code in a child process
// whose D-Bus session address leads nowhere, as on a headless Linux
// machine without a Secret Service.
func TestKeyringUnavailable(t *testing.T) {
	if os.Getenv("IOTSTUDIO_KEYRING_CHILD") == "1" {
		s := NewSecrets(OSKeyring{})
		err := s.Set("p1", SecretPassword, "pw")
		if !errors.Is(err, ErrKeyringUnavailable) {
			t.Fatalf("Set: %v, want ErrKeyringUnavailable", err)
		}
		for _, words := range []string{"no OS keyring", "Secret Service", "this session", "never writes secrets to disk"} {
			if !strings.Contains(err.Error(), words) {
				t.Errorf("the error does not say %q: %v", words, err)
			}
		}
		if _, err := s.Get("p1", SecretPassword); !errors.Is(err, ErrKeyringUnavailable) {
			t.Fatalf("Get: %v", err)
		}
		// The documented fallback: keep it for this session only.
		s.KeepForSession("p1", SecretPassword, "pw")
		if v, err := s.Get("p1", SecretPassword); err != nil || v != "pw" {
			t.Fatalf("after KeepForSession: %q, %v", v, err)
		}
		return
	}
	if os.Getenv("GOOS") == "windows" || os.Getenv("GOOS") == "darwin" {
		t.Skip("the D-Bus keyring is Linux's")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeyringUnavailable$", "-test.v")
	cmd.Env = append(os.Environ(), "IOTSTUDIO_KEYRING_CHILD=1", "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("PASS")) {
		t.Fatalf("child did not run the test:\n%s", out)
	}
}

func TestConnackErrorsInWords(t *testing.T) {
	tests := []struct {
		code  byte
		user  string
		kind  ErrorKind
		words string
	}{
		{0x86, "alice", ErrBadCredentials, `refused user "alice": bad user name or password`},
		{0x04, "alice", ErrBadCredentials, "bad user name or password"},
		{0x86, "", ErrBadCredentials, "wants a user name and password"},
		{0x87, "bob", ErrNotAuthorized, `user "bob" is not authorized`},
		{0x05, "", ErrNotAuthorized, "not authorized"},
		{0x85, "", ErrClientIDRejected, "rejected the client ID"},
		{0x02, "", ErrClientIDRejected, "rejected the client ID"},
		{0x88, "", ErrServerUnavailable, "unavailable"},
		{0x03, "", ErrServerUnavailable, "unavailable"},
		{0x89, "", ErrServerUnavailable, "busy"},
		{0x84, "", ErrBadProtocol, "MQTT version"},
		{0x01, "", ErrBadProtocol, "MQTT version"},
		{0x95, "", ErrOther, "reason code 0x95"},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(int(tc.code)), func(t *testing.T) {
			e := connackError(tc.code, "", tc.user)
			if e.Kind != tc.kind || !strings.Contains(e.Msg, tc.words) {
				t.Errorf("0x%02x: kind %d %q; want kind %d with %q", tc.code, e.Kind, e.Msg, tc.kind, tc.words)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := profile("a", "mqtt://127.0.0.1:1883", MQTT5)
	tests := []struct {
		name  string
		edit  func(p *Profile)
		words string
	}{
		{"ok", func(*Profile) {}, ""},
		{"no name", func(p *Profile) { p.Name = " " }, "needs a name"},
		{"bad url", func(p *Profile) { p.URL = "http://x" }, "unsupported scheme"},
		{"bad protocol", func(p *Profile) { p.Protocol = "4" }, "choose"},
		{"TLS on plain", func(p *Profile) { p.TLS.Insecure = true }, "mqtts:// and wss://"},
		{"cert without key", func(p *Profile) { p.URL = "mqtts://h"; p.TLS.CertFile = "/x" }, "give both"},
		{"missing CA file", func(p *Profile) { p.URL = "mqtts://h"; p.TLS.CAFile = "/nonexistent/ca.pem" }, "CA file /nonexistent/ca.pem"},
		{"will wildcard", func(p *Profile) { p.Will = &Will{Topic: "a/#"} }, "without wildcards"},
		{"3.1.1 session without id", func(p *Profile) { p.Protocol = MQTT311; p.CleanStart = false }, "fixed client ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			err := p.Validate()
			if tc.words == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("err = %v, want one saying %q", err, tc.words)
			}
		})
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	o := Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	if o.backoff(0) != 0 {
		t.Error("the first attempt waits")
	}
	prevMax := time.Duration(0)
	for n := 1; n <= 10; n++ {
		d := o.backoff(n)
		ceiling := min(o.MinBackoff<<(n-1), o.MaxBackoff)
		if d > ceiling || d < ceiling*4/5 || d < prevMax/2 {
			t.Errorf("attempt %d: %s, want within [%s, %s]", n, d, ceiling*4/5, ceiling)
		}
		prevMax = ceiling
	}
}
