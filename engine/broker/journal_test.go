package broker

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

// journalSink collects what the broker journals.
type journalSink struct {
	mu     sync.Mutex
	events []journal.Event
}

func (s *journalSink) Record(ev journal.Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	return true
}

func (s *journalSink) find(kind journal.Kind, client string) (journal.Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range s.events {
		if ev.Kind == kind && ev.Client == client {
			return ev, true
		}
	}
	return journal.Event{}, false
}

func (s *journalSink) dump() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, ev := range s.events {
		fmt.Fprintf(&b, "\n  %s %s %s", ev.Kind, ev.Client, ev.Summary())
	}
	return b.String()
}

// await waits for the client's first event of kind.
func (s *journalSink) await(t *testing.T, kind journal.Kind, client string) journal.Event {
	t.Helper()
	var ev journal.Event
	testkit.Eventually(t, fmt.Sprintf("a %s event for %q", kind, client), func() bool {
		var ok bool
		ev, ok = s.find(kind, client)
		return ok
	})
	return ev
}

func journaledBroker(t *testing.T, mutate func(*Config)) (*Broker, *journalSink, string) {
	t.Helper()
	sink := &journalSink{}
	b := startBroker(t, func(c *Config) {
		c.Journal = sink
		if mutate != nil {
			mutate(c)
		}
	})
	return b, sink, listenerAddr(t, b, "mqtt")
}

func usersWithACL(t *testing.T) string {
	dir := t.TempDir()
	writeUsers(t, dir, func(u *auth.Users) {
		if err := u.SetPassword("alice", []byte("alice-pass-7Q")); err != nil {
			t.Fatal(err)
		}
		u.List[0].ACL = []auth.Rule{{Filter: "public/#", Access: auth.ReadWrite}}
	})
	return dir
}

func TestJournalConnect(t *testing.T) {
	dir := usersWithACL(t)
	_, sink, addr := journaledBroker(t, func(c *Config) { c.DataDir = dir })
	will := &paho.WillMessage{Topic: "public/will", Payload: []byte("gone")}
	if _, _, err := dialV5(t, addr, dialOpts{id: "dev-1", user: "alice", pass: "alice-pass-7Q", expiry: 120, will: will}); err != nil {
		t.Fatal(err)
	}
	ev := sink.await(t, journal.Connect, "dev-1")
	if ev.User != "alice" || ev.Protocol != 5 || ev.KeepAlive != 30 || ev.SessionExpiry != 120 || ev.CleanStart ||
		ev.WillTopic != "public/will" || ev.Listener != "mqtt" || !strings.HasPrefix(ev.Remote, "127.0.0.1:") {
		t.Fatalf("connect event %+v: want user alice, v5, keepalive 30, expiry 120, no clean start, will public/will, listener mqtt, remote 127.0.0.1", ev)
	}
}

func TestJournalRefusedLogin(t *testing.T) {
	dir := usersWithACL(t)
	_, sink, addr := journaledBroker(t, func(c *Config) { c.DataDir = dir })
	if _, _, err := dialV5(t, addr, dialOpts{id: "intruder", clean: true, user: "alice", pass: "wrong"}); err == nil {
		t.Fatal("a wrong password connected")
	}
	ev := sink.await(t, journal.Refused, "intruder")
	if ev.Code != 0x86 || ev.User != "alice" || !strings.Contains(ev.Reason, "password") {
		t.Fatalf("refused event %+v: want code 0x86, user alice, a reason naming the password", ev)
	}
	if _, ok := sink.find(journal.Connect, "intruder"); ok {
		t.Fatalf("a refused client was journaled as connected:%s", sink.dump())
	}
}

// A CONNECT mochi itself refuses (no hook runs) is journaled from its
// CONNACK: an MQTT 3.1.1 client asking to keep a session without an ID.
func TestJournalRefusedByBroker(t *testing.T) {
	_, sink, addr := journaledBroker(t, nil)
	conn := rawConnect(t, addr, "", 0x00, 30) // no clean session, empty ID
	defer conn.Close()
	var ev journal.Event
	testkit.Eventually(t, "a refused event", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		i := slices.IndexFunc(sink.events, func(e journal.Event) bool { return e.Kind == journal.Refused })
		if i >= 0 {
			ev = sink.events[i]
		}
		return i >= 0
	})
	if ev.Code != 0x80 || !strings.Contains(ev.Reason, "client ID rejected") {
		t.Fatalf("refused event %+v: want code 0x80, client ID rejected", ev)
	}
}

