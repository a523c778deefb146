package broker

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gorilla/websocket"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/client/transport"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

func TestRoundTripPahoV5AllQoS(t *testing.T) {
	b := startBroker(t, nil)
	addr := listenerAddr(t, b, "mqtt")
	sub := mustDialV5(t, addr, "sub")
	pub := mustDialV5(t, addr, "pub")
	for qos := byte(0); qos <= 2; qos++ {
		topic := fmt.Sprintf("rt/qos%d", qos)
		if sa := sub.sub(t, topic, qos); sa.Reasons[0] != qos {
			t.Fatalf("suback for %s granted %d, want %d", topic, sa.Reasons[0], qos)
		}
		pub.pub(t, topic, "hello", qos, false)
		m := sub.next(t)
		if m.Topic != topic || string(m.Payload) != "hello" || m.QoS != qos {
			t.Fatalf("got %s %q qos %d, want %s hello qos %d", m.Topic, m.Payload, m.QoS, topic, qos)
		}
	}
}

func TestRoundTripMosquittoClients(t *testing.T) {
	subBin, pubBin := needTool(t, "mosquitto_sub"), needTool(t, "mosquitto_pub")
	b := startBroker(t, nil)
	host, port, _ := net.SplitHostPort(listenerAddr(t, b, "mqtt"))
	for _, version := range []string{"mqttv31", "mqttv311", "mqttv5"} {
		for _, qos := range []string{"0", "1", "2"} {
			t.Run(version+"/qos"+qos, func(t *testing.T) {
				topic := "mosq/" + version + "/" + qos
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				sub := exec.CommandContext(ctx, subBin, "-h", host, "-p", port, "-V", version, "-q", qos, "-t", topic, "-C", "1", "-v", "-i", "sub-"+version+qos)
				var out bytes.Buffer
				sub.Stdout, sub.Stderr = &out, &out
				if err := sub.Start(); err != nil {
					t.Fatal(err)
				}
				waitSubscribed(t, b, "sub-"+version+qos, topic)
				pub := exec.CommandContext(ctx, pubBin, "-h", host, "-p", port, "-V", version, "-q", qos, "-t", topic, "-m", "payload "+qos)
				if msg, err := pub.CombinedOutput(); err != nil {
					t.Fatalf("mosquitto_pub: %v: %s", err, msg)
				}
				if err := sub.Wait(); err != nil {
					t.Fatalf("mosquitto_sub: %v: %s", err, out.String())
				}
				if got, want := strings.TrimSpace(out.String()), topic+" payload "+qos; got != want {
					t.Fatalf("mosquitto_sub printed %q, want %q", got, want)
				}
			})
		}
	}
}

// waitSubscribed polls the live client list until id holds filter.
func waitSubscribed(t *testing.T, b *Broker, id, filter string) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("client %s to subscribe to %s", id, filter), func() bool {
		for _, c := range b.Clients() {
			for _, s := range c.Subscriptions {
				if c.ID == id && s.Filter == filter {
					return true
				}
			}
		}
		return false
	})
}

func TestRetainedSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, func(c *Config) { c.DataDir = dir })
	pub := mustDialV5(t, listenerAddr(t, b, "mqtt"), "pub")
	early := mustDialV5(t, listenerAddr(t, b, "mqtt"), "early")
	early.sub(t, "house/#", 1)
	pub.pub(t, "house/temp", "21.5", 1, true)
	early.next(t) // delivery has begun, so "late" below can only get the retained copy

	late := mustDialV5(t, listenerAddr(t, b, "mqtt"), "late")
	late.sub(t, "house/#", 1)
	if m := late.next(t); string(m.Payload) != "21.5" || !m.Retain {
		t.Fatalf("late subscriber got %q retain=%v, want retained 21.5", m.Payload, m.Retain)
	}
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	after := mustDialV5(t, listenerAddr(t, b, "mqtt"), "after")
	after.sub(t, "house/temp", 0)
	if m := after.next(t); string(m.Payload) != "21.5" {
		t.Fatalf("after restart got %q, want retained 21.5", m.Payload)
	}
}

func TestWillOnAbruptDisconnect(t *testing.T) {
	b := startBroker(t, nil)
	addr := listenerAddr(t, b, "mqtt")
	watcher := mustDialV5(t, addr, "watcher")
	watcher.sub(t, "devices/+/status", 1)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = dialV5(t, addr, dialOpts{id: "dev1", clean: true, conn: conn,
		will: &paho.WillMessage{Topic: "devices/dev1/status", Payload: []byte("offline"), QoS: 1}})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close() // no DISCONNECT: the broker must publish the will
	if m := watcher.next(t); m.Topic != "devices/dev1/status" || string(m.Payload) != "offline" {
		t.Fatalf("got %s %q, want the will", m.Topic, m.Payload)
	}
}

