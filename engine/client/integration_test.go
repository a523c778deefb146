package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
)

// brokerCase is a real broker a test connects to.
type brokerCase struct {
	name string
	url  func(t *testing.T) string
}

func brokers() []brokerCase {
	return []brokerCase{
		{"embedded", func(t *testing.T) string { return "mqtt://" + startEmbedded(t) }},
		{"mosquitto", func(t *testing.T) string { return mosquittopeer.Start(t, "").URL() }},
	}
}

// TestPublishSubscribe sends messages across both protocols on both
// brokers and checks what the Recorder gets: one connection subscribes,
// the other publishes, in every protocol pairing.
func TestPublishSubscribe(t *testing.T) {
	for _, b := range brokers() {
		t.Run(b.name, func(t *testing.T) {
			url := b.url(t)
			for _, pair := range [][2]Protocol{{MQTT5, MQTT5}, {MQTT311, MQTT311}, {MQTT5, MQTT311}, {MQTT311, MQTT5}} {
				sub, pub := pair[0], pair[1]
				t.Run("sub "+string(sub)+" pub "+string(pub), func(t *testing.T) {
					rec := newRecorder()
					m := NewManager(rec, testOptions())
					defer func() { _ = m.CloseAll(context.Background()) }()
					sc, err := m.Open(profile("sub-"+string(sub), url, sub), Credentials{})
					if err != nil {
						t.Fatal(err)
					}
					pc, err := m.Open(profile("pub-"+string(pub), url, pub), Credentials{})
					if err != nil {
						t.Fatal(err)
					}
					waitState(t, sc, StateConnected, 10*time.Second)
					waitState(t, pc, StateConnected, 10*time.Second)
					if len(m.Snapshot()) != 2 {
						t.Fatalf("snapshot: %+v", m.Snapshot())
					}
					root := fmt.Sprintf("it/%s/%s-%s", b.name, sub, pub)
					res, err := sc.Subscribe(t.Context(), Subscription{Filter: root + "/#", QoS: 2})
					if err != nil || len(res) != 1 || res[0].Refused || res[0].Granted != 2 {
						t.Fatalf("subscribe: %+v, %v", res, err)
					}
					for qos := range byte(3) {
						topic := fmt.Sprintf("%s/q%d", root, qos)
						payload := []byte(fmt.Sprintf("payload %d \x00\xff", qos))
						if err := pc.Publish(t.Context(), Message{Topic: topic, Payload: payload, QoS: qos}); err != nil {
							t.Fatalf("publish QoS %d: %v", qos, err)
						}
						r := rec.next(t, topic)
						if string(r.Payload) != string(payload) || r.QoS != qos || r.Source != sc.Profile().Name || r.Protocol != sub.Level() || r.ClientID != "" || r.Time.IsZero() {
							t.Errorf("QoS %d: got %+v", qos, r)
						}
					}
					// A retained message reaches a later subscription with its
					// flag. The subscription overlaps root/#, and after
					// unsubscribing both nothing arrives (the embedded broker
					// used to refuse an UNSUBSCRIBE that reused the packet ID of
					// a delivery in flight, silently for 3.1.1).
					kept := root + "/retained/kept"
					if err := pc.Publish(t.Context(), Message{Topic: kept, Payload: []byte("r"), QoS: 1, Retain: true}); err != nil {
						t.Fatal(err)
					}
					if r := rec.next(t, kept); r.Retain {
						t.Errorf("the live copy through root/# came with the retain flag")
					}
					if _, err := sc.Subscribe(t.Context(), Subscription{Filter: kept, QoS: 1}); err != nil {
						t.Fatal(err)
					}
					if !gotRetained(rec, kept, 5*time.Second) {
						t.Fatal("a new subscription did not get the retained message")
					}
					if err := pc.Publish(t.Context(), Message{Topic: kept, Retain: true, QoS: 1}); err != nil { // clear it
						t.Fatal(err)
					}
					if err := sc.Unsubscribe(t.Context(), root+"/#", kept); err != nil {
						t.Fatal(err)
					}
					if err := pc.Publish(t.Context(), Message{Topic: root + "/after", Payload: []byte("x"), QoS: 1}); err != nil {
						t.Fatal(err)
					}
					rec.none(t, root+"/after", 300*time.Millisecond)
				})
			}
		})
	}
}

