package client

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
)

// The profile fields the other integration tests do not reach: WebSocket
// URLs, ALPN, an encrypted client key, the last will and a session that
// outlives its connection. All against real brokers on loopback.

// roundTrip subscribes on c and publishes through it, failing unless the
// message comes back through the connection's recorder.
func roundTrip(t *testing.T, c *Connection, rec *recorder, topic string) {
	t.Helper()
	res, err := c.Subscribe(t.Context(), Subscription{Filter: topic, QoS: 1})
	if err != nil || len(res) != 1 || res[0].Refused {
		t.Fatalf("subscribe %s: %+v %v", topic, res, err)
	}
	if err := c.Publish(t.Context(), Message{Topic: topic, Payload: []byte("over " + c.Profile().URL), QoS: 1}); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
	if r := rec.next(t, topic); string(r.Payload) != "over "+c.Profile().URL {
		t.Fatalf("got %q", r.Payload)
	}
}

func TestWebSocketURLs(t *testing.T) {
	// Debian's mosquitto 2.0.11 cannot open a websockets listener on this
	// kind of machine ("Unable to start any listening sockets"), so the
	// peer is the embedded broker's WebSocket listener, and wss:// reaches
	// it through a TLS front as it would behind a reverse proxy.
	ca := newPKI(t, "ws-ca")
	ws := startEmbeddedWS(t)
	wss := startTLSFront(t, ca, ws)

	for _, proto := range []Protocol{MQTT5, MQTT311} {
		for _, tc := range []struct {
			name string
			url  string
			tls  TLSOptions
		}{
			{"ws", "ws://" + ws + "/mqtt", TLSOptions{}},
			{"wss", "wss://" + wss.addr + "/mqtt", TLSOptions{CAFile: ca.CAFile}},
		} {
			t.Run(tc.name+" "+string(proto), func(t *testing.T) {
				p := profile(tc.name, tc.url, proto)
				p.TLS = tc.tls
				rec := newRecorder()
				_, c := open(t, rec, p, Credentials{})
				waitState(t, c, StateConnected, 10*time.Second)
				roundTrip(t, c, rec, "ws/"+tc.name+"/"+string(proto))
			})
		}
	}

	t.Run("wss with an untrusted certificate", func(t *testing.T) {
		p := profile("wss-untrusted", "wss://"+wss.addr+"/mqtt", MQTT5)
		_, c := open(t, newRecorder(), p, Credentials{})
		if ce := waitError(t, c); ce.Kind != ErrTLSUnknownAuthority {
			t.Errorf("got kind %d %q; want an unknown-authority error", ce.Kind, ce)
		}
	})
	t.Run("wrong path", func(t *testing.T) {
		p := profile("ws-wrong-path", "ws://"+ws+"/nothing-here", MQTT5)
		_, c := open(t, newRecorder(), p, Credentials{})
		if ce := waitError(t, c); ce.Kind != ErrWebSocket {
			t.Errorf("got kind %d %q; want a WebSocket error", ce.Kind, ce)
		}
	})
}

// startEmbeddedWS runs the embedded broker with only its WebSocket
// listener and returns that listener's HOST:PORT.
func startEmbeddedWS(t *testing.T) string {
	t.Helper()
	b, err := broker.New(broker.Config{WSAddr: "127.0.0.1:0", NoPersistence: true, DataDir: t.TempDir(), Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	for _, l := range b.State().Listeners {
		if l.Name == "ws" {
			return strings.TrimSuffix(strings.TrimPrefix(l.Address, "ws://"), "/mqtt")
		}
	}
	t.Fatalf("embedded broker has no ws listener: %+v", b.State().Listeners)
	return ""
}

// tlsFront terminates TLS for a plain broker listener, like a reverse proxy
// or the load balancer AWS IoT Core puts on port 443. It records the
// application protocols each client offers; given protos, it talks only to
// clients that offer one of them.
type tlsFront struct {
	addr string
	mu   sync.Mutex
	seen [][]string
}

func startTLSFront(t *testing.T, ca *pki, backend string, protos ...string) *tlsFront {
	t.Helper()
	certFile, keyFile := ca.issue(certSpec{name: "alpn-front", ips: []net.IP{net.ParseIP("127.0.0.1")}})
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	a := &tlsFront{}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: protos,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			a.mu.Lock()
			a.seen = append(a.seen, slices.Clone(hello.SupportedProtos))
			a.mu.Unlock()
			if len(protos) > 0 && len(hello.SupportedProtos) == 0 {
				return nil, errors.New("no ALPN offered")
			}
			return nil, nil
		}}
	l, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	a.addr = l.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			front, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { pipe(front, backend) })
		}
	})
	return a
}

// pipe copies between front and a new connection to backend until either
// side closes.
func pipe(front net.Conn, backend string) {
	defer front.Close()
	back, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer back.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(back, front); done <- struct{}{} }()
	go func() { _, _ = io.Copy(front, back); done <- struct{}{} }()
	<-done
}

func (a *tlsFront) offered() [][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seen)
}