func TestPersistentSessionGetsQueuedMessages(t *testing.T) {
	b := startBroker(t, nil)
	addr := listenerAddr(t, b, "mqtt")
	c, _, err := dialV5(t, addr, dialOpts{id: "keeper", expiry: 3600})
	if err != nil {
		t.Fatal(err)
	}
	c.sub(t, "jobs/#", 1)
	if err := c.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatal(err)
	}
	waitOffline(t, b, "keeper")

	pub := mustDialV5(t, addr, "pub")
	for i := 0; i < 3; i++ {
		pub.pub(t, "jobs/"+fmt.Sprint(i), fmt.Sprint("job ", i), 1, false)
	}
	// mochi acks a publish before fanning it out; wait until all three sit in
	// the offline session, or a reconnect could race the last fan-out.
	waitInflight(t, b, "keeper", 3)
	again, ack, err := dialV5(t, addr, dialOpts{id: "keeper", expiry: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if !ack.SessionPresent {
		t.Fatal("CONNACK says no session present for a persistent session")
	}
	// mochi v2.7.9 resends a session's queue sorted by creation second, so
	// messages queued within one second may arrive in any order; all must arrive.
	got := map[string]bool{}
	for i := 0; i < 3; i++ {
		got[string(again.next(t).Payload)] = true
	}
	for i := 0; i < 3; i++ {
		if !got[fmt.Sprint("job ", i)] {
			t.Fatalf("queued message %q missing; got %v", fmt.Sprint("job ", i), got)
		}
	}
}

func waitInflight(t *testing.T, b *Broker, id string, n int) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("session %s to hold %d queued messages", id, n), func() bool {
		for _, c := range b.Clients() {
			if c.ID == id && c.Inflight == n {
				return true
			}
		}
		return false
	})
}

func waitOffline(t *testing.T, b *Broker, id string) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("client %s to go offline", id), func() bool {
		for _, c := range b.Clients() {
			if c.ID == id && !c.Connected {
				return true
			}
		}
		return false
	})
}

func TestWebSocket(t *testing.T) {
	b := startBroker(t, func(c *Config) { c.WSAddr = "127.0.0.1:0" })
	wsAddr := listenerAddr(t, b, "ws")
	if got := b.State().Listeners[1].URL; got != "ws://"+wsAddr+WSPath {
		t.Fatalf("ws URL %q", got)
	}
	c, _, err := dialV5(t, "", dialOpts{id: "browser", clean: true, conn: dialWSConn(t, b)})
	if err != nil {
		t.Fatalf("MQTT over websocket: %v", err)
	}
	tcp := mustDialV5(t, listenerAddr(t, b, "mqtt"), "tcp")
	c.sub(t, "ws/test", 1)
	tcp.pub(t, "ws/test", "over ws", 1, false)
	if m := c.next(t); string(m.Payload) != "over ws" {
		t.Fatalf("got %q", m.Payload)
	}
}

// dialWSConn opens a WebSocket to b's ws listener, as MQTT clients in
// browsers do, and returns it as the byte stream MQTT runs over.
func dialWSConn(t *testing.T, b *Broker) net.Conn {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"mqtt"}, HandshakeTimeout: testTimeout}
	ws, _, err := dialer.Dial("ws://"+listenerAddr(t, b, "ws")+WSPath, nil)
	if err != nil {
		t.Fatalf("websocket dial: %v", err)
	}
	return transport.NewWSConn(ws)
}

func TestWebSocketRefusesForeignOrigin(t *testing.T) {
	b := startBroker(t, func(c *Config) {
		c.WSAddr = "127.0.0.1:0"
		c.AllowedOrigins = []string{"https://dash.example"}
	})
	url := "ws://" + listenerAddr(t, b, "ws") + WSPath
	cases := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://localhost:3000", true},
		{"http://127.0.0.1:8080", true},
		{"https://dash.example", true},
		{"https://evil.example", false},
		{"null", false},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		dialer := websocket.Dialer{Subprotocols: []string{"mqtt"}, HandshakeTimeout: testTimeout}
		ws, resp, err := dialer.Dial(url, h)
		if tc.ok != (err == nil) {
			t.Errorf("origin %q: err=%v, want allowed=%v", tc.origin, err, tc.ok)
		}
		if !tc.ok && resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: status %d, want 403", tc.origin, resp.StatusCode)
		}
		if ws != nil {
			ws.Close()
		}
	}
}

