package broker

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mpackets "github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/crypto/bcrypt"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// connectWithWill sends a CONNECT carrying a will, reads the CONNACK and then
// drops the TCP connection without a DISCONNECT, so an accepted will is
// published. It returns the CONNACK reason (return) code.
func connectWithWill(t *testing.T, addr string, ver byte, id, user, pass, topic string, retain bool) byte {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pk := mpackets.Packet{FixedHeader: mpackets.FixedHeader{Type: mpackets.Connect}, ProtocolVersion: ver}
	pk.Connect = mpackets.ConnectParams{
		ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30, ClientIdentifier: id,
		Username: []byte(user), UsernameFlag: user != "", Password: []byte(pass), PasswordFlag: pass != "",
		WillFlag: true, WillTopic: topic, WillPayload: []byte("pwned by " + id), WillQos: 1, WillRetain: retain,
	}
	var buf bytes.Buffer
	if err := pk.ConnectEncode(&buf); err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(testTimeout))
	if _, err := conn.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	var fh mpackets.FixedHeader
	b, err := r.ReadByte()
	if err != nil {
		t.Fatalf("%s: no CONNACK: %v", id, err)
	}
	if err := fh.Decode(b); err != nil || fh.Type != mpackets.Connack {
		t.Fatalf("%s: first packet 0x%02x is not a CONNACK (%v)", id, b, err)
	}
	n, _, err := mpackets.DecodeLength(r)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	ack := mpackets.Packet{FixedHeader: fh, ProtocolVersion: ver}
	if err := ack.ConnackDecode(body); err != nil {
		t.Fatal(err)
	}
	return ack.ReasonCode
}

// addFastUser adds a user whose hash has bcrypt's lowest cost: the tests
// log in often, and a default-cost login takes a second under -race.
func addFastUser(t *testing.T, u *auth.Users, name, password string, acl ...auth.Rule) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u.List = append(u.List, auth.User{Name: name, PasswordHash: string(hash), ACL: acl})
}

// waitGone waits until the broker no longer has client id connected: by then
// mochi has published its will, if it had one.
func waitGone(t *testing.T, b *Broker, id string) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("client %s to be disconnected", id), func() bool {
		for _, c := range b.Clients() {
			if c.ID == id && c.Connected {
				return false
			}
		}
		return true
	})
}

// expectMarker reads the watcher's messages up to the marker, failing on any
// will payload on the way. Wills are published before the client is
// removed (waitGone), and the marker after, so a leaked will arrives first.
func expectMarker(t *testing.T, w *v5, marker string) {
	t.Helper()
	for {
		m := w.next(t)
		if bytes.HasPrefix(m.Payload, []byte("pwned")) {
			t.Fatalf("will published on %s: %q", m.Topic, m.Payload)
		}
		if string(m.Payload) == marker {
			return
		}
	}
}

