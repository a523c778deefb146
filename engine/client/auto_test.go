package client

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// A profile with the automatic protocol reaches a 3.1.1-only broker,
// whether it hangs up on the MQTT 5 CONNECT (RabbitMQ before 3.13),
// ignores it, or refuses it with a 3.1.1 CONNACK (ActiveMQ Classic): the
// connection falls back to 3.1.1, says so, and reconnects with 3.1.1
// without trying 5 again.
func TestAutoProtocolFallsBackTo311(t *testing.T) {
	backend := startEmbedded(t)
	for _, tc := range []struct {
		name    string
		refusal testkit.V5Refusal
	}{{"hang-up", testkit.HangUp}, {"ignore", testkit.Ignore}, {"3.1.1 CONNACK", testkit.Connack311}} {
		t.Run(tc.name, func(t *testing.T) {
			front := testkit.StartMQTT311Only(t, backend, tc.refusal)
			rec := newRecorder()
			_, c := open(t, rec, profile("auto-311", "mqtt://"+front.Addr, ProtocolAuto), Credentials{})
			st := waitState(t, c, StateConnected, autoConnackWait+10*time.Second)
			if st.Protocol != MQTT311 || !st.AutoProtocol {
				t.Fatalf("status protocol %q (automatic %v); want 3.1.1 chosen automatically", st.Protocol, st.AutoProtocol)
			}
			if st.LastError != nil {
				t.Errorf("the fallback shows as an error: %v", st.LastError)
			}
			roundTrip(t, c, rec, "auto/311")

			v5 := front.V5Seen.Load()
			front.Cut()
			testkit.Eventually(t, "the reconnect", func() bool {
				now := c.Status()
				return now.State == StateConnected && now.Since.After(st.Since)
			})
			if got := front.V5Seen.Load(); got != v5 {
				t.Errorf("the reconnect tried MQTT 5 again (%d MQTT 5 CONNECTs, %d before)", got, v5)
			}
			if st := c.Status(); st.Protocol != MQTT311 {
				t.Errorf("after the reconnect: protocol %q", st.Protocol)
			}
			// Published properties need MQTT 5; the chosen protocol decides.
			if err := c.Publish(t.Context(), Message{Topic: "a", ContentType: "text/plain"}); err == nil || !strings.Contains(err.Error(), "need MQTT 5") {
				t.Errorf("properties on the 3.1.1 fallback: %v", err)
			}
		})
	}
}

// An explicit MQTT 5 on a broker that ignores it says what to do, not
// "no answer; check the host and any firewall"; one answered with a 3.1.1
// CONNACK says the broker speaks only 3.1.1.
func TestRefusedMQTT5ConnectInWords(t *testing.T) {
	front := testkit.StartMQTT311Only(t, startEmbedded(t), testkit.Connack311)
	_, c := open(t, nil, profile("v5-refused", "mqtt://"+front.Addr, MQTT5), Credentials{})
	if ce := waitError(t, c); ce.Kind != ErrBadProtocol || !strings.Contains(ce.Msg, "speaks only 3.1.1") {
		t.Errorf("got kind %d %q; want that the broker speaks only 3.1.1", ce.Kind, ce)
	}
}

func TestIgnoredMQTT5ConnectInWords(t *testing.T) {
	front := testkit.StartMQTT311Only(t, startEmbedded(t), testkit.Ignore)
	_, c := open(t, nil, profile("v5-ignored", "mqtt://"+front.Addr, MQTT5), Credentials{})
	ce := waitError(t, c)
	if ce.Kind != ErrNoConnack || !strings.Contains(ce.Msg, "did not answer the CONNECT") || !strings.Contains(ce.Msg, "3.1.1") {
		t.Errorf("got kind %d %q; want the unanswered CONNECT and the 3.1.1 advice", ce.Kind, ce)
	}
}

// Against a broker that speaks MQTT 5 the automatic protocol stays on 5.
func TestAutoProtocolPrefersMQTT5(t *testing.T) {
	rec := newRecorder()
	_, c := open(t, rec, profile("auto-5", "mqtt://"+startEmbedded(t), ProtocolAuto), Credentials{})
	st := waitState(t, c, StateConnected, 10*time.Second)
	if st.Protocol != MQTT5 || !st.AutoProtocol {
		t.Fatalf("status protocol %q (automatic %v); want 5 chosen automatically", st.Protocol, st.AutoProtocol)
	}
	roundTrip(t, c, rec, "auto/5")
}