func TestTLSWithDevCA(t *testing.T) {
	b := startBroker(t, func(c *Config) { c.TLSAddr = "127.0.0.1:0"; c.DevCA = true })
	ca := b.DevCA()
	if ca == nil {
		t.Fatal("no dev CA")
	}
	if _, err := os.Stat(filepath.Join(ca.Dir(), "ca.pem")); err != nil {
		t.Fatalf("dev CA not stored in the data dir: %v", err)
	}
	if pem := b.DevCACert(); !bytes.HasPrefix(pem, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Fatalf("DevCACert = %q, want the CA certificate to export", pem)
	}
	if plain := startBroker(t, nil); plain.DevCACert() != nil {
		t.Fatal("a broker without TLS offers a CA to export")
	}
	addr := listenerAddr(t, b, "tls")
	c, _, err := dialV5(t, addr, dialOpts{id: "tls", clean: true, tls: &tls.Config{RootCAs: ca.CAPool(), ServerName: "localhost"}})
	if err != nil {
		t.Fatalf("TLS connect verified against the dev CA: %v", err)
	}
	c.sub(t, "secure", 0)
	c.pub(t, "secure", "sealed", 0, false)
	if m := c.next(t); string(m.Payload) != "sealed" {
		t.Fatalf("got %q", m.Payload)
	}
	_, _, err = dialV5(t, addr, dialOpts{id: "untrusting", clean: true, tls: &tls.Config{ServerName: "localhost"}})
	if err == nil {
		t.Fatal("a client without the dev CA connected; the certificate was not checked")
	}
}

