package auth

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/crypto/bcrypt"
)

// fastHash hashes with the minimum cost so tests stay quick under -race.
func fastHash(t testing.TB, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func connectPacket(user, pass string) packets.Packet {
	pk := packets.Packet{Connect: packets.ConnectParams{Username: []byte(user), Password: []byte(pass)}}
	pk.Connect.UsernameFlag = user != ""
	pk.Connect.PasswordFlag = pass != ""
	return pk
}

func client(user string) *mqtt.Client {
	cl := &mqtt.Client{ID: "c-" + user}
	cl.Properties.Username = []byte(user)
	return cl
}

func TestHookShape(t *testing.T) {
	h := NewHook(nil, false)
	if h.ID() != "iotstudio-auth" {
		t.Errorf("ID = %q", h.ID())
	}
	for _, b := range []byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnSubscribed} {
		if !h.Provides(b) {
			t.Errorf("Provides(%d) = false", b)
		}
	}
	if h.Provides(mqtt.OnPublish) || h.Provides(mqtt.OnConnect) {
		t.Error("Provides reports hooks it does not implement")
	}
	var _ mqtt.Hook = h
}

func TestHookModes(t *testing.T) {
	users := &Users{List: []User{{Name: "alice", PasswordHash: fastHash(t, "pw"), ACL: []Rule{{"a/#", ReadWrite}}}}}
	anonRules := []Rule{{"a/#", Deny}, {"#", ReadWrite}}
	openWithRules := &Users{AnonymousACL: anonRules}
	usersWithAnonRules := &Users{List: users.List, AnonymousACL: anonRules}
	tests := []struct {
		name            string
		users           *Users
		anon            bool
		user, pass      string
		connect         bool
		pubA, pubB      bool // may publish to a/x, b/x
		failedLoginsInc int64
	}{
		{"open broker: anonymous", nil, true, "", "", true, true, true, 0},
		{"open broker: any name", &Users{}, true, "whoever", "whatever", true, true, true, 0},
		{"users, anonymous allowed: anonymous", users, true, "", "", true, true, true, 0},
		{"users, anonymous allowed: user", users, true, "alice", "pw", true, true, false, 0},
		{"users, anonymous allowed: wrong password", users, true, "alice", "nope", false, true, false, 1},
		{"users, anonymous allowed: unknown user", users, true, "mallory", "pw", false, false, false, 1},
		{"no anonymous: anonymous", users, false, "", "", false, false, false, 1},
		{"no anonymous: anonymous with password", users, false, "", "pw", false, false, false, 1},
		{"no anonymous: user", users, false, "alice", "pw", true, true, false, 0},
		{"no anonymous: wrong password", users, false, "alice", "PW", false, true, false, 1},
		{"no users, no anonymous: nobody", &Users{}, false, "alice", "pw", false, false, false, 1},
		{"open broker, anonymous rules: anonymous", openWithRules, true, "", "", true, false, true, 0},
		{"open broker, anonymous rules: any name is anonymous", openWithRules, true, "whoever", "x", true, false, true, 0},
		{"anonymous rules: anonymous", usersWithAnonRules, true, "", "", true, false, true, 0},
		{"anonymous rules: user keeps own ACL", usersWithAnonRules, true, "alice", "pw", true, true, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHook(tt.users, tt.anon)
			cl := client(tt.user)
			if got := h.OnConnectAuthenticate(cl, connectPacket(tt.user, tt.pass)); got != tt.connect {
				t.Errorf("OnConnectAuthenticate = %v, want %v", got, tt.connect)
			}
			if got := h.FailedLogins(); got != tt.failedLoginsInc {
				t.Errorf("FailedLogins = %d, want %d", got, tt.failedLoginsInc)
			}
			if got := h.OnACLCheck(cl, "a/x", true); got != tt.pubA {
				t.Errorf("publish a/x allowed = %v, want %v", got, tt.pubA)
			}
			if got := h.OnACLCheck(cl, "b/x", true); got != tt.pubB {
				t.Errorf("publish b/x allowed = %v, want %v", got, tt.pubB)
			}
		})
	}
}