// TestMQTT5PropertiesAndOptions checks what only MQTT 5 carries, against
// both brokers: message properties, no-local and retain handling.
func TestMQTT5PropertiesAndOptions(t *testing.T) {
	for _, b := range brokers() {
		t.Run(b.name, func(t *testing.T) {
			rec := newRecorder()
			_, c := open(t, rec, profile("v5", b.url(t), MQTT5), Credentials{})
			waitState(t, c, StateConnected, 10*time.Second)
			one, expiry := byte(1), uint32(3600)
			if _, err := c.Subscribe(t.Context(), Subscription{Filter: "props/#", QoS: 1}); err != nil {
				t.Fatal(err)
			}
			sent := Message{Topic: "props/a", Payload: []byte(`{"t":1}`), QoS: 1, ContentType: "application/json", PayloadFormat: &one, MessageExpiry: &expiry,
				ResponseTopic: "props/reply", CorrelationData: []byte{1, 2}, UserProps: nil}
			sent.UserProps = append(sent.UserProps, struct{ Key, Value string }{"k", "v"}, struct{ Key, Value string }{"k", "w"})
			if err := c.Publish(t.Context(), sent); err != nil {
				t.Fatal(err)
			}
			r := rec.next(t, "props/a")
			if r.ContentType != "application/json" || r.PayloadFormat == nil || *r.PayloadFormat != 1 || r.MessageExpiry == nil || *r.MessageExpiry == 0 ||
				r.ResponseTopic != "props/reply" || string(r.CorrelationData) != "\x01\x02" || len(r.UserProps) != 2 || r.UserProps[1].Value != "w" {
				t.Errorf("properties lost: %+v", r)
			}
			// No-local: our own publishes do not come back.
			if _, err := c.Subscribe(t.Context(), Subscription{Filter: "nolocal/x", QoS: 1, NoLocal: true}); err != nil {
				t.Fatal(err)
			}
			if err := c.Publish(t.Context(), Message{Topic: "nolocal/x", Payload: []byte("me"), QoS: 1}); err != nil {
				t.Fatal(err)
			}
			rec.none(t, "nolocal/x", 300*time.Millisecond)
			// Retain handling 2: no retained messages at subscribe time.
			if err := c.Publish(t.Context(), Message{Topic: "rh/x", Payload: []byte("kept"), QoS: 1, Retain: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Subscribe(t.Context(), Subscription{Filter: "rh/x", QoS: 1, RetainHandling: 2}); err != nil {
				t.Fatal(err)
			}
			rec.none(t, "rh/x", 300*time.Millisecond)
			if _, err := c.Subscribe(t.Context(), Subscription{Filter: "rh/+", QoS: 1, RetainAsPublished: true}); err != nil {
				t.Fatal(err)
			}
			if r := rec.next(t, "rh/x"); !r.Retain {
				t.Errorf("retain handling 0 with retain-as-published: %+v", r)
			}
			_ = c.Publish(t.Context(), Message{Topic: "rh/x", Retain: true, QoS: 1})
		})
	}
}

func TestV3RefusesV5Only(t *testing.T) {
	_, c := open(t, nil, profile("v3", "mqtt://"+startEmbedded(t), MQTT311), Credentials{})
	waitState(t, c, StateConnected, 10*time.Second)
	if _, err := c.Subscribe(t.Context(), Subscription{Filter: "a", NoLocal: true}); err == nil || !strings.Contains(err.Error(), "are MQTT 5 options") {
		t.Errorf("no-local on 3.1.1: %v", err)
	}
	// The broker would have to close the connection over these, so they
	// never leave the client.
	if _, err := c.Subscribe(t.Context(), Subscription{Filter: "a/#/b"}); err == nil || !strings.Contains(err.Error(), "must be the last level") {
		t.Errorf("# not last: %v", err)
	}
	if st := c.Status(); st.State != StateConnected {
		t.Errorf("after refused subscriptions: %s", st.State)
	}
	if err := c.Publish(t.Context(), Message{Topic: "a", ContentType: "text/plain"}); err == nil || !strings.Contains(err.Error(), "need MQTT 5") {
		t.Errorf("properties on 3.1.1: %v", err)
	}
}

// usersFile is the repository's example users file: alice/alice-demo has
// full access; sensor/sensor-demo may read sensors/+/config, write
// sensors/#, and nothing else.
const usersFile = "../../testdata/users.yaml"

// TestSubackRefusalInWords subscribes where the embedded broker's ACL
// forbids it. (Debian's mosquitto grants such subscriptions and filters
// on delivery instead, so it cannot show a refusal.)
func TestSubackRefusalInWords(t *testing.T) {
	url := "mqtt://" + startEmbeddedWith(t, usersFile)
	for _, proto := range []Protocol{MQTT5, MQTT311} {
		t.Run(string(proto), func(t *testing.T) {
			p := profile("acl-"+string(proto), url, proto)
			p.Username, p.HasPassword = "sensor", true
			_, c := open(t, nil, p, Credentials{Password: "sensor-demo"})
			waitState(t, c, StateConnected, 10*time.Second)
			res, err := c.Subscribe(t.Context(), Subscription{Filter: "sensors/+/config", QoS: 1}, Subscription{Filter: "secret/#", QoS: 1})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Refused || res[0].Granted != 1 {
				t.Errorf("sensors/+/config: %+v", res[0])
			}
			want := "not authorized"
			if proto == MQTT311 {
				want = "refused by the broker"
			}
			if !res[1].Refused || !strings.Contains(res[1].Reason, want) {
				t.Errorf("secret/#: %+v, want refused saying %q", res[1], want)
			}
			if got := c.Subscriptions(); len(got) != 1 || got[0].Filter != "sensors/+/config" {
				t.Errorf("held subscriptions: %+v", got)
			}
		})
	}
}

func TestPasswordListener(t *testing.T) {
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		mosquittopeer.Binary(t) // the same package: skips or fails as for mosquitto itself
		t.Fatal("mosquitto_passwd missing")
	}
	file := filepath.Join(t.TempDir(), "passwd")
	if out, err := exec.Command(passwd, "-b", "-c", file, "alice", "alice-demo").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	port := testkit.FreePort(t)
	mosquittopeer.New(t, fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s\n", port, file), port).Start()
	urls := map[string]string{"mosquitto": mqttURL(port), "embedded": "mqtt://" + startEmbeddedWith(t, usersFile)}
	tests := []struct {
		broker   string
		name     string
		user, pw string
		has      bool
		kind     ErrorKind // ErrOther: connects
		words    string
		v3kind   ErrorKind // when not ErrOther, what MQTT 3.1.1 gets instead
		v3words  string
	}{
		{"mosquitto", "right password", "alice", "alice-demo", true, ErrOther, "", ErrOther, ""},
		// mosquitto answers a wrong password with "not authorized".
		{"mosquitto", "wrong password", "alice", "wrong", true, ErrNotAuthorized, `user "alice" is not authorized to connect; check the user name and password`, ErrOther, ""},
		{"mosquitto", "no user", "", "", false, ErrNotAuthorized, "not authorized; it may want a user name and password", ErrOther, ""},
		{"embedded", "right password", "alice", "alice-demo", true, ErrOther, "", ErrOther, ""},
		// The embedded broker says "bad user name or password" in MQTT 5
		// and "not authorized" in 3.1.1.
		{"embedded", "wrong password", "alice", "wrong", true, ErrBadCredentials, `refused user "alice": bad user name or password`, ErrNotAuthorized, `user "alice" is not authorized`},
		{"embedded", "no user", "", "", false, ErrBadCredentials, "wants a user name and password", ErrNotAuthorized, "it may want a user name and password"},
	}
	for _, proto := range []Protocol{MQTT5, MQTT311} {
		for _, tc := range tests {
			t.Run(tc.broker+" "+string(proto)+" "+tc.name, func(t *testing.T) {
				p := profile(tc.name, urls[tc.broker], proto)
				p.Username, p.HasPassword = tc.user, tc.has
				_, c := open(t, nil, p, Credentials{Password: tc.pw})
				if tc.kind == ErrOther {
					waitState(t, c, StateConnected, 10*time.Second)
					return
				}
				ce := waitError(t, c)
				if proto == MQTT311 && tc.v3kind != ErrOther {
					tc.kind, tc.words = tc.v3kind, tc.v3words
				}
				if ce.Kind != tc.kind || !strings.Contains(ce.Error(), tc.words) {
					t.Errorf("got kind %d %q; want kind %d saying %q", ce.Kind, ce, tc.kind, tc.words)
				}
				if tc.pw != "" && strings.Contains(ce.Error(), tc.pw) {
					t.Errorf("the error shows the password: %v", ce)
				}
				if s := c.Status(); s.State != StateReconnecting || s.Attempts < 1 {
					t.Errorf("status after a refusal: %+v", s)
				}
			})
		}
	}
}

// TestTLSErrors runs mosquitto with TLS listeners (client certificates
// required) and checks that each certificate problem is named.
func TestTLSErrors(t *testing.T) {
	ca := newPKI(t, "test-ca")
	other := newPKI(t, "other-ca")
	loop := []net.IP{net.ParseIP("127.0.0.1")}
	srvCert, srvKey := ca.issue(certSpec{name: "server", ips: loop, dns: []string{"localhost"}})
	expCert, expKey := ca.issue(certSpec{name: "expired", ips: loop, notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)})
	cliCert, cliKey := ca.issue(certSpec{name: "client", client: true})
	strangerCert, strangerKey := other.issue(certSpec{name: "stranger", client: true})

	good, expired := testkit.FreePort(t), testkit.FreePort(t)
	conf := ""
	for _, l := range []struct {
		port      int
		cert, key string
	}{{good, srvCert, srvKey}, {expired, expCert, expKey}} {
		conf += fmt.Sprintf("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\nallow_anonymous true\n", l.port, ca.CAFile, l.cert, l.key)
	}
	mosquittopeer.New(t, conf, good, expired).Start()

	tests := []struct {
		name   string
		proto  Protocol
		port   int
		caFile string
		cert   string
		key    string
		server string
		kind   ErrorKind // ErrOther: connects
		words  string
	}{
		{"good v5", MQTT5, good, ca.CAFile, cliCert, cliKey, "", ErrOther, ""},
		{"good v3", MQTT311, good, ca.CAFile, cliCert, cliKey, "", ErrOther, ""},
		{"no client cert v5", MQTT5, good, ca.CAFile, "", "", "", ErrClientCertRequired, "requires a client certificate"},
		{"no client cert v3", MQTT311, good, ca.CAFile, "", "", "", ErrClientCertRequired, "requires a client certificate"},
		{"cert from another CA v5", MQTT5, good, ca.CAFile, strangerCert, strangerKey, "", ErrClientCertRejected, "rejected the client certificate"},
		{"cert from another CA v3", MQTT311, good, ca.CAFile, strangerCert, strangerKey, "", ErrClientCertRejected, "rejected the client certificate"},
		{"unknown CA", MQTT5, good, other.CAFile, cliCert, cliKey, "", ErrTLSUnknownAuthority, "authority this machine does not trust"},
		{"unknown CA v3", MQTT311, good, "", cliCert, cliKey, "", ErrTLSUnknownAuthority, "authority this machine does not trust"},
		{"name mismatch", MQTT5, good, ca.CAFile, cliCert, cliKey, "broker.example", ErrTLSNameMismatch, `not valid for "broker.example"`},
		{"expired", MQTT5, expired, ca.CAFile, cliCert, cliKey, "", ErrTLSExpired, "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := profile(tc.name, fmt.Sprintf("mqtts://127.0.0.1:%d", tc.port), tc.proto)
			p.TLS = TLSOptions{CAFile: tc.caFile, CertFile: tc.cert, KeyFile: tc.key, ServerName: tc.server}
			rec := newRecorder()
			_, c := open(t, rec, p, Credentials{})
			if tc.kind == ErrOther {
				waitState(t, c, StateConnected, 10*time.Second)
				if _, err := c.Subscribe(t.Context(), Subscription{Filter: "tls/#", QoS: 1}); err != nil {
					t.Fatal(err)
				}
				if err := c.Publish(t.Context(), Message{Topic: "tls/x", Payload: []byte("over TLS"), QoS: 1}); err != nil {
					t.Fatal(err)
				}
				rec.next(t, "tls/x")
				return
			}
			ce := waitError(t, c)
			if ce.Kind != tc.kind || !strings.Contains(ce.Error(), tc.words) {
				t.Errorf("got kind %d %q; want kind %d saying %q", ce.Kind, ce, tc.kind, tc.words)
			}
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	closed := testkit.FreePort(t) // nothing listens once FreePort closed it
	tests := []struct {
		name, url string
		kind      ErrorKind
		words     string
	}{
		{"refused", mqttURL(closed), ErrRefused, "connection refused"},
		{"unknown host", "mqtt://no-such-host.invalid:1883", ErrDNS, `cannot find the host "no-such-host.invalid"`},
		{"plain port over TLS", "mqtts://" + startEmbedded(t), ErrTLSNotTLS, "did not answer with TLS"},
	}
	for _, tc := range tests {
		for _, proto := range []Protocol{MQTT5, MQTT311} {
			t.Run(tc.name+" "+string(proto), func(t *testing.T) {
				_, c := open(t, nil, profile(tc.name, tc.url, proto), Credentials{})
				ce := waitError(t, c)
				if ce.Kind != tc.kind || !strings.Contains(ce.Error(), tc.words) {
					t.Errorf("got kind %d %q; want kind %d saying %q", ce.Kind, ce, tc.kind, tc.words)
				}
			})
		}
	}
}

// TestReconnectAfterBrokerRestart kills mosquitto under live connections,
// checks they report reconnecting with the reason, restarts it, and checks
// they connect again and hold their subscriptions.
func TestReconnectAfterBrokerRestart(t *testing.T) {
	port := testkit.FreePort(t)
	mq := mosquittopeer.New(t, fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", port), port)
	mq.Start()
	rec := newRecorder()
	m := NewManager(rec, testOptions())
	defer func() { _ = m.CloseAll(context.Background()) }()
	changed, stop := m.Watch()
	defer stop()
	var conns []*Connection
	for _, proto := range []Protocol{MQTT5, MQTT311} {
		c, err := m.Open(profile("restart-"+string(proto), mqttURL(port), proto), Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, c, StateConnected, 10*time.Second)
		if _, err := c.Subscribe(t.Context(), Subscription{Filter: "re/" + string(proto), QoS: 1}); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	drain(changed)
	mq.Kill()
	for _, c := range conns {
		s := waitState(t, c, StateReconnecting, 10*time.Second)
		_ = s
	}
	select {
	case <-changed:
	default:
		t.Error("no change notification for the lost connections")
	}
	// While the broker is down, attempts fail with the reason in words.
	for _, c := range conns {
		ce := waitErrorKind(t, c, ErrRefused)
		if !strings.Contains(ce.Error(), "connection refused") {
			t.Errorf("%s: %v", c.Profile().Name, ce)
		}
		if err := c.Publish(t.Context(), Message{Topic: "x"}); !errors.Is(err, ErrNotConnected) {
			t.Errorf("publish while down: %v", err)
		}
	}
	mq.Start()
	for _, c := range conns {
		s := waitState(t, c, StateConnected, 15*time.Second)
		if s.LastError != nil || s.Attempts != 0 {
			t.Errorf("after reconnect: %+v", s)
		}
	}
	// The subscriptions were renewed on the broker's fresh session.
	for _, c := range conns {
		topic := "re/" + string(c.Profile().Protocol)
		deadline := time.Now().Add(10 * time.Second)
		for {
			if err := c.Publish(t.Context(), Message{Topic: topic, Payload: []byte("back"), QoS: 1}); err != nil {
				t.Fatal(err)
			}
			if gotWithin(rec, topic, 200*time.Millisecond) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: subscription not renewed after reconnect", c.Profile().Name)
			}
		}
	}
}

func waitErrorKind(t *testing.T, c *Connection, kind ErrorKind) *ConnError {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ce, ok := c.Status().LastError.(*ConnError); ok && ce.Kind == kind {
			return ce
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: last error %v, want kind %d", c.Profile().Name, c.Status().LastError, kind)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func gotWithin(r *recorder, topic string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case rec := <-r.got:
			if rec.Topic == topic {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func gotRetained(r *recorder, topic string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case rec := <-r.got:
			if rec.Topic == topic && rec.Retain {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// TestNoGoroutineLeaks opens connections that connect, and ones that keep
// failing, closes them all, and checks every goroutine they started ended.
func TestNoGoroutineLeaks(t *testing.T) {
	url := "mqtt://" + startEmbedded(t)
	closed := mqttURL(testkit.FreePort(t))
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	m := NewManager(newRecorder(), testOptions())
	for i, u := range []string{url, url, closed, closed} {
		proto := MQTT5
		if i%2 == 1 {
			proto = MQTT311
		}
		c, err := m.Open(profile("leak-"+strconv.Itoa(i), u, proto), Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		if u == url {
			waitState(t, c, StateConnected, 10*time.Second)
			if _, err := c.Subscribe(t.Context(), Subscription{Filter: "leak/#"}); err != nil {
				t.Fatal(err)
			}
		} else {
			waitError(t, c)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.CloseAll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(m.Snapshot()); n != 0 {
		t.Errorf("%d connections left after CloseAll", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after CloseAll:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestManagerRefusesDuplicatesAndClosedUse(t *testing.T) {
	url := "mqtt://" + startEmbedded(t)
	m, c := open(t, nil, profile("one", url, MQTT5), Credentials{})
	if _, err := m.Open(profile("one", url, MQTT5), Credentials{}); err == nil {
		t.Error("a second connection with the same name opened")
	}
	waitState(t, c, StateConnected, 10*time.Second)
	if err := m.Close(t.Context(), "one"); err != nil {
		t.Fatal(err)
	}
	if s := c.Status(); s.State != StateDisconnected {
		t.Errorf("after Close: %s", s.State)
	}
	if err := c.Publish(t.Context(), Message{Topic: "x"}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("publish after close: %v", err)
	}
}