func writeUsers(t *testing.T, dir string, setup func(*auth.Users)) string {
	t.Helper()
	u := &auth.Users{}
	setup(u)
	path := filepath.Join(dir, "users.yaml")
	if err := u.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWrongPasswordRefused(t *testing.T) {
	dir := t.TempDir()
	writeUsers(t, dir, func(u *auth.Users) {
		if err := u.SetPassword("alice", []byte("s3cret")); err != nil {
			t.Fatal(err)
		}
	})
	b := startBroker(t, func(c *Config) { c.DataDir = dir })
	addr := listenerAddr(t, b, "mqtt")
	_, ack, err := dialV5(t, addr, dialOpts{id: "bad", clean: true, user: "alice", pass: "wrong"})
	if err == nil || ack == nil || ack.ReasonCode != 0x86 {
		t.Fatalf("wrong password: err=%v ack=%+v, want reason 0x86 bad user name or password", err, ack)
	}
	if _, _, err := dialV5(t, addr, dialOpts{id: "good", clean: true, user: "alice", pass: "s3cret"}); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
}

func TestACLDeniesSubscribeAndPublish(t *testing.T) {
	dir := t.TempDir()
	writeUsers(t, dir, func(u *auth.Users) {
		for _, name := range []string{"reader", "writer"} {
			if err := u.SetPassword(name, []byte("pw-"+name)); err != nil {
				t.Fatal(err)
			}
		}
		u.List[0].ACL = []auth.Rule{{Filter: "public/#", Access: auth.Read}}
		u.List[1].ACL = []auth.Rule{{Filter: "public/#", Access: auth.Write}}
	})
	b := startBroker(t, func(c *Config) { c.DataDir = dir })
	addr := listenerAddr(t, b, "mqtt")
	reader, _, err := dialV5(t, addr, dialOpts{id: "r", clean: true, user: "reader", pass: "pw-reader"})
	if err != nil {
		t.Fatal(err)
	}
	writer, _, err := dialV5(t, addr, dialOpts{id: "w", clean: true, user: "writer", pass: "pw-writer"})
	if err != nil {
		t.Fatal(err)
	}
	if sa := reader.sub(t, "private/#", 0); sa.Reasons[0] < 0x80 {
		t.Fatalf("subscribe outside the ACL granted (reason %#x)", sa.Reasons[0])
	}
	if sa := reader.sub(t, "public/#", 0); sa.Reasons[0] != 0 {
		t.Fatalf("subscribe inside the ACL refused (reason %#x)", sa.Reasons[0])
	}
	writer.pub(t, "private/x", "nope", 0, false)
	writer.pub(t, "public/x", "yes", 0, false)
	if m := reader.next(t); string(m.Payload) != "yes" {
		t.Fatalf("got %q, want only the allowed publish", m.Payload)
	}
	reader.none(t, 200*time.Millisecond)
	if got := b.Stats().DeniedPublishes; got != 1 {
		t.Fatalf("denied publishes = %d, want 1", got)
	}
}

func TestExposedListenerNeedsUsers(t *testing.T) {
	b, err := New(withStore(Config{MQTTAddr: "0.0.0.0:0", DataDir: t.TempDir(), Logger: testkit.Logger()}))
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start()
	if err == nil {
		b.Stop()
		t.Fatal("a listener on 0.0.0.0 without users started")
	}
	for _, want := range []string{"0.0.0.0:0", "no users", "iotstudio users add"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if b.State().Status != Failed {
		t.Errorf("state %v, want error", b.State().Status)
	}
}

func TestPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	b, err := New(withStore(Config{MQTTAddr: addr, DataDir: t.TempDir(), Logger: testkit.Logger()}))
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start()
	var le *ListenError
	if !errors.As(err, &le) || !le.InUse() {
		t.Fatalf("got %v, want an address-in-use ListenError", err)
	}
	_, port, _ := net.SplitHostPort(addr)
	for _, want := range []string{"Port " + port + " ", addr, "already in use", "MQTT listener"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if hint := le.CommandLineHint(); !strings.Contains(hint, "--mqtt 127.0.0.1:0") {
		t.Errorf("command-line hint %q does not offer --mqtt 127.0.0.1:0", hint)
	}
}

func TestBadConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no listener", Config{DataDir: "x"}, "no listener"},
		{"bad address", Config{MQTTAddr: "1883", DataDir: "x"}, "not HOST:PORT"},
		{"port too big", Config{MQTTAddr: "127.0.0.1:99999", DataDir: "x"}, "0 to 65535"},
		{"tls without cert", Config{TLSAddr: "127.0.0.1:0", DataDir: "x"}, "--dev-ca"},
		{"cert without key", Config{TLSAddr: "127.0.0.1:0", CertFile: "c.pem", DataDir: "x"}, "give both"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestUnreadableCertAndUsersFile(t *testing.T) {
	dir := t.TempDir()
	b, _ := New(withStore(Config{TLSAddr: "127.0.0.1:0", CertFile: filepath.Join(dir, "nope.pem"), KeyFile: filepath.Join(dir, "nope.key"), DataDir: dir, Logger: testkit.Logger()}))
	if err := b.Start(); err == nil || !strings.Contains(err.Error(), "nope.pem") {
		t.Fatalf("missing cert: got %v, want an error naming the file", err)
	}
	users := filepath.Join(dir, "users.yaml")
	os.WriteFile(users, []byte("users:\n  - name: bob\n    password_hash: \"$2a$10$abc\"\n    acl:\n      - {filter: \"a/#/b\", access: read}\n"), 0o600)
	b, _ = New(withStore(Config{MQTTAddr: "127.0.0.1:0", DataDir: dir, Logger: testkit.Logger()}))
	err := b.Start()
	if err == nil || !strings.Contains(err.Error(), "users.yaml") || !strings.Contains(err.Error(), "line") {
		b.Stop()
		t.Fatalf("bad users file: got %v, want an error naming the file and line", err)
	}
}

func TestDataDirNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores permissions; use a path under a regular file instead.
		file := filepath.Join(t.TempDir(), "file")
		os.WriteFile(file, nil, 0o600)
		b, _ := New(withStore(Config{MQTTAddr: "127.0.0.1:0", DataDir: filepath.Join(file, "data"), Logger: testkit.Logger()}))
		if err := b.Start(); err == nil || !strings.Contains(err.Error(), "data dir") {
			t.Fatalf("got %v, want a data dir error", err)
		}
		return
	}
	dir := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(dir, 0o500)
	b, _ := New(withStore(Config{MQTTAddr: "127.0.0.1:0", DataDir: dir, Logger: testkit.Logger()}))
	if err := b.Start(); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("got %v, want a not-writable error", err)
	}
}