func TestHookCopiesUsersAndReloads(t *testing.T) {
	u := &Users{List: []User{{Name: "alice", PasswordHash: fastHash(t, "pw"), ACL: []Rule{{"a/#", ReadWrite}}}}}
	h := NewHook(u, false)
	u.List[0].ACL[0].Filter = "b/#" // must not affect the running hook
	u.List[0].PasswordHash = fastHash(t, "other")
	cl := client("alice")
	if !h.OnConnectAuthenticate(cl, connectPacket("alice", "pw")) || !h.OnACLCheck(cl, "a/x", true) {
		t.Fatal("hook saw a change to Users made after NewHook")
	}
	h.Reload(u, false)
	if h.OnConnectAuthenticate(cl, connectPacket("alice", "pw")) || !h.OnConnectAuthenticate(cl, connectPacket("alice", "other")) {
		t.Error("Reload did not replace the password")
	}
	if h.OnACLCheck(cl, "a/x", true) || !h.OnACLCheck(cl, "b/x", true) {
		t.Error("Reload did not replace the ACL")
	}
}

func TestHookNeverLogsPasswords(t *testing.T) {
	var buf bytes.Buffer
	h := NewHook(&Users{List: []User{{Name: "alice", PasswordHash: fastHash(t, "pw"), ACL: []Rule{{"a/#", Read}}}}}, false)
	h.Log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const secret = "TopSecretPassword"
	h.OnConnectAuthenticate(client("alice"), connectPacket("alice", secret))
	h.OnConnectAuthenticate(client("mallory"), connectPacket("mallory", secret))
	h.OnConnectAuthenticate(client(""), connectPacket("", secret))
	h.OnACLCheck(client("alice"), "b/x", true)
	out := buf.String()
	if strings.Contains(out, secret) {
		t.Fatalf("password logged:\n%s", out)
	}
	if !strings.Contains(out, "alice") || !strings.Contains(out, "ACL denied") {
		t.Errorf("expected failed login and denial to be logged:\n%s", out)
	}
}

// rawClient speaks just enough MQTT, using mochi's packet codec.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	ver  byte
}

const ioTimeout = 5 * time.Second

func dialMQTT(t *testing.T, addr string, ver byte, id, user, pass string) (*rawClient, byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn, r: bufio.NewReader(conn), ver: ver}
	pk := connectPacket(user, pass)
	pk.FixedHeader.Type = packets.Connect
	pk.ProtocolVersion = ver
	pk.Connect.ProtocolName = []byte("MQTT")
	pk.Connect.Clean = true
	pk.Connect.Keepalive = 30
	pk.Connect.ClientIdentifier = id
	c.send(pk)
	ack, err := c.read()
	if err != nil {
		t.Fatalf("%s: reading CONNACK: %v", id, err)
	}
	if ack.FixedHeader.Type != packets.Connack {
		t.Fatalf("%s: got packet type %d, want CONNACK", id, ack.FixedHeader.Type)
	}
	return c, ack.ReasonCode
}

func (c *rawClient) send(pk packets.Packet) {
	c.t.Helper()
	pk.ProtocolVersion = c.ver
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Subscribe:
		pk.FixedHeader.Qos = 1 // required flags
		err = pk.SubscribeEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	default:
		err = fmt.Errorf("unsupported packet type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.conn.Write(buf.Bytes()); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) read() (packets.Packet, error) {
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	pk := packets.Packet{ProtocolVersion: c.ver}
	hb, err := c.r.ReadByte()
	if err != nil {
		return pk, err
	}
	if err := pk.FixedHeader.Decode(hb); err != nil {
		return pk, err
	}
	n, _, err := packets.DecodeLength(c.r)
	if err != nil {
		return pk, err
	}
	pk.FixedHeader.Remaining = n
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return pk, err
	}
	switch pk.FixedHeader.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(body)
	}
	return pk, err
}

func (c *rawClient) subscribe(id uint16, filter string) byte {
	c.t.Helper()
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: id,
		Filters: packets.Subscriptions{{Filter: filter}}})
	ack, err := c.read()
	if err != nil || ack.FixedHeader.Type != packets.Suback || ack.PacketID != id || len(ack.ReasonCodes) != 1 {
		c.t.Fatalf("subscribe %q: got %+v, %v; want a SUBACK with one reason code", filter, ack, err)
	}
	return ack.ReasonCodes[0]
}