// A broker that refuses for another reason (here: nothing listens) is
// not mistaken for a 3.1.1-only one: the error is the real one.
func TestAutoProtocolKeepsOtherErrors(t *testing.T) {
	_, c := open(t, nil, profile("auto-refused", mqttURL(testkit.FreePort(t)), ProtocolAuto), Credentials{})
	if ce := waitError(t, c); ce.Kind != ErrRefused {
		t.Errorf("got kind %d %q; want connection refused", ce.Kind, ce)
	}
	if st := c.Status(); st.Protocol != MQTT5 {
		t.Errorf("protocol %q after a refused attempt; want 5 still tried first", st.Protocol)
	}
}

func TestNewProfilesDefaultToAutomaticProtocol(t *testing.T) {
	p, err := NewFromPreset(PresetGeneric, PresetInput{Host: "mqtt://broker.example:1883"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Protocol != ProtocolAuto {
		t.Errorf("custom preset protocol %q; want auto", p.Protocol)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("an automatic profile does not validate: %v", err)
	}
}

// startNotMQTT listens on loopback and answers every connection with
// reply (after reading what the client sent first), then hangs up: a
// port that speaks something else.
func startNotMQTT(t *testing.T, reply []byte) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 512)
				if _, err := conn.Read(buf); err != nil {
					return
				}
				_, _ = conn.Write(reply)
			})
		}
	})
	return l.Addr().String()
}

// A port that does not speak MQTT gets one plain sentence in both
// protocols: the URL once, no library wording.
func TestNotMQTTPortInWords(t *testing.T) {
	peers := []struct{ name, addr string }{
		{"http", startNotMQTT(t, []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))},
		{"zeros", startNotMQTT(t, make([]byte, 64))},
	}
	for _, peer := range peers {
		for _, proto := range []Protocol{MQTT5, MQTT311} {
			t.Run(peer.name+" "+string(proto), func(t *testing.T) {
				url := "mqtt://" + peer.addr
				_, c := open(t, nil, profile("not-mqtt", url, proto), Credentials{})
				ce := waitError(t, c)
				msg := ce.Error()
				if ce.Kind != ErrNotMQTT || strings.Count(msg, peer.addr) != 1 || !strings.Contains(msg, "does not speak MQTT") {
					t.Errorf("got kind %d %q; want the address once and that the port does not speak MQTT", ce.Kind, msg)
				}
				for _, jargon := range []string{"packet type", "failed to connect", "unexpected packet"} {
					if strings.Contains(msg, jargon) {
						t.Errorf("%q has library wording %q", msg, jargon)
					}
				}
			})
		}
	}
}

// A link the broker ends says why it broke, apart from why the attempts
// after it fail (here at once: the broker is gone).
func TestLostLinkKeepsItsReason(t *testing.T) {
	for _, proto := range []Protocol{MQTT5, MQTT311} {
		t.Run(string(proto), func(t *testing.T) {
			b, err := broker.New(broker.Config{MQTTAddr: "127.0.0.1:0", NoPersistence: true, DataDir: t.TempDir(), Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Stop() })
			m := NewManager(nil, testOptions())
			t.Cleanup(func() { _ = m.CloseAll(context.Background()) })
			c, err := m.Open(profile("lost", b.State().Listeners[0].URL, proto), Credentials{})
			if err != nil {
				t.Fatal(err)
			}
			waitState(t, c, StateConnected, 10*time.Second)
			if err := b.Stop(); err != nil {
				t.Fatal(err)
			}
			waitState(t, c, StateReconnecting, 10*time.Second)
			testkit.Eventually(t, "the loss has a reason", func() bool { return c.Status().LostReason != nil })
			if ce := c.Status().LostReason.(*ConnError); ce.Kind != ErrConnectionLost || !strings.Contains(ce.Msg, "the broker closed the connection") || strings.Count(ce.Msg, "shutting down") > 1 {
				t.Errorf("reason %q (kind %d); want that the broker closed the connection", ce, ce.Kind)
			}
		})
	}
}
