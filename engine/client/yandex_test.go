package client

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
)

// The built-in Yandex root CA is the certificate Yandex publishes, intact
// and valid, and a Yandex IoT Core profile trusts it.
func TestYandexRootCA(t *testing.T) {
	block, _ := pem.Decode([]byte(yandexRootCA))
	if block == nil {
		t.Fatal("the built-in Yandex CA is not PEM")
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	const want = "e3c3192646536bc4ffae6dd34324ef9dd8d3b16dfa13a24e13180ef14ba21bba"
	if got := fmt.Sprintf("%x", sha256.Sum256(block.Bytes)); got != want {
		t.Errorf("SHA-256 %s, want %s (the published rootCA.crt)", got, want)
	}
	if ca.Subject.CommonName != "YandexInternalRootCA" || !ca.IsCA {
		t.Errorf("subject %q, CA %v; want the CA YandexInternalRootCA", ca.Subject, ca.IsCA)
	}
	if ca.NotAfter.Before(time.Date(2033, 2, 11, 0, 0, 0, 0, time.UTC)) || time.Now().After(ca.NotAfter) {
		t.Errorf("valid until %s; want until 2033-02-11 and valid now", ca.NotAfter)
	}
	p, err := NewFromPreset(PresetYandex, PresetInput{Device: "are1"})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := tlsConfig(p, net.JoinHostPort(YandexHost, "8883"), Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Verify(x509.VerifyOptions{Roots: conf.RootCAs}); err != nil {
		t.Errorf("a Yandex IoT Core profile does not trust Yandex's root CA: %v", err)
	}
	if conf.ServerName != YandexHost {
		t.Errorf("server name %q, want %q", conf.ServerName, YandexHost)
	}
}

func TestYandexPreset(t *testing.T) {
	tests := []struct {
		name      string
		in        PresetInput
		wantSub   string
		wantTopic []string
		wantUser  string // "" in certificate mode
		wantName  string
	}{
		{"device by password", PresetInput{Device: "are-dev1"}, "$devices/are-dev1/commands",
			[]string{"$devices/are-dev1/events", "$devices/are-dev1/state"}, "are-dev1", "Yandex IoT Core: are-dev1"},
		{"device by certificate", PresetInput{Device: "are-dev1", CertFile: "c.pem", KeyFile: "k.pem"}, "$devices/are-dev1/commands",
			[]string{"$devices/are-dev1/events", "$devices/are-dev1/state"}, "", "Yandex IoT Core: are-dev1"},
		{"registry by password", PresetInput{Registry: "are-reg1", Name: "Plant registry"}, "$registries/are-reg1/events",
			[]string{"$registries/are-reg1/commands"}, "are-reg1", "Plant registry"},
		{"registry by certificate", PresetInput{Registry: "are-reg1", CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem"}, "$registries/are-reg1/events",
			[]string{"$registries/are-reg1/commands"}, "", "Yandex IoT Core: registry are-reg1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewFromPreset(PresetYandex, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.URL != "mqtts://mqtt.cloud.yandex.net:8883" || p.Protocol != MQTT311 || p.TLS.BuiltinCA != BuiltinYandex || p.Preset != PresetYandex {
				t.Errorf("URL %q protocol %q CA %q preset %q; want Yandex's TLS server over MQTT 3.1.1 with its CA", p.URL, p.Protocol, p.TLS.BuiltinCA, p.Preset)
			}
			if p.TLS.CertFile != tc.in.CertFile || p.TLS.KeyFile != tc.in.KeyFile || p.TLS.CAFile != tc.in.CAFile {
				t.Errorf("TLS %+v; want the given files", p.TLS)
			}
			if p.Username != tc.wantUser || p.HasPassword != (tc.wantUser != "") {
				t.Errorf("user %q (password %v); want %q", p.Username, p.HasPassword, tc.wantUser)
			}
			if p.ClientID != "" {
				t.Errorf("client ID %q; want a unique one per connection", p.ClientID)
			}
			if len(p.Subscribe) != 1 || p.Subscribe[0].Filter != tc.wantSub || p.Subscribe[0].QoS != 1 {
				t.Errorf("subscribes to %+v; want %s at QoS 1", p.Subscribe, tc.wantSub)
			}
			var topics []string
			for _, tm := range p.Templates {
				topics = append(topics, tm.Topic)
			}
			if !slices.Equal(topics, tc.wantTopic) {
				t.Errorf("publish templates %v, want %v", topics, tc.wantTopic)
			}
			if p.Name != tc.wantName {
				t.Errorf("name %q, want %q", p.Name, tc.wantName)
			}
		})
	}
	for _, bad := range []struct {
		in   PresetInput
		want string
	}{
		{PresetInput{}, "device ID or the registry ID"},
		{PresetInput{Device: "a", Registry: "b"}, "one of them"},
		{PresetInput{Device: "a", CertFile: "c.pem"}, "certificate and its private key go together"},
	} {
		if _, err := NewFromPreset(PresetYandex, bad.in); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: error %v, want one saying %q", bad.in, err, bad.want)
		}
	}
}

// A device profile in certificate mode presents its certificate (the
// broker requires one), subscribes to its commands at connect and
// publishes to its events topic.
func TestYandexCertificateProfileConnects(t *testing.T) {
	ca := newPKI(t, "yandex-test-ca")
	srvCert, srvKey := ca.issue(certSpec{name: "server", ips: []net.IP{net.ParseIP("127.0.0.1")}})
	devCert, devKey := ca.issue(certSpec{name: "are-dev1", client: true})
	tlsPort, plainPort := testkit.FreePort(t), testkit.FreePort(t)
	mosquittopeer.New(t, fmt.Sprintf("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\nallow_anonymous true\n"+
		"listener %d 127.0.0.1\nallow_anonymous true\n", tlsPort, ca.CAFile, srvCert, srvKey, plainPort), tlsPort, plainPort).Start()

	p, err := NewFromPreset(PresetYandex, PresetInput{Device: "are-dev1", CertFile: devCert, KeyFile: devKey, CAFile: ca.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	p.URL = fmt.Sprintf("mqtts://127.0.0.1:%d", tlsPort) // the local broker stands in for Yandex's
	rec := newRecorder()
	_, dev := open(t, rec, p, Credentials{})
	waitState(t, dev, StateConnected, 10*time.Second)

	regRec := newRecorder()
	_, reg := open(t, regRec, profile("registry", mqttURL(plainPort), MQTT311), Credentials{})
	waitState(t, reg, StateConnected, 10*time.Second)
	if _, err := reg.Subscribe(t.Context(), Subscription{Filter: "$devices/are-dev1/events", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Publish(t.Context(), Message{Topic: "$devices/are-dev1/commands", Payload: []byte("on"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	rec.next(t, "$devices/are-dev1/commands")
	if err := dev.Publish(t.Context(), Message{Topic: p.Templates[0].Topic, Payload: []byte("21.5"), QoS: p.Templates[0].QoS}); err != nil {
		t.Fatal(err)
	}
	regRec.next(t, "$devices/are-dev1/events")
}
