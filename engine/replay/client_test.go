package replay

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
)

func TestParseRemap(t *testing.T) {
	cases := []struct {
		in   string
		want Remap
		err  string
	}{
		{in: "plant=replay/plant", want: Remap{"plant", "replay/plant"}},
		{in: "plant=", want: Remap{"plant", ""}},
		{in: "=copy", want: Remap{"", "copy"}},
		{in: "a/b=c=d", want: Remap{"a/b", "c=d"}},
		{in: "plant", err: "OLD=NEW"},
		{in: "=", err: "give the topic prefix"},
		{in: "plant/+=x", err: "wildcard"},
		{in: "plant=x/#", err: "wildcard"},
		{in: "plant/=x", err: "trailing '/'"},
		{in: "plant=$SYS/x", err: "reserved"},
		{in: "plant=a\x00b", err: "NUL"},
	}
	for _, tc := range cases {
		got, err := ParseRemap(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseRemap(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseRemap(%q) error %v; want one saying %q", tc.in, err, tc.err)
		}
	}
	if _, err := newRemapper([]Remap{{"a", "b"}, {"a", "c"}}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("the same prefix remapped twice: %v", err)
	}
}

func TestRemapApply(t *testing.T) {
	m, err := newRemapper([]Remap{{"plant", "p"}, {"plant/a", "A"}, {"/lead", "led"}, {"strip", ""}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ in, want string }{
		{"plant", "p"},
		{"plant/b/x", "p/b/x"},
		{"plant/a", "A"},
		{"plant/a/x", "A/x"},
		{"plant/ab", "p/ab"},
		{"plantx/a", "plantx/a"},
		{"plant/", "p/"}, // an empty last level is kept
		{"/lead/x", "led/x"},
		{"strip/x/y", "x/y"},
		{"other", "other"},
	}
	for _, tc := range cases {
		if got, err := m.apply(tc.in); err != nil || got != tc.want {
			t.Errorf("apply(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := m.apply("strip"); !errors.Is(err, errEmptyTopic) {
		t.Errorf("apply(strip) error %v; want errEmptyTopic", err)
	}
}

func writeUsers(t *testing.T, dir, name, password, writable string) {
	t.Helper()
	u := &auth.Users{}
	if err := u.SetPassword(name, []byte(password)); err != nil {
		t.Fatal(err)
	}
	if writable != "" {
		u.List[0].ACL = []auth.Rule{{Filter: writable, Access: auth.Write}}
	}
	if err := u.Save(filepath.Join(dir, "users.yaml")); err != nil {
		t.Fatal(err)
	}
}

// Dial explains each way of not getting connected, never showing the
// password.
func TestDialErrors(t *testing.T) {
	dir := t.TempDir()
	writeUsers(t, dir, "alice", "right-pw", "")
	b := startBroker(t, func(c *broker.Config) { c.DataDir = dir; c.TLSAddr = "127.0.0.1:0"; c.DevCA = true })
	plain, tlsURL := brokerURL(t, b, "mqtt"), brokerURL(t, b, "tls")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "mqtt://" + l.Addr().String()
	l.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	otherCA := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(otherCA, b.DevCACert(), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		o    ClientOptions
		want []string
	}{
		{"bad url", ClientOptions{URL: "http://x"}, []string{"unsupported scheme", "mqtt://HOST:PORT"}},
		{"refused", ClientOptions{URL: closed}, []string{closed, "connection refused", "check the host and port"}},
		{"no answer", ClientOptions{URL: "mqtt://" + silent.Addr().String(), Timeout: 300 * time.Millisecond}, []string{"no MQTT answer within 300ms"}},
		{"no user", ClientOptions{URL: plain}, []string{plain, "wants a user name and password", "--user", "IOTSTUDIO_MQTT_PASSWORD"}},
		{"wrong password", ClientOptions{URL: plain, Username: "alice", Password: []byte("wrong-pw")}, []string{`refused user "alice"`, "bad user name or password"}},
		{"untrusted certificate", ClientOptions{URL: tlsURL, Username: "alice", Password: []byte("right-pw")}, []string{tlsURL, "does not trust", "--ca FILE"}},
		{"tls to a plain port", ClientOptions{URL: strings.Replace(plain, "mqtt://", "mqtts://", 1), CAFile: otherCA}, []string{"TLS", "plain mqtt://"}},
		{"ca file for plain mqtt", ClientOptions{URL: plain, CAFile: otherCA}, []string{"mqtts:// and wss://"}},
		{"ca file missing", ClientOptions{URL: tlsURL, CAFile: filepath.Join(dir, "nope.pem")}, []string{"nope.pem"}},
		{"websocket wrong path", ClientOptions{URL: brokerURL(t, b, "ws") + "x"}, []string{"WebSocket upgrade refused", "check the path"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			c, err := Dial(ctx, tc.o)
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "-pw") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// Every transport carries a replay: TCP, TLS with a CA file, WebSocket,
// each with a login.
func TestReplayOverEachTransport(t *testing.T) {
	dir := t.TempDir()
	writeUsers(t, dir, "alice", "right-pw", "")
	b := startBroker(t, func(c *broker.Config) { c.DataDir = dir; c.TLSAddr = "127.0.0.1:0"; c.DevCA = true })
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, b.DevCACert(), 0o600); err != nil {
		t.Fatal(err)
	}
	store := openStore(t)
	offsets := make([]time.Duration, 50)
	for i := range offsets {
		offsets[i] = time.Duration(i) * time.Second
	}
	recs := series(time.Now().Add(-time.Hour), "t/x", offsets)
	for i := range recs {
		recs[i].QoS = byte(i % 3)
	}
	fill(t, store, recs)
	for _, name := range []string{"mqtt", "tls", "ws"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			sub := subscribeAs(t, b, "t/#", "alice", "right-pw")
			c, err := Dial(ctx, ClientOptions{URL: brokerURL(t, b, name), CAFile: map[string]string{"tls": caFile}[name],
				Username: "alice", Password: []byte("right-pw"), InFlight: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			res, err := Run(ctx, store, capture.Query{}, c, Options{}, nil)
			if err != nil || res.Published != 50 {
				t.Fatalf("Run: %+v, %v", res, err)
			}
			for i, m := range sub.take(t, 50) {
				if m.p.QoS != byte(i%3) || string(m.p.Payload) != string(recs[i].Payload) {
					t.Fatalf("message %d: QoS %d payload %q", i, m.p.QoS, m.p.Payload)
				}
			}
		})
	}
}

// A broker that accepts the connection and then stops reading blocks the
// writes once the socket buffers are full; cancelling must still stop the
// publisher promptly, and Close must not hang.
func TestCancelWhileBrokerStalls(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	defer close(release)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := packets.ReadPacket(conn); err != nil { // CONNECT
			return
		}
		if _, err := packets.NewControlPacket(packets.CONNACK).WriteTo(conn); err != nil {
			return
		}
		<-release // and never read again
	}()
	c, err := Dial(context.Background(), ClientOptions{URL: "mqtt://" + l.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	payload := make([]byte, 1<<20)
	done := make(chan error, 1)
	var sent atomic.Int64
	go func() {
		for {
			if err := c.Publish(ctx, message.Message{Topic: "big", Payload: payload}); err != nil {
				done <- err
				return
			}
			if sent.Add(1) > 1000 {
				done <- errors.New("1 GB written to a broker that reads nothing")
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	cancelled := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Publish after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Publish still blocked 5 s after cancel")
	}
	t.Logf("%d MB written before the socket filled; Publish returned %v after cancel", sent.Load(), time.Since(cancelled).Round(time.Millisecond))
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a broker that reads nothing")
	}
}