// rawConnect sends an MQTT 3.1.1 CONNECT with the given flags and
// keep-alive and reads the CONNACK.
func rawConnect(t *testing.T, addr, id string, flags byte, keepAlive uint16) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	body := rawmqtt.AppendString(nil, "MQTT")
	body = append(body, 4, flags, byte(keepAlive>>8), byte(keepAlive))
	body = rawmqtt.AppendString(body, id)
	if _, err := conn.Write(rawmqtt.Frame(rawmqtt.TypeConnect, body)); err != nil {
		t.Fatal(err)
	}
	ack := make([]byte, 4)
	_ = conn.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := conn.Read(ack); err != nil {
		t.Fatalf("read CONNACK: %v", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn
}

func TestJournalDisconnectCauses(t *testing.T) {
	tests := []struct {
		name  string
		cause journal.Cause
		code  byte
		// end connects client "c" and ends its session.
		end func(t *testing.T, b *Broker, addr string)
	}{
		{"client DISCONNECT with reason code", journal.CauseClient, 0x04, func(t *testing.T, _ *Broker, addr string) {
			c := mustDialV5(t, addr, "c")
			if err := c.Disconnect(&paho.Disconnect{ReasonCode: 0x04}); err != nil {
				t.Fatal(err)
			}
		}},
		{"network drop", journal.CauseNetwork, 0, func(t *testing.T, _ *Broker, addr string) {
			rawConnect(t, addr, "c", 0x02, 30).Close()
		}},
		{"keep-alive timeout", journal.CauseKeepAlive, 0x8D, func(t *testing.T, _ *Broker, addr string) {
			conn := rawConnect(t, addr, "c", 0x02, 1) // then silence
			t.Cleanup(func() { conn.Close() })
		}},
		{"session taken over", journal.CauseTakenOver, 0x8E, func(t *testing.T, _ *Broker, addr string) {
			mustDialV5(t, addr, "c")
			rawConnect(t, addr, "c", 0x02, 30)
		}},
		{"kicked", journal.CauseKicked, 0x98, func(t *testing.T, b *Broker, addr string) {
			mustDialV5(t, addr, "c")
			if err := b.Disconnect("c"); err != nil {
				t.Fatal(err)
			}
		}},
		{"server shutdown", journal.CauseShutdown, 0x8B, func(t *testing.T, b *Broker, addr string) {
			mustDialV5(t, addr, "c")
			if err := b.Stop(); err != nil {
				t.Fatal(err)
			}
		}},
		{"malformed packet", journal.CauseMalformed, 0x81, func(t *testing.T, _ *Broker, addr string) {
			conn := rawConnect(t, addr, "c", 0x02, 30)
			t.Cleanup(func() { conn.Close() })
			// A PUBLISH whose topic length runs past the packet.
			if _, err := conn.Write(rawmqtt.Frame(0x30, []byte{0x00, 0x10, 'a'})); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, sink, addr := journaledBroker(t, nil)
			tt.end(t, b, addr)
			ev := sink.await(t, journal.Disconnect, "c")
			if ev.Cause != tt.cause || ev.Code != tt.code {
				t.Fatalf("disconnect %+v: want cause %s, code 0x%02X; journal:%s", ev, tt.cause, tt.code, sink.dump())
			}
		})
	}
}

func TestJournalSubscriptionsAndDenials(t *testing.T) {
	dir := usersWithACL(t)
	_, sink, addr := journaledBroker(t, func(c *Config) { c.DataDir = dir })
	c, _, err := dialV5(t, addr, dialOpts{id: "sub", clean: true, user: "alice", pass: "alice-pass-7Q"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: "public/a", QoS: 1}, {Topic: "secret/b", QoS: 2},
	}}); err != nil && !strings.Contains(err.Error(), "") {
		t.Fatal(err)
	}
	ev := sink.await(t, journal.Subscribe, "sub")
	want := []journal.Filter{{Filter: "public/a", QoS: 1, Granted: 1, Code: 1}, {Filter: "secret/b", QoS: 2, Granted: -1, Code: 0x87}}
	if !slices.Equal(ev.Filters, want) {
		t.Fatalf("subscribe filters %+v, want %+v", ev.Filters, want)
	}
	if d := sink.await(t, journal.Denied, "sub"); d.Action != "subscribe" || d.Topic != "secret/b" {
		t.Fatalf("denial %+v: want subscribe secret/b", d)
	}
	if _, err := c.Unsubscribe(ctx, &paho.Unsubscribe{Topics: []string{"public/a"}}); err != nil {
		t.Fatal(err)
	}
	if u := sink.await(t, journal.Unsubscribe, "sub"); len(u.Filters) != 1 || u.Filters[0].Filter != "public/a" {
		t.Fatalf("unsubscribe %+v: want public/a", u)
	}
	if _, err := c.Publish(ctx, &paho.Publish{Topic: "secret/x", QoS: 1, Payload: []byte("p")}); err != nil {
		t.Logf("publish refused: %v", err)
	}
	testkit.Eventually(t, "a publish denial", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return slices.ContainsFunc(sink.events, func(e journal.Event) bool {
			return e.Kind == journal.Denied && e.Action == "publish" && e.Topic == "secret/x"
		})
	})
}

