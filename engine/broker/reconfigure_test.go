package broker_test

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

const reconfigureTimeout = 10 * time.Second

// subscriber connects a raw MQTT 3.1.1 client subscribed to topic.
func subscriber(t *testing.T, addr, id, topic string) *rawmqtt.Client {
	t.Helper()
	// The connection lives as long as the test (a cancelled ctx closes it).
	c, err := rawmqtt.Dial(t.Context(), addr, id, 4096, 4096)
	if err != nil {
		t.Fatalf("connect %s to %s: %v", id, addr, err)
	}
	t.Cleanup(c.Close)
	if err := c.Subscribe(topic, 0); err != nil {
		t.Fatalf("subscribe %s: %v", id, err)
	}
	return c
}

// delivered says whether c still receives what the broker publishes.
func delivered(t *testing.T, b *brokertest.Server, c *rawmqtt.Client, topic string) error {
	t.Helper()
	if err := b.Publish(topic, []byte("still here"), false, 0); err != nil {
		return err
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(reconfigureTimeout))
	m, err := c.Next()
	if err != nil {
		return err
	}
	if m.Topic != topic {
		return errors.New("got " + m.Topic + ", want " + topic)
	}
	return nil
}

// holdInProcess listens on a free loopback port in this process.
func holdInProcess(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln.Addr().String()
}

// A busy port in new settings must change nothing: the broker keeps its
// listeners and configuration, and its clients stay connected.
func TestReconfigureOntoBusyPortChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		hold func(*testing.T) string
	}{
		{"held by another process", func(t *testing.T) string { return brokertest.HoldPort(t) }},
		{"held in this process", holdInProcess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := brokertest.Start(t, func(c *broker.Config) { c.WSAddr = "127.0.0.1:0" })
			before, cfg := b.State(), b.Config()
			c := subscriber(t, b.Addr, "stays", "keep/#")
			busy := tc.hold(t)

			next := cfg
			next.MQTTAddr = busy
			err := b.Reconfigure(next)

			var le *broker.ListenError
			if !errors.As(err, &le) || !le.InUse() {
				t.Fatalf("Reconfigure onto busy %s: %v, want an address-in-use ListenError", busy, err)
			}
			_, port, _ := net.SplitHostPort(busy)
			msg := err.Error()
			if !strings.Contains(msg, "Port "+port+" ") || !strings.Contains(msg, "MQTT") || !unicode.IsUpper([]rune(msg)[0]) {
				t.Errorf("error %q: want a sentence starting with a capital that names port %s and the MQTT listener", msg, port)
			}
			if strings.Contains(msg, "--") {
				t.Errorf("error %q gives command-line advice; the settings dialog shows it", msg)
			}
			after := b.State()
			if after.Status != broker.Running || !slices.Equal(after.Listeners, before.Listeners) {
				t.Errorf("after the failed change the broker is %v on %+v, want running on %+v", after.Status, after.Listeners, before.Listeners)
			}
			if got := b.Config(); got.MQTTAddr != cfg.MQTTAddr || got.WSAddr != cfg.WSAddr {
				t.Errorf("configuration became %s / %s, want the old %s / %s", got.MQTTAddr, got.WSAddr, cfg.MQTTAddr, cfg.WSAddr)
			}
			if err := delivered(t, b, c, "keep/it"); err != nil {
				t.Errorf("the connected client lost its connection: %v", err)
			}
		})
	}
}

// A listener whose address does not change keeps its socket: even a port
// 0 keeps the port it got, and clients find it at the same address.
func TestReconfigureKeepsUnchangedListenerAddress(t *testing.T) {
	b := brokerWithWS(t)
	mqttBefore := b.Listener(t, "mqtt")
	cfg := b.Config()
	cfg.WSAddr = ""
	if err := b.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if got := b.Listener(t, "mqtt"); got != mqttBefore {
		t.Fatalf("MQTT listener moved from %s to %s although its setting did not change", mqttBefore, got)
	}
	if len(b.State().Listeners) != 1 {
		t.Errorf("listeners %+v, want the MQTT one only", b.State().Listeners)
	}
	c := subscriber(t, mqttBefore, "after", "t")
	if err := delivered(t, b, c, "t"); err != nil {
		t.Fatal(err)
	}
}