func TestALPN(t *testing.T) {
	ca := newPKI(t, "alpn-ca")
	front := startTLSFront(t, ca, startEmbedded(t), AWSALPN)
	url := "mqtts://" + front.addr

	for _, proto := range []Protocol{MQTT5, MQTT311} {
		t.Run("offered "+string(proto), func(t *testing.T) {
			p := profile("alpn", url, proto)
			p.TLS = TLSOptions{CAFile: ca.CAFile, ALPN: []string{AWSALPN}}
			rec := newRecorder()
			_, c := open(t, rec, p, Credentials{})
			waitState(t, c, StateConnected, 10*time.Second)
			roundTrip(t, c, rec, "alpn/"+string(proto))
		})
	}
	// What AWS IoT Core does on 443 without ALPN: end the handshake. The
	// error must point at the missing setting.
	t.Run("not offered", func(t *testing.T) {
		p := profile("no-alpn", url, MQTT5)
		p.TLS = TLSOptions{CAFile: ca.CAFile}
		_, c := open(t, newRecorder(), p, Credentials{})
		if ce := waitError(t, c); !strings.Contains(ce.Error(), "ALPN") {
			t.Errorf("error %q does not point at ALPN", ce)
		}
	})
	var withALPN int
	for _, got := range front.offered() {
		if slices.Equal(got, []string{AWSALPN}) {
			withALPN++
		} else if len(got) != 0 {
			t.Errorf("a client offered %q", got)
		}
	}
	if withALPN < 2 {
		t.Errorf("%d handshakes offered %q; want one per protocol version (offers: %q)", withALPN, AWSALPN, front.offered())
	}
}

// encryptKey rewrites keyFile as a passphrase-protected PEM (the legacy
// "Proc-Type: 4,ENCRYPTED" form that OpenSSL still writes with -aes256).
func encryptKey(t *testing.T, keyFile, passphrase string) string {
	t.Helper()
	raw, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	enc, err := x509.EncryptPEMBlock(rand.Reader, block.Type, block.Bytes, []byte(passphrase), x509.PEMCipherAES256) //nolint:staticcheck // the legacy format is what users have
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "encrypted-key.pem")
	if err := os.WriteFile(out, pem.EncodeToMemory(enc), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEncryptedClientKey(t *testing.T) {
	ca := newPKI(t, "enc-ca")
	srvCert, srvKey := ca.issue(certSpec{name: "server", ips: []net.IP{net.ParseIP("127.0.0.1")}})
	cliCert, cliKey := ca.issue(certSpec{name: "client", client: true})
	encKey := encryptKey(t, cliKey, "correct horse")
	port := testkit.FreePort(t)
	mosquittopeer.New(t, fmt.Sprintf("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\nallow_anonymous true\n",
		port, ca.CAFile, srvCert, srvKey), port).Start()

	p := profile("encrypted key", fmt.Sprintf("mqtts://127.0.0.1:%d", port), MQTT5)
	p.TLS = TLSOptions{CAFile: ca.CAFile, CertFile: cliCert, KeyFile: encKey, HasPassphrase: true}

	t.Run("right passphrase", func(t *testing.T) {
		rec := newRecorder()
		_, c := open(t, rec, p, Credentials{KeyPassphrase: "correct horse"})
		waitState(t, c, StateConnected, 10*time.Second)
		roundTrip(t, c, rec, "enc/ok")
	})
	for _, tc := range []struct{ name, passphrase string }{{"wrong passphrase", "battery staple"}, {"no passphrase", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewManager(newRecorder(), testOptions())
			defer func() { _ = m.CloseAll(context.Background()) }()
			c, err := m.Open(p, Credentials{KeyPassphrase: tc.passphrase})
			if err == nil {
				err = waitError(t, c)
			}
			msg := strings.ToLower(err.Error())
			if !strings.Contains(msg, "passphrase") || !strings.Contains(err.Error(), filepath.Base(encKey)) {
				t.Errorf("error %q does not say the key file's passphrase is the problem", err)
			}
			if strings.Contains(err.Error(), tc.passphrase) && tc.passphrase != "" {
				t.Errorf("error %q shows the passphrase", err)
			}
		})
	}
}

// cutter forwards connections to a broker and can drop them all at once,
// the way a device losing its network does: no DISCONNECT reaches the
// broker, so it must publish the will. The network stays down: later
// connection attempts are refused.
type cutter struct {
	addr  string
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startCutter(t *testing.T, backend string) *cutter {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{addr: l.Addr().String(), l: l}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); c.cut(); wg.Wait() })
	wg.Go(func() {
		for {
			front, err := l.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, front)
			c.mu.Unlock()
			wg.Go(func() { pipe(front, backend) })
		}
	})
	return c
}

