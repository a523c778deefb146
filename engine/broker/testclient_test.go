package broker

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

const testTimeout = 10 * time.Second

// startBroker runs a real broker on loopback port 0 in a temp data dir.
func startBroker(t *testing.T, mutate func(*Config)) *Broker {
	t.Helper()
	cfg := Config{MQTTAddr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: testkit.Logger()}
	if mutate != nil {
		mutate(&cfg)
	}
	b, err := New(withStore(cfg))
	if err != nil {
		t.Fatalf("new broker: %v", err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	return b
}

func listenerAddr(t *testing.T, b *Broker, name string) string {
	t.Helper()
	for _, l := range b.State().Listeners {
		if l.Name == name {
			return l.Address
		}
	}
	t.Fatalf("no %s listener in %+v", name, b.State().Listeners)
	return ""
}

// v5 is a paho.golang MQTT 5 test client collecting what it receives.
type v5 struct {
	*paho.Client
	msgs chan *paho.Publish
}

type dialOpts struct {
	id, user, pass string
	clean          bool
	expiry         uint32
	will           *paho.WillMessage
	tls            *tls.Config
	conn           net.Conn
}

func dialV5(t *testing.T, addr string, o dialOpts) (*v5, *paho.Connack, error) {
	t.Helper()
	conn := o.conn
	var err error
	if conn == nil {
		d := net.Dialer{Timeout: testTimeout}
		if o.tls != nil {
			conn, err = tls.DialWithDialer(&d, "tcp", addr, o.tls)
		} else {
			conn, err = d.Dial("tcp", addr)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	// paho writes one packet as several Write calls on anything but a plain
	// TCP conn; without this wrapper its pinger interleaves with a SUBSCRIBE
	// on TLS and WebSocket connections and the broker sees a malformed packet.
	conn = packets.NewThreadSafeConn(conn)
	msgs := make(chan *paho.Publish, 1000)
	c := paho.NewClient(paho.ClientConfig{
		Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			msgs <- pr.Packet
			return true, nil
		}},
	})
	cp := &paho.Connect{ClientID: o.id, KeepAlive: 30, CleanStart: o.clean || o.expiry == 0, WillMessage: o.will}
	if o.expiry > 0 {
		cp.Properties = &paho.ConnectProperties{SessionExpiryInterval: &o.expiry}
	}
	if o.user != "" {
		cp.Username, cp.UsernameFlag = o.user, true
		cp.Password, cp.PasswordFlag = []byte(o.pass), true
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ack, err := c.Connect(ctx, cp)
	if err != nil {
		conn.Close()
		return nil, ack, err
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return &v5{Client: c, msgs: msgs}, ack, nil
}

func mustDialV5(t *testing.T, addr, id string) *v5 {
	t.Helper()
	c, _, err := dialV5(t, addr, dialOpts{id: id, clean: true})
	if err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	return c
}

func (c *v5) sub(t *testing.T, filter string, qos byte) *paho.Suback {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}})
	if err != nil && sa == nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	return sa
}

func (c *v5) pub(t *testing.T, topic, payload string, qos byte, retain bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := c.Publish(ctx, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: qos, Retain: retain}); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
}

// next waits for one message, failing the test after the timeout.
func (c *v5) next(t *testing.T) *paho.Publish {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(testTimeout):
		t.Fatal("no message arrived")
		return nil
	}
}

// none asserts that nothing arrives within d.
func (c *v5) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-c.msgs:
		t.Fatalf("unexpected message on %s: %q", m.Topic, m.Payload)
	case <-time.After(d):
	}
}

// needTool finds a Debian client tool; CI installs them, so there it must exist.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (CI installs mosquitto-clients)", name)
		}
		t.Skipf("%s not installed: apt-get install mosquitto-clients", name)
	}
	return p
}