func TestStartStopIdempotentAndLeakFree(t *testing.T) {
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		b, err := New(withStore(Config{MQTTAddr: "127.0.0.1:0", WSAddr: "127.0.0.1:0", DataDir: dir, Logger: testkit.Logger()}))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		if err := b.Start(); err != nil {
			t.Fatalf("second Start: %v", err)
		}
		addr := listenerAddr(t, b, "mqtt")
		c, _, err := dialV5(t, addr, dialOpts{id: "c", clean: true})
		if err != nil {
			t.Fatal(err)
		}
		c.sub(t, "x", 1)
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := b.Stop(); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
		select {
		case <-c.Done():
		case <-time.After(testTimeout):
			t.Fatal("client still connected after Stop")
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Fatalf("port %s still open after Stop", addr)
		}
	}
	testkit.EventuallyErr(t, "the goroutines of three Start/Stop cycles to end", func() error {
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			return fmt.Errorf("%d goroutines before, %d now:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		return nil
	})
}

func TestLiveStateAndDisconnect(t *testing.T) {
	b := startBroker(t, nil)
	addr := listenerAddr(t, b, "mqtt")
	c := mustDialV5(t, addr, "panel-client")
	c.sub(t, "a/b", 1)
	c.pub(t, "a/b", "x", 0, true)
	c.next(t)
	var info ClientInfo
	for _, ci := range b.Clients() {
		if ci.ID == "panel-client" {
			info = ci
		}
	}
	if !info.Connected || info.ProtocolVersion != 5 || len(info.Subscriptions) != 1 || info.Subscriptions[0].Filter != "a/b" ||
		info.ConnectedSince.IsZero() || !strings.HasPrefix(info.Address, "127.0.0.1:") {
		t.Fatalf("client info %+v", info)
	}
	st := b.Stats()
	if st.ClientsConnected != 1 || st.MessagesIn < 1 || st.Retained != 1 || st.Subscriptions < 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := b.Disconnect("panel-client"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(testTimeout):
		t.Fatal("client not disconnected")
	}
	if err := b.Disconnect("nobody"); !errors.Is(err, ErrNoSuchClient) {
		t.Fatalf("disconnect unknown: %v", err)
	}
}

func TestKeepAliveCapped(t *testing.T) {
	b := startBroker(t, func(c *Config) { c.KeepAliveCap = 60 })
	conn, err := net.Dial("tcp", listenerAddr(t, b, "mqtt"))
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ack, err := c.Connect(ctx, &paho.Connect{ClientID: "lazy", KeepAlive: 0, CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(&paho.Disconnect{})
	if ack.Properties == nil || ack.Properties.ServerKeepAlive == nil || *ack.Properties.ServerKeepAlive != 60 {
		t.Fatalf("CONNACK server keep-alive %+v, want 60", ack.Properties)
	}
}

func TestAnonymousRules(t *testing.T) {
	cases := []struct {
		name      string
		anonymous bool
		want      bool
	}{
		{"users without anonymous key refuse anonymous", false, false},
		{"anonymous: true admits anonymous on loopback", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeUsers(t, dir, func(u *auth.Users) {
				u.Anonymous = tc.anonymous
				if err := u.SetPassword("alice", []byte("pw")); err != nil {
					t.Fatal(err)
				}
			})
			b := startBroker(t, func(c *Config) { c.DataDir = dir })
			_, ack, err := dialV5(t, listenerAddr(t, b, "mqtt"), dialOpts{id: "anon", clean: true})
			if got := err == nil; got != tc.want {
				t.Fatalf("anonymous connect: err=%v ack=%+v, want allowed=%v", err, ack, tc.want)
			}
		})
	}
	// No users at all: an open loopback broker.
	b := startBroker(t, nil)
	if _, _, err := dialV5(t, listenerAddr(t, b, "mqtt"), dialOpts{id: "anon", clean: true}); err != nil {
		t.Fatalf("anonymous refused by a broker without users: %v", err)
	}
}

func TestReconfigureDropsPreviousRunState(t *testing.T) {
	b := startBroker(t, func(c *Config) { c.TLSAddr = "127.0.0.1:0"; c.DevCA = true })
	if b.DevCACert() == nil {
		t.Fatal("no dev CA while TLS uses it")
	}
	cfg := b.Config()
	cfg.TLSAddr, cfg.DevCA, cfg.NoFlowControl = "", false, true
	if err := b.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if b.State().Status != Running || len(b.State().Listeners) != 1 {
		t.Fatalf("after reconfigure: %+v", b.State())
	}
	if b.DevCACert() != nil {
		t.Fatal("the old run's dev CA is still offered for export without a TLS listener")
	}
	if b.Stats().PublishesHeld != 0 {
		t.Fatal("flow-control counters of the old run leak into the new one")
	}
}