func (c *cutter) cut() {
	c.l.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func TestLastWill(t *testing.T) {
	port := testkit.FreePort(t)
	mosquittopeer.New(t, fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", port), port).Start()
	for _, proto := range []Protocol{MQTT5, MQTT311} {
		t.Run(string(proto), func(t *testing.T) {
			topic := "will/" + string(proto)
			rec := newRecorder()
			_, watcher := open(t, rec, profile("watcher", mqttURL(port), MQTT5), Credentials{})
			waitState(t, watcher, StateConnected, 10*time.Second)
			if _, err := watcher.Subscribe(t.Context(), Subscription{Filter: topic, QoS: 1}); err != nil {
				t.Fatal(err)
			}

			link := startCutter(t, fmt.Sprintf("127.0.0.1:%d", port))
			p := profile("device", "mqtt://"+link.addr, proto)
			p.KeepAlive = 5
			p.Will = &Will{Topic: topic, Payload: []byte("offline"), QoS: 1}
			m := NewManager(newRecorder(), Options{MinBackoff: time.Minute, MaxBackoff: time.Minute, Timeout: 5 * time.Second, Logger: testLogger()})
			defer func() { _ = m.CloseAll(context.Background()) }()
			dev, err := m.Open(p, Credentials{})
			if err != nil {
				t.Fatal(err)
			}
			waitState(t, dev, StateConnected, 10*time.Second)
			rec.none(t, topic, 200*time.Millisecond) // no will while it lives

			link.cut()
			if r := rec.next(t, topic); string(r.Payload) != "offline" {
				t.Errorf("will payload %q", r.Payload)
			}
			waitState(t, dev, StateReconnecting, 10*time.Second)
		})
	}
}

func TestPersistentSession(t *testing.T) {
	port := testkit.FreePort(t)
	mosquittopeer.New(t, fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", port), port).Start()
	for _, proto := range []Protocol{MQTT5, MQTT311} {
		t.Run(string(proto), func(t *testing.T) {
			topic := "session/" + string(proto)
			p := profile("persistent", mqttURL(port), proto)
			p.ClientID = "iotstudio-persistent-" + string(proto)
			p.CleanStart = false
			p.SessionExpiry = 300

			rec := newRecorder()
			m := NewManager(rec, testOptions())
			defer func() { _ = m.CloseAll(context.Background()) }()
			c, err := m.Open(p, Credentials{})
			if err != nil {
				t.Fatal(err)
			}
			waitState(t, c, StateConnected, 10*time.Second)
			if _, err := c.Subscribe(t.Context(), Subscription{Filter: topic, QoS: 1}); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(t.Context(), p.Name); err != nil {
				t.Fatal(err)
			}

			// Published while the profile is disconnected: the broker queues
			// it in the session.
			_, pub := open(t, newRecorder(), profile("publisher", mqttURL(port), MQTT5), Credentials{})
			waitState(t, pub, StateConnected, 10*time.Second)
			if err := pub.Publish(t.Context(), Message{Topic: topic, Payload: []byte("while away"), QoS: 1}); err != nil {
				t.Fatal(err)
			}

			c, err = m.Open(p, Credentials{})
			if err != nil {
				t.Fatal(err)
			}
			waitState(t, c, StateConnected, 10*time.Second)
			if r := rec.next(t, topic); string(r.Payload) != "while away" {
				t.Errorf("queued message %q", r.Payload)
			}
		})
	}
}

// A profile's subscribe-on-connect filters are made at the first connect
// and again after a reconnect that lost the session, with no Subscribe
// call: what makes a remote broker's tree appear in the Explorer at once.
func TestSubscribeOnConnect(t *testing.T) {
	port := testkit.FreePort(t)
	mosq := mosquittopeer.New(t, fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", port), port)
	mosq.Start()
	_, pub := open(t, newRecorder(), profile("publisher", mqttURL(port), MQTT5), Credentials{})
	for _, proto := range []Protocol{MQTT5, MQTT311} {
		t.Run(string(proto), func(t *testing.T) {
			topic := "auto/" + string(proto) + "/x"
			p := profile("watching", mqttURL(port), proto)
			p.Subscribe = []Subscription{{Filter: "auto/" + string(proto) + "/#", QoS: 1}}
			rec := newRecorder()
			_, c := open(t, rec, p, Credentials{})
			publish := func(payload string) {
				t.Helper()
				waitState(t, pub, StateConnected, 15*time.Second)
				// The subscription is made just after CONNACK: publish until
				// it is in place rather than guess how long that takes.
				deadline := time.Now().Add(10 * time.Second)
				for {
					if err := pub.Publish(t.Context(), Message{Topic: topic, Payload: []byte(payload), QoS: 1}); err != nil {
						t.Fatal(err)
					}
					select {
					case r := <-rec.got:
						if r.Topic == topic && string(r.Payload) == payload {
							return
						}
					case <-time.After(200 * time.Millisecond):
					}
					if time.Now().After(deadline) {
						t.Fatalf("%q never arrived through the subscribe-on-connect filter", payload)
					}
				}
			}
			waitState(t, c, StateConnected, 10*time.Second)
			publish("first connect")
			if subs := c.Subscriptions(); len(subs) != 1 || subs[0].Filter != p.Subscribe[0].Filter {
				t.Errorf("the connection holds %+v", subs)
			}

			mosq.Kill() // persistence off: the restarted broker has no session
			waitState(t, c, StateReconnecting, 10*time.Second)
			mosq.Start()
			waitState(t, c, StateConnected, 20*time.Second)
			publish("after the broker restarted")
		})
	}
}
