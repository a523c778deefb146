package client

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/iotstudio/iotstudio/engine/client/transport"
)

// Protocol is the MQTT version a profile speaks.
type Protocol string

const (
	MQTT5   Protocol = "5"
	MQTT311 Protocol = "3.1.1"
	// ProtocolAuto tries MQTT 5 and falls back to 3.1.1 when the broker
	// hangs up on an MQTT 5 CONNECT without a CONNACK, as brokers that
	// speak only 3.1.1 do (ActiveMQ Classic, RabbitMQ before 3.13). The
	// choice holds for the connection's reconnects; Status says which.
	ProtocolAuto Protocol = "auto"
)

// Level is the protocol level sent in CONNECT (and kept in capture
// records); the automatic protocol tries 5 first.
func (p Protocol) Level() byte {
	if p == MQTT311 {
		return 4
	}
	return 5
}

// Profile says where and how to connect. It holds no secrets: the password,
// a private key's passphrase and an Azure device key live in the keyring
// (see Secrets), keyed by ID, so the profile file can be shared.
type Profile struct {
	// ID is stable across renames; secrets are filed under it.
	ID   string `json:"id"`
	Name string `json:"name"`
	// URL is mqtt://, mqtts://, ws:// or wss:// (tcp://, ssl://, tls://
	// are read as their mqtt equivalents).
	URL      string   `json:"url"`
	Protocol Protocol `json:"protocol"`
	// ClientID defaults to a unique one per connection, so that two windows
	// (or two connections) never take over each other's session.
	ClientID string `json:"client_id,omitempty"`
	// CleanStart drops any session the broker holds for ClientID. With it
	// off, SessionExpiry (seconds; MQTT 5) says how long the broker keeps
	// the session after a disconnect; MQTT 3.1.1 keeps it until a clean
	// connect.
	CleanStart    bool   `json:"clean_start"`
	SessionExpiry uint32 `json:"session_expiry,omitempty"`
	// KeepAlive in seconds; 0 means DefaultKeepAlive.
	KeepAlive uint16 `json:"keep_alive,omitempty"`
	Username  string `json:"username,omitempty"`
	// HasPassword says the keyring (or the session) holds a password for
	// this profile; an empty password is different from none.
	HasPassword bool       `json:"has_password,omitempty"`
	TLS         TLSOptions `json:"tls,omitzero"`
	Will        *Will      `json:"will,omitempty"`
	// Azure, when set, generates the password as a SAS token from the
	// device key in the keyring at every connect.
	Azure *AzureAuth `json:"azure,omitempty"`
	// Subscribe lists the filters to subscribe to at every connect, so the
	// Explorer shows the broker's traffic without a trip to the Subscribe
	// panel ("#" for the whole broker).
	Subscribe []Subscription `json:"subscribe,omitempty"`
	// ConnectAtStart: the app opens the connection when it starts; the
	// Connections panel sets it when the user connects and clears it when
	// they disconnect, so the app comes back as it was left.
	ConnectAtStart bool `json:"connect_at_start,omitempty"`
	// Preset names the preset the profile was made from, for the UI.
	Preset PresetKind `json:"preset,omitempty"`
	// Templates are the topics the preset's service expects this client to
	// publish to (Yandex IoT Core's events and state), shown with the
	// profile so the user need not look them up.
	Templates []Template `json:"templates,omitempty"`
}

// Template is a topic a profile is meant to publish to.
type Template struct {
	Name  string `json:"name"`
	Topic string `json:"topic"`
	QoS   byte   `json:"qos,omitempty"`
}

// TLSOptions apply to mqtts:// and wss:// URLs.
type TLSOptions struct {
	// CAFile is a PEM bundle to trust instead of the system's roots.
	CAFile string `json:"ca_file,omitempty"`
	// CertFile and KeyFile are the client certificate and its key (PEM).
	// An encrypted key takes its passphrase from the keyring.
	CertFile      string `json:"cert_file,omitempty"`
	KeyFile       string `json:"key_file,omitempty"`
	HasPassphrase bool   `json:"has_passphrase,omitempty"`
	// ServerName overrides the name checked against the broker's
	// certificate (and sent as SNI); default: the URL's host.
	ServerName string   `json:"server_name,omitempty"`
	ALPN       []string `json:"alpn,omitempty"`
	// Insecure skips checking the broker's certificate. The UI must warn:
	// anyone in between can read and change the traffic.
	Insecure bool `json:"insecure,omitempty"`
	// BuiltinCA names a CA built into IoT Studio (BuiltinYandex) to trust
	// besides the system's roots, for a cloud whose CA no system trusts;
	// CAFile, when given, wins.
	BuiltinCA string `json:"builtin_ca,omitempty"`
}