func brokerWithWS(t *testing.T) *brokertest.Server {
	return brokertest.Start(t, func(c *broker.Config) { c.WSAddr = "127.0.0.1:0" })
}

// A changed port moves the listener: the old port is let go.
func TestReconfigureMovesChangedListener(t *testing.T) {
	b := brokertest.Start(t)
	old := b.Addr
	cfg := b.Config()
	cfg.MQTTAddr = "localhost:0" // another setting, so a new free port
	if err := b.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	moved := b.Listener(t, "mqtt")
	if moved == old {
		t.Fatalf("listener still on %s", old)
	}
	if c, err := net.DialTimeout("tcp", old, time.Second); err == nil {
		c.Close()
		t.Errorf("the old address %s still accepts connections", old)
	}
	subscriber(t, moved, "moved", "t")
}

// When the new settings fail past the sockets (here a users file that is
// not there), the broker comes back with the old ones.
func TestReconfigureFailureRestoresOldSettings(t *testing.T) {
	b := brokertest.Start(t)
	before, cfg := b.Addr, b.Config()
	next := cfg
	next.UsersFile = t.TempDir() + "/missing.yaml"
	if err := b.Reconfigure(next); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("Reconfigure with a missing users file: %v, want an error naming it", err)
	}
	if st := b.State(); st.Status != broker.Running || b.Listener(t, "mqtt") != before {
		t.Fatalf("after the failed change: %v on %+v, want running on %s", st.Status, st.Listeners, before)
	}
	if got := b.Config().UsersFile; got != "" {
		t.Errorf("configuration kept the failed users file %q", got)
	}
	subscriber(t, before, "back", "t")
}

func TestReconfigureRefusesOneAddressForTwoListeners(t *testing.T) {
	b := brokerWithWS(t)
	before := b.State().Listeners
	cfg := b.Config()
	cfg.MQTTAddr, cfg.WSAddr = "127.0.0.1:18830", "127.0.0.1:18830"
	err := b.Reconfigure(cfg)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:18830") {
		t.Fatalf("two listeners on one address: %v, want an error naming it", err)
	}
	if !slices.Equal(b.State().Listeners, before) {
		t.Errorf("listeners changed to %+v", b.State().Listeners)
	}
}

// A listener set to the port another one has now (port 0 resolved) would
// share its socket: refused, nothing changes.
func TestReconfigureRefusesTheSocketOfAnotherListener(t *testing.T) {
	b := brokerWithWS(t)
	before := b.State().Listeners
	cfg := b.Config()
	cfg.MQTTAddr = b.Listener(t, "ws") // the WebSocket listener keeps 127.0.0.1:0
	err := b.Reconfigure(cfg)
	if err == nil || !strings.Contains(err.Error(), "both set to") {
		t.Fatalf("MQTT onto the WebSocket listener's port: %v, want a refusal", err)
	}
	if !slices.Equal(b.State().Listeners, before) {
		t.Errorf("listeners changed to %+v", b.State().Listeners)
	}
}

func TestCanListen(t *testing.T) {
	b := brokertest.Start(t)
	busy := brokertest.HoldPort(t)
	if err := b.CanListen("mqtt", busy); err == nil {
		t.Errorf("CanListen(%s) held by another process: nil, want an error", busy)
	} else if _, port, _ := net.SplitHostPort(busy); !strings.HasPrefix(err.Error(), "Port "+port+" ") {
		t.Errorf("CanListen error %q does not start by naming port %s", err, port)
	}
	for _, ok := range []string{b.Addr, "127.0.0.1:0", "localhost:0"} {
		if err := b.CanListen("mqtt", ok); err != nil {
			t.Errorf("CanListen(%s): %v, want nil", ok, err)
		}
	}
}
