package replay

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

const testTimeout = 20 * time.Second

// startBroker runs the embedded broker (brokertest) with a WebSocket
// listener too, and the product's keep-alive cap and queue length;
// mutate may add TLS, users or a recorder.
func startBroker(t *testing.T, mutate func(*broker.Config)) *broker.Broker {
	t.Helper()
	product := func(c *broker.Config) {
		c.WSAddr, c.KeepAliveCap, c.WritesPending = "127.0.0.1:0", broker.DefaultKeepAliveCap, broker.DefaultWritesPending
	}
	if mutate == nil {
		return brokertest.Start(t, product).Broker
	}
	return brokertest.Start(t, product, mutate).Broker
}

// brokerURL is the URL of b's listener called name (mqtt, ws, tls).
func brokerURL(t *testing.T, b *broker.Broker, name string) string {
	t.Helper()
	for _, l := range b.State().Listeners {
		if l.Name == name {
			return l.URL
		}
	}
	t.Fatalf("no %s listener", name)
	return ""
}

func openStore(t *testing.T) *capture.Store {
	t.Helper()
	s, err := capture.Open(t.TempDir(), capture.Options{Logger: testkit.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func fill(t *testing.T, s *capture.Store, recs []message.Message) {
	t.Helper()
	for _, r := range recs {
		if !s.Ingest(r) {
			t.Fatalf("ingest %s refused", r.Topic)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// series makes n records on topic at base plus the given offsets, with
// payloads "0", "1", ...
func series(base time.Time, topic string, offsets []time.Duration) []message.Message {
	out := make([]message.Message, len(offsets))
	for i, off := range offsets {
		out[i] = message.Message{Time: base.Add(off), Source: "broker", ClientID: "dev", Protocol: 5,
			Topic: topic, Payload: []byte(strconv.Itoa(i))}
	}
	return out
}

func dialClient(t *testing.T, url string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := Dial(ctx, ClientOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// received is one message a subscriber got, and when.
type received struct {
	at time.Time
	p  *paho.Publish
}

type subscriber struct {
	msgs chan received
}

// subscribe connects a paho MQTT 5 client to the broker's TCP listener and
// subscribes to filter at QoS 2, retain as published.
func subscribe(t *testing.T, b *broker.Broker, filter string) *subscriber {
	t.Helper()
	return subscribeAs(t, b, filter, "", "")
}

func subscribeAs(t *testing.T, b *broker.Broker, filter, user, password string) *subscriber {
	t.Helper()
	addr := strings.TrimPrefix(brokerURL(t, b, "mqtt"), "mqtt://")
	conn, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	s := &subscriber{msgs: make(chan received, 20000)}
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) {
			s.msgs <- received{at: time.Now(), p: pr.Packet}
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cp := &paho.Connect{ClientID: "watcher", CleanStart: true, KeepAlive: 30}
	if user != "" {
		cp.Username, cp.UsernameFlag, cp.Password, cp.PasswordFlag = user, true, []byte(password), true
	}
	if _, err := c.Connect(ctx, cp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 2, RetainAsPublished: true}}}); err != nil {
		t.Fatal(err)
	}
	return s
}

// take waits for n messages.
func (s *subscriber) take(t *testing.T, n int) []received {
	t.Helper()
	out := make([]received, 0, n)
	deadline := time.After(testTimeout)
	for len(out) < n {
		select {
		case m := <-s.msgs:
			out = append(out, m)
		case <-deadline:
			t.Fatalf("got %d of %d messages", len(out), n)
		}
	}
	return out
}

// none checks that nothing more arrives for a while.
func (s *subscriber) none(t *testing.T, wait time.Duration) {
	t.Helper()
	select {
	case m := <-s.msgs:
		t.Fatalf("unexpected message on %q: %q", m.p.Topic, m.p.Payload)
	case <-time.After(wait):
	}
}

// recorder is a Publisher that keeps what it is given and when.
type recorder struct {
	mu    sync.Mutex
	recs  []message.Message
	times []time.Time
	onPub func(n int) // called after each Publish with the count so far
}

func (r *recorder) Publish(_ context.Context, rec message.Message) error {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.times = append(r.times, time.Now())
	n := len(r.recs)
	r.mu.Unlock()
	if r.onPub != nil {
		r.onPub(n)
	}
	return nil
}

func (r *recorder) Flush(context.Context) error { return nil }
