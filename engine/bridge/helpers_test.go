package bridge

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// tap hands the local broker's messages to the bridge once there is one.
type tap struct{ b atomic.Pointer[Bridge] }

func (t *tap) Ingest(m message.Message) bool {
	if b := t.b.Load(); b != nil {
		return b.Ingest(m)
	}
	return true
}

// local is an embedded broker with its tap.
type local struct {
	*brokertest.Server
	tap *tap
}

func startLocal(t testing.TB) *local {
	t.Helper()
	tp := &tap{}
	s := brokertest.Start(t, func(c *broker.Config) { c.Recorder = tp })
	return &local{Server: s, tap: tp}
}

func (l *local) url() string { return "mqtt://" + l.Addr }

// collector keeps what a test client receives.
type collector struct {
	mu   sync.Mutex
	msgs []message.Message
}

func (c *collector) Ingest(m message.Message) bool {
	m.Payload = append([]byte(nil), m.Payload...)
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	return true
}

func (c *collector) all() []message.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]message.Message(nil), c.msgs...)
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// countBy counts received messages per "topic payload".
func (c *collector) countBy() map[string]int {
	out := map[string]int{}
	for _, m := range c.all() {
		out[m.Topic+" "+string(m.Payload)]++
	}
	return out
}

var fastRetry = client.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, Timeout: 5 * time.Second, Logger: testkit.Logger()}

// testClient connects an MQTT 5 test client to url, subscribed to subs.
// A non-empty clientID with persist keeps its session across reconnects.
func testClient(t testing.TB, url, clientID string, persist bool, subs ...client.Subscription) (*client.Connection, *collector) {
	t.Helper()
	col := &collector{}
	mgr := client.NewManager(col, fastRetry)
	p := client.Profile{ID: client.NewID(), Name: "test " + clientID, URL: url, Protocol: client.MQTT5, ClientID: clientID, CleanStart: !persist}
	if persist {
		p.SessionExpiry = 3600
	}
	conn, err := mgr.Open(p, client.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = mgr.CloseAll(ctx)
	})
	testkit.Eventually(t, "test client "+clientID+" connected", func() bool { return conn.Status().State == client.StateConnected })
	if len(subs) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Subscribe(ctx, subs...); err != nil {
			t.Fatal(err)
		}
	}
	return conn, col
}

func publish(t testing.TB, c *client.Connection, topic, payload string, qos byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Publish(ctx, client.Message{Topic: topic, Payload: []byte(payload), QoS: qos}); err != nil {
		t.Fatal(err)
	}
}

// openBridge opens a bridge from l to the remote at url with rules.
func openBridge(t testing.TB, l *local, url string, proto client.Protocol, queueDir string, queue int, rules ...Rule) *Bridge {
	t.Helper()
	if queueDir == "" {
		queueDir = t.TempDir()
	}
	cfg := Config{Name: "test", Connection: "remote", Queue: queue, Rules: rules}
	b, err := Open(cfg, Options{
		Profile: client.Profile{ID: "remote-id", Name: "remote", URL: url, Protocol: proto, CleanStart: true},
		Local:   l.Broker, QueueDir: queueDir, Client: fastRetry, Logger: testkit.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	l.tap.b.Store(b)
	t.Cleanup(func() { closeBridge(t, l, b) })
	return b
}

func closeBridge(t testing.TB, l *local, b *Bridge) {
	l.tap.b.CompareAndSwap(b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Error(err)
	}
}

func connected(t testing.TB, b *Bridge) {
	t.Helper()
	testkit.Eventually(t, "bridge connected", func() bool { return b.Stats().State == StateConnected })
}

// memKeyring is an in-memory keyring.
type memKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *memKeyring) Get(a string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[a]
	if !ok {
		return "", client.ErrSecretNotFound
	}
	return v, nil
}

func (k *memKeyring) Set(a, s string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.m[a] = s
	return nil
}

func (k *memKeyring) Delete(a string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, a)
	return nil
}