// Will is the message the broker publishes if the connection dies.
type Will struct {
	Topic   string `json:"topic"`
	Payload []byte `json:"payload,omitempty"`
	QoS     byte   `json:"qos,omitempty"`
	Retain  bool   `json:"retain,omitempty"`
}

// AzureAuth holds what a SAS token is made from, except the key.
type AzureAuth struct {
	Hub    string `json:"hub"`    // host name, e.g. myhub.azure-devices.net
	Device string `json:"device"` // device ID
	// TokenLifetime is how long each generated token is valid.
	TokenLifetime Duration `json:"token_lifetime"`
}

// Duration is a time.Duration that reads and writes as "1h30m" in JSON.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w (write it like 1h or 30m)", b, err)
	}
	*d = Duration(v)
	return nil
}

// DefaultKeepAlive is used when a profile gives none.
const DefaultKeepAlive = 30

// NewID returns a random profile ID.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// UniqueClientID returns a client ID no other IoT Studio window will use:
// "iotstudio-" and 8 random hex digits (23 characters at most, the length
// every MQTT 3.1.1 broker must accept [MQTT-3.1.3-5]).
func UniqueClientID() string { return randomClientID("iotstudio-") }

// randomClientID is prefix and 8 random hex digits.
func randomClientID(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Validate checks what can be checked without the network. Its errors name
// the field and say what to enter.
func (p Profile) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if strings.TrimSpace(p.Name) == "" {
		bad("the connection needs a name")
	}
	t, err := transport.ParseURL(p.URL)
	if err != nil {
		bad("URL: %w", err)
	}
	switch p.Protocol {
	case MQTT5, MQTT311, ProtocolAuto:
	default:
		bad("protocol %q: choose %q, %q or %q (automatic)", p.Protocol, MQTT5, MQTT311, ProtocolAuto)
	}
	if p.Protocol != MQTT5 && p.ClientID == "" && !p.CleanStart {
		bad("client ID: MQTT 3.1.1 (which the automatic protocol may choose) keeps a session only under a fixed client ID; enter one or turn on clean start")
	}
	if err == nil && !t.TLS() {
		if p.TLS.CAFile != "" || p.TLS.CertFile != "" || p.TLS.KeyFile != "" || len(p.TLS.ALPN) > 0 || p.TLS.Insecure {
			bad("TLS settings apply to mqtts:// and wss:// URLs only; change the URL or clear them")
		}
	}
	if (p.TLS.CertFile == "") != (p.TLS.KeyFile == "") {
		bad("TLS: the client certificate and its key go together; give both files")
	}
	for _, f := range []struct{ what, path string }{{"CA file", p.TLS.CAFile}, {"client certificate", p.TLS.CertFile}, {"client key", p.TLS.KeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			bad("TLS %s %s: %w", f.what, f.path, errors.Unwrap(err))
		}
	}
	if w := p.Will; w != nil {
		if w.Topic == "" || strings.ContainsAny(w.Topic, "+#") {
			bad("last will topic %q: give a topic without wildcards (+ or #)", w.Topic)
		}
		if w.QoS > 2 {
			bad("last will QoS %d: use 0, 1 or 2", w.QoS)
		}
	}
	for _, sub := range p.Subscribe {
		if err := CheckSubscription(sub, p.Protocol); err != nil {
			bad("subscribe on connect: %w", err)
		}
	}
	if a := p.Azure; a != nil {
		if a.Hub == "" || a.Device == "" {
			bad("Azure IoT Hub: give the hub host name and the device ID")
		}
		if a.TokenLifetime <= 0 {
			bad("Azure IoT Hub: give how long each SAS token lives, e.g. 1h")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("connection %q: %w", p.Name, errors.Join(errs...))
	}
	return nil
}
