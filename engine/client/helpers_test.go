package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/message"
)

func testLogger() *slog.Logger {
	if os.Getenv("CLIENT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testOptions retry fast so that reconnect tests take seconds.
func testOptions() Options {
	return Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, Timeout: 5 * time.Second, Logger: testLogger()}
}

// recorder collects what connections hand it.
type recorder struct {
	mu   sync.Mutex
	recs []message.Message
	got  chan message.Message
}

func newRecorder() *recorder { return &recorder{got: make(chan message.Message, 1024)} }

func (r *recorder) Ingest(rec message.Message) bool {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
	select {
	case r.got <- rec:
	default:
	}
	return true
}

// next waits for a record on topic.
func (r *recorder) next(t *testing.T, topic string) message.Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case rec := <-r.got:
			if rec.Topic == topic {
				return rec
			}
		case <-deadline:
			t.Fatalf("no message on %q within 10s", topic)
		}
	}
}

// none checks that nothing arrives on topic for d.
func (r *recorder) none(t *testing.T, topic string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case rec := <-r.got:
			if rec.Topic == topic {
				t.Fatalf("unexpected message on %q: %q", topic, rec.Payload)
			}
		case <-deadline:
			return
		}
	}
}

// waitState waits until c reaches want and returns that status.
func waitState(t *testing.T, c *Connection, want State, within time.Duration) Status {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := c.Status()
		if s.State == want {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: state %s (last error: %v), want %s after %s", c.Profile().Name, s.State, s.LastError, want, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitError waits for a failed attempt and returns its error.
func waitError(t *testing.T, c *Connection) *ConnError {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := c.Status()
		if s.LastError != nil {
			ce, ok := s.LastError.(*ConnError)
			if !ok {
				t.Fatalf("last error is %T %v, want *ConnError", s.LastError, s.LastError)
			}
			return ce
		}
		if s.State == StateConnected {
			t.Fatalf("%s connected; want a failure", c.Profile().Name)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no error within 15s (state %s)", c.Profile().Name, s.State)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startEmbedded runs IoT Studio's own broker on a free loopback port.
func startEmbedded(t *testing.T) string {
	t.Helper()
	return startEmbeddedWith(t, "")
}

// startEmbeddedWith runs it with a users file (see testdata/users.yaml).
func startEmbeddedWith(t *testing.T, usersFile string) string {
	t.Helper()
	b, err := broker.New(broker.Config{MQTTAddr: "127.0.0.1:0", NoPersistence: true, UsersFile: usersFile, DataDir: t.TempDir(), Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	for _, l := range b.State().Listeners {
		if l.Name == "mqtt" {
			return l.Address
		}
	}
	t.Fatal("embedded broker has no mqtt listener")
	return ""
}

func mqttURL(port int) string { return fmt.Sprintf("mqtt://127.0.0.1:%d", port) }

// pki is a test CA with certificates it signed, written as PEM files.
type pki struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	CAFile string
	serial int64
	t      *testing.T
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &pki{dir: t.TempDir(), ca: ca, caKey: key, serial: 1, t: t}
	p.CAFile = p.write(name+"-ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

type certSpec struct {
	name      string
	dns       []string
	ips       []net.IP
	client    bool
	notBefore time.Time
	notAfter  time.Time
}

// issue returns the certificate and key files for spec.
func (p *pki) issue(s certSpec) (certFile, keyFile string) {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serial++
	if s.notBefore.IsZero() {
		s.notBefore = time.Now().Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = time.Now().Add(24 * time.Hour)
	}
	usage := x509.ExtKeyUsageServerAuth
	if s.client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: s.name},
		NotBefore: s.notBefore, NotAfter: s.notAfter, DNSNames: s.dns, IPAddresses: s.ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.write(s.name+".pem", "CERTIFICATE", der), p.write(s.name+"-key.pem", "EC PRIVATE KEY", kder)
}

// profile is a minimal valid profile for url.
func profile(name, url string, proto Protocol) Profile {
	return Profile{ID: NewID(), Name: name, URL: url, Protocol: proto, CleanStart: true}
}

// open opens p on a fresh Manager closed at the end of the test.
func open(t *testing.T, rec message.Sink, p Profile, creds Credentials) (*Manager, *Connection) {
	t.Helper()
	m := NewManager(rec, testOptions())
	c, err := m.Open(p, creds)
	if err != nil {
		t.Fatalf("open %s: %v", p.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.CloseAll(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m, c
}