func (c *rawClient) publish(topic, payload string, qos byte, id uint16) {
	c.t.Helper()
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, PacketID: id,
		TopicName: topic, Payload: []byte(payload)})
}

// expectMessage reads until a PUBLISH on topic arrives, failing on any
// PUBLISH on a forbidden topic in between.
func (c *rawClient) expectMessage(topic string, forbidden ...string) {
	c.t.Helper()
	for {
		pk, err := c.read()
		if err != nil {
			c.t.Fatalf("waiting for a message on %q: %v", topic, err)
		}
		if pk.FixedHeader.Type != packets.Publish {
			continue
		}
		for _, f := range forbidden {
			if pk.TopicName == f {
				c.t.Fatalf("received a message on %q (payload %q), which must not be delivered", f, pk.Payload)
			}
		}
		if pk.TopicName == topic {
			return
		}
	}
}

func TestBrokerIntegration(t *testing.T) {
	users := &Users{List: []User{
		{Name: "alice", PasswordHash: fastHash(t, "alice-pw"), ACL: []Rule{
			{"sensors/#", ReadWrite},
			{"secret/#", Deny},
			{"cmd/+/set", Write},
		}},
		{Name: "bob", PasswordHash: fastHash(t, "bob-pw")}, // full access
	}}
	h := NewHook(users, false)

	srv := mqtt.New(&mqtt.Options{InlineClient: false, Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(h, nil); err != nil {
		t.Fatal(err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
	if err := srv.AddListener(l); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	addr := l.Address()

	// Refused logins get CONNACK "bad user name or password".
	for _, c := range []struct{ id, user, pass string }{
		{"wrong-pw", "alice", "bob-pw"},
		{"unknown", "mallory", "alice-pw"},
		{"anonymous", "", ""},
	} {
		if _, code := dialMQTT(t, addr, 5, c.id, c.user, c.pass); code != packets.ErrBadUsernameOrPassword.Code {
			t.Errorf("%s: CONNACK reason 0x%02x, want 0x%02x", c.id, code, packets.ErrBadUsernameOrPassword.Code)
		}
	}
	if _, code := dialMQTT(t, addr, 4, "wrong-pw-v3", "alice", "nope"); code == packets.CodeSuccess.Code {
		t.Error("MQTT 3.1.1 client with a wrong password was accepted")
	}
	if got := h.FailedLogins(); got != 4 {
		t.Errorf("FailedLogins = %d, want 4", got)
	}

	alice, code := dialMQTT(t, addr, 5, "alice", "alice", "alice-pw")
	if code != packets.CodeSuccess.Code {
		t.Fatalf("alice: CONNACK reason 0x%02x", code)
	}
	bob, code := dialMQTT(t, addr, 5, "bob", "bob", "bob-pw")
	if code != packets.CodeSuccess.Code {
		t.Fatalf("bob: CONNACK reason 0x%02x", code)
	}

	// Denied subscribe: failure SUBACK (0x87, not authorized).
	if rc := alice.subscribe(1, "secret/#"); rc != packets.ErrNotAuthorized.Code {
		t.Errorf("alice subscribe secret/#: reason 0x%02x, want 0x87", rc)
	}
	if rc := alice.subscribe(2, "#"); rc != packets.ErrNotAuthorized.Code {
		t.Errorf("alice subscribe #: reason 0x%02x, want 0x87", rc)
	}
	if rc := alice.subscribe(3, "sensors/+/temp"); rc != packets.CodeGrantedQos0.Code {
		t.Errorf("alice subscribe sensors/+/temp: reason 0x%02x, want granted", rc)
	}
	// MQTT 3.1.1 has only 0x80 for a failed subscription.
	alice3, code := dialMQTT(t, addr, 4, "alice-v3", "alice", "alice-pw")
	if code != packets.CodeSuccess.Code {
		t.Fatalf("alice v3: CONNACK 0x%02x", code)
	}
	if rc := alice3.subscribe(1, "secret/x"); rc != packets.ErrUnspecifiedError.Code {
		t.Errorf("alice (3.1.1) subscribe secret/x: reason 0x%02x, want 0x80", rc)
	}
	if rc := bob.subscribe(1, "#"); rc != packets.CodeGrantedQos0.Code {
		t.Fatalf("bob subscribe #: reason 0x%02x, want granted", rc)
	}
	if got := h.DeniedSubscribes(); got != 3 {
		t.Errorf("DeniedSubscribes = %d, want 3", got)
	}

	// Denied publish: not delivered to bob, who could read it.
	alice.publish("secret/x", "leak", 0, 0)
	alice.publish("sensors/1/temp", "21.5", 0, 0)
	bob.expectMessage("sensors/1/temp", "secret/x")
	alice.expectMessage("sensors/1/temp") // alice's own subscription works
	if got := h.DeniedPublishes(); got != 1 {
		t.Errorf("DeniedPublishes = %d, want 1", got)
	}
	// QoS 1 on MQTT 5: PUBACK "not authorized".
	alice.publish("secret/y", "leak", 1, 7)
	ack, err := alice.read()
	if err != nil || ack.FixedHeader.Type != packets.Puback || ack.PacketID != 7 || ack.ReasonCode != packets.ErrNotAuthorized.Code {
		t.Errorf("denied QoS 1 publish: got %+v, %v; want PUBACK 0x87", ack, err)
	}
	if got := h.DeniedPublishes(); got != 2 {
		t.Errorf("DeniedPublishes = %d, want 2", got)
	}
	if got := h.DeniedDeliveries(); got != 0 {
		t.Errorf("DeniedDeliveries = %d, want 0", got)
	}

	// Reload narrows bob's ACL: his existing "#" subscription no longer
	// delivers what he may not read.
	users.List[1].ACL = []Rule{{"sensors/#", Read}}
	h.Reload(users, false)
	alice.publish("cmd/lamp/set", "on", 0, 0)
	alice.publish("sensors/2/temp", "22", 0, 0)
	bob.expectMessage("sensors/2/temp", "cmd/lamp/set")
	if got := h.DeniedDeliveries(); got != 1 {
		t.Errorf("DeniedDeliveries = %d, want 1", got)
	}
	if got := h.DeniedPublishes(); got != 2 {
		t.Errorf("DeniedPublishes = %d, want 2 (cmd/lamp/set was allowed)", got)
	}
}

func TestWillVerdict(t *testing.T) {
	alice := []User{{Name: "alice", PasswordHash: fastHash(t, "pw"), ACL: []Rule{{"sensors/#", ReadWrite}}}}
	withUsers := &Users{Anonymous: true, List: alice, AnonymousACL: []Rule{{"secret/#", Deny}, {"#", ReadWrite}}}
	open := &Users{}
	tests := []struct {
		name  string
		users *Users
		user  string
		topic string
		want  packets.Code
	}{
		{"allowed by the ACL", withUsers, "alice", "sensors/a/status", packets.CodeSuccess},
		{"denied by the ACL", withUsers, "alice", "secret/retained", packets.ErrNotAuthorized},
		{"$SYS", withUsers, "alice", "$SYS/broker/version", packets.ErrNotAuthorized},
		{"any $ topic", open, "", "$foo", packets.ErrNotAuthorized},
		{"plus wildcard", withUsers, "alice", "sensors/+/x", packets.ErrTopicNameInvalid},
		{"hash wildcard", open, "", "a/#", packets.ErrTopicNameInvalid},
		{"anonymous allowed", withUsers, "", "public/x", packets.CodeSuccess},
		{"anonymous denied by anonymous_acl", withUsers, "", "secret/x", packets.ErrNotAuthorized},
		{"open broker", open, "whoever", "anything/at/all", packets.CodeSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHook(tt.users, true)
			if got, _ := h.state.Load().willVerdict([]byte(tt.user), tt.topic); got != tt.want {
				t.Errorf("willVerdict(%q, %q) = %v, want %v", tt.user, tt.topic, got, tt.want)
			}
		})
	}
	if got := shortTopic(strings.Repeat("é", 1000)); len(got) > 210 || !strings.HasSuffix(got, "…") {
		t.Errorf("shortTopic kept %d bytes", len(got))
	}
}