func TestJournalRefusedWillAndAnonymous(t *testing.T) {
	dir := usersWithACL(t)
	_, sink, addr := journaledBroker(t, func(c *Config) { c.DataDir = dir })
	will := &paho.WillMessage{Topic: "secret/will", Payload: []byte("x")}
	if _, _, err := dialV5(t, addr, dialOpts{id: "willful", clean: true, user: "alice", pass: "alice-pass-7Q", will: will}); err == nil {
		t.Fatal("a will the ACL forbids was accepted")
	}
	if ev := sink.await(t, journal.Refused, "willful"); ev.Code != 0x87 || !strings.Contains(ev.Reason, "secret/will") {
		t.Fatalf("refused will %+v: want 0x87 naming the will topic", ev)
	}
	if _, _, err := dialV5(t, addr, dialOpts{id: "nobody", clean: true}); err == nil {
		t.Fatal("an anonymous client connected to a broker with users")
	}
	if ev := sink.await(t, journal.Refused, "nobody"); ev.Code != 0x86 || !strings.Contains(ev.Reason, "anonymous") {
		t.Fatalf("refused anonymous %+v: want 0x86 saying anonymous clients are not allowed", ev)
	}
	sink.mu.Lock()
	n := 0
	for _, ev := range sink.events {
		if ev.Kind == journal.Refused {
			n++
		}
	}
	sink.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d refusals journaled, want one per CONNECT:%s", n, sink.dump())
	}
}

// A client publishing where it may not is journaled once a second, not
// once a message: the journal stays a journal of sessions.
func TestJournalPublishDenialsAtMostOncePerSecond(t *testing.T) {
	dir := usersWithACL(t)
	_, sink, addr := journaledBroker(t, func(c *Config) { c.DataDir = dir })
	c, _, err := dialV5(t, addr, dialOpts{id: "noisy", clean: true, user: "alice", pass: "alice-pass-7Q"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	start := time.Now()
	for range 50 {
		_, _ = c.Publish(ctx, &paho.Publish{Topic: "secret/x", QoS: 1, Payload: []byte("p")})
	}
	seconds := int(time.Since(start).Seconds()) + 2 // the burst may straddle second boundaries
	_ = sink.await(t, journal.Denied, "noisy")
	sink.mu.Lock()
	n := 0
	for _, ev := range sink.events {
		if ev.Kind == journal.Denied && ev.Client == "noisy" {
			n++
		}
	}
	sink.mu.Unlock()
	if n > seconds {
		t.Fatalf("%d publish denials journaled for a burst of 50 in under %d s; want at most one a second", n, seconds)
	}
}