// A will is a publish the client makes later: the broker must authorise it
// at CONNECT like a publish, and refuse topics no client may publish to.
func TestWillAuthorisedAtConnect(t *testing.T) {
	dir := t.TempDir()
	writeUsers(t, dir, func(u *auth.Users) {
		addFastUser(t, u, "alice", "alice-pw", auth.Rule{Filter: "sensors/#", Access: auth.ReadWrite})
		addFastUser(t, u, "bob", "bob-pw")
	})
	b := startBroker(t, func(c *Config) { c.DataDir = dir })
	addr := listenerAddr(t, b, "mqtt")

	bob, _, err := dialV5(t, addr, dialOpts{id: "bob", clean: true, user: "bob", pass: "bob-pw"})
	if err != nil {
		t.Fatal(err)
	}
	bob.pub(t, "secret/retained", "bob's value", 1, true)
	watcher, _, err := dialV5(t, addr, dialOpts{id: "watcher", clean: true, user: "bob", pass: "bob-pw"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"secret/#", "sensors/#", "$SYS/broker/version", "marker"} {
		watcher.sub(t, f, 1)
	}

	const (
		v5NotAuthorised  = 0x87
		v5TopicInvalid   = 0x90
		v3NotAuthorised  = 0x05
		connectAccepted  = 0x00
		retainedTopic    = "secret/retained"
		allowedWillTopic = "sensors/alice/status"
	)
	cases := []struct {
		topic  string
		retain bool
		v5, v3 byte
	}{
		{retainedTopic, true, v5NotAuthorised, v3NotAuthorised},
		{"$SYS/broker/version", false, v5NotAuthorised, v3NotAuthorised},
		{"secret/+/x", false, v5TopicInvalid, v3NotAuthorised},
		{"sensors/+/x", false, v5TopicInvalid, v3NotAuthorised}, // allowed by the ACL, but a filter
		{"sensors/#", false, v5TopicInvalid, v3NotAuthorised},
		{"$internal/x", false, v5NotAuthorised, v3NotAuthorised},
	}
	for _, ver := range []byte{5, 4} {
		for i, tc := range cases {
			t.Run(fmt.Sprintf("v%d %s", ver, tc.topic), func(t *testing.T) {
				id := fmt.Sprintf("alice-%d-%d", ver, i)
				want := tc.v5
				if ver == 4 {
					want = tc.v3
				}
				if got := connectWithWill(t, addr, ver, id, "alice", "alice-pw", tc.topic, tc.retain); got != want {
					t.Errorf("CONNACK 0x%02x, want 0x%02x", got, want)
				}
				waitGone(t, b, id)
				marker := "after " + id
				bob.pub(t, "marker", marker, 1, false)
				expectMarker(t, watcher, marker)
			})
		}
		t.Run(fmt.Sprintf("v%d retained message unchanged", ver), func(t *testing.T) {
			reader, _, err := dialV5(t, addr, dialOpts{id: fmt.Sprintf("reader-%d", ver), clean: true, user: "bob", pass: "bob-pw"})
			if err != nil {
				t.Fatal(err)
			}
			reader.sub(t, retainedTopic, 1)
			if m := reader.next(t); string(m.Payload) != "bob's value" {
				t.Fatalf("retained %s = %q, want bob's value", retainedTopic, m.Payload)
			}
		})
		// The control: a will the ACL allows is accepted and published.
		t.Run(fmt.Sprintf("v%d allowed will is published", ver), func(t *testing.T) {
			id := fmt.Sprintf("alice-%d-ok", ver)
			if got := connectWithWill(t, addr, ver, id, "alice", "alice-pw", allowedWillTopic, false); got != connectAccepted {
				t.Fatalf("CONNACK 0x%02x for a will on %s, want 0x00", got, allowedWillTopic)
			}
			for {
				m := watcher.next(t)
				if m.Topic == allowedWillTopic {
					if want := "pwned by " + id; string(m.Payload) != want {
						t.Fatalf("will payload %q, want %q", m.Payload, want)
					}
					return
				}
			}
		})
	}
	// A wrong password with a forbidden will is still a bad login: the ACL
	// answer must not tell a stranger anything.
	if got := connectWithWill(t, addr, 5, "mallory", "alice", "wrong", retainedTopic, true); got != 0x86 {
		t.Errorf("wrong password with a forbidden will: CONNACK 0x%02x, want 0x86", got)
	}
}

// anonymous_acl in the users file limits what clients that did not log in
// may do, without limiting users.
func TestAnonymousACL(t *testing.T) {
	for _, withUsers := range []bool{true, false} {
		t.Run(fmt.Sprintf("users=%v", withUsers), func(t *testing.T) {
			dir := t.TempDir()
			writeUsers(t, dir, func(u *auth.Users) {
				u.Anonymous = true
				u.AnonymousACL = []auth.Rule{{Filter: "secret/#", Access: auth.Deny}, {Filter: "#", Access: auth.ReadWrite}}
				if withUsers {
					addFastUser(t, u, "alice", "alice-pw")
				}
			})
			b := startBroker(t, func(c *Config) { c.DataDir = dir })
			addr := listenerAddr(t, b, "mqtt")
			anon, _, err := dialV5(t, addr, dialOpts{id: "anon", clean: true})
			if err != nil {
				t.Fatalf("anonymous client refused: %v", err)
			}
			if sa := anon.sub(t, "secret/#", 1); sa.Reasons[0] != 0x87 {
				t.Errorf("anonymous subscribe secret/#: reason 0x%02x, want 0x87", sa.Reasons[0])
			}
			if sa := anon.sub(t, "public/#", 1); sa.Reasons[0] != 1 {
				t.Errorf("anonymous subscribe public/#: reason 0x%02x, want granted QoS 1", sa.Reasons[0])
			}
			if got := connectWithWill(t, addr, 5, "anon-will", "", "", "secret/status", false); got != 0x87 {
				t.Errorf("anonymous will on secret/status: CONNACK 0x%02x, want 0x87", got)
			}

			// With users the watcher is alice and sees everything; without,
			// it is anonymous too and cannot read secret/#.
			watcherOpts, watch := dialOpts{id: "watcher", clean: true}, "public/#"
			if withUsers {
				watcherOpts.user, watcherOpts.pass, watch = "alice", "alice-pw", "#"
			}
			watcher, _, err := dialV5(t, addr, watcherOpts)
			if err != nil {
				t.Fatal(err)
			}
			watcher.sub(t, watch, 1)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			pr, err := anon.Publish(ctx, &paho.Publish{Topic: "secret/x", Payload: []byte("pwned"), QoS: 1})
			if err == nil && (pr == nil || pr.ReasonCode != 0x87) {
				t.Errorf("anonymous QoS 1 publish to secret/x: %+v, want PUBACK 0x87", pr)
			}
			anon.pub(t, "public/x", "hello", 1, false)
			expectMarker(t, watcher, "hello")
			if m := anon.next(t); m.Topic != "public/x" {
				t.Errorf("anonymous client got %s, want public/x", m.Topic)
			}
			if withUsers { // a user is not bound by the anonymous rules
				watcher.pub(t, "secret/y", "for users", 1, false)
				if m := watcher.next(t); m.Topic != "secret/y" {
					t.Errorf("user got %s, want secret/y", m.Topic)
				}
			}
		})
	}
}
