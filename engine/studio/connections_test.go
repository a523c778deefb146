package studio

import (
	"context"
	"sync"
	"testing"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/topics"
)

// collect is a teed recorder, like the Subscribe panel's list.
type collect struct {
	mu   sync.Mutex
	recs []message.Message
}

func (c *collect) Ingest(r message.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r)
	return true
}

func (c *collect) has(source, topic string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		if r.Source == source && r.Topic == topic {
			return true
		}
	}
	return false
}

// A message received on a remote connection reaches the topic model and
// the capture under the connection's name; one received on the
// connection to the embedded broker is recorded once, by the broker's
// tap, and not again as the connection's. A teed recorder gets both.
func TestConnectionsFeedTheModelAndCaptureBySource(t *testing.T) {
	eng, stop := openStarted(t, testConfig(t.TempDir(), true))
	local, localAddr := eng.Broker, LocalBrokerAddr(eng.Broker.State())
	remoteSrv := brokertest.Start(t)
	remote, remoteAddr := remoteSrv.Broker, remoteSrv.Addr
	conns := eng.Connections
	tops := struct{ model *topics.Model }{eng.Topics}
	seen := &collect{}
	conns.Tee(seen)
	open := func(kind client.PresetKind, name, addr string) *client.Connection {
		in := client.PresetInput{Name: name, Host: "mqtt://" + addr, Addr: addr}
		p, err := client.NewFromPreset(kind, in)
		if err != nil {
			t.Fatal(err)
		}
		c, err := conns.Manager.Open(p, client.Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, name+" connected", func() bool { return c.Status().State == client.StateConnected })
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
		defer cancel()
		if _, err := c.Subscribe(ctx, client.Subscription{Filter: "#", QoS: 1}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	open(client.PresetGeneric, "Plant broker", remoteAddr)
	open(client.PresetLocal, "Local broker", localAddr)

	if err := remote.Publish("line1/speed", []byte("12.5"), false, 1); err != nil {
		t.Fatal(err)
	}
	if err := local.Publish("lab/temp", []byte("21"), false, 1); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "both messages at the teed recorder", func() bool {
		return seen.has("Plant broker", "line1/speed") && seen.has("Local broker", "lab/temp")
	})

	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	if err := tops.model.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := tops.model.Lookup("Plant broker", "line1/speed"); !ok {
		t.Error("the topic model has no tree for the remote connection's message")
	}
	if _, ok := tops.model.Lookup(broker.SourceBroker, "lab/temp"); !ok {
		t.Error("the broker's own message is not in its tree")
	}
	if _, ok := tops.model.Lookup("Local broker", "lab/temp"); ok {
		t.Error("the local connection's message was fed to the model a second time")
	}

	// The Explorer's Publish… on a topic publishes through the connection
	// that reaches its tree.
	for source, want := range map[string]string{broker.SourceBroker: "Local broker", "Plant broker": "Plant broker"} {
		if got := conns.ConnectionFor(source); got != want {
			t.Errorf("connectionFor(%q) = %q, want %q", source, got, want)
		}
	}

	// The Explorer deletes retained messages on a connection's tree
	// through that connection.
	if conns.PublisherFor("Nobody") != nil {
		t.Error("a publisher for a connection that is not open")
	}
	pub := conns.PublisherFor("Plant broker")
	if pub == nil {
		t.Fatal("no publisher for the connected Plant broker")
	}
	if err := pub.Publish("line1/mode", []byte("auto"), true, 1); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the message published through the connection to come back on it", func() bool { return seen.has("Plant broker", "line1/mode") })

	if err := stop(); err != nil { // connections before the broker, the model and the capture
		t.Error(err)
	}
	store, err := capture.Open(eng.Capture.Dir(), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, _, err := store.Query(ctx, capture.Query{})
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[string][]string{}
	for _, r := range recs {
		bySource[r.Source] = append(bySource[r.Source], r.Topic)
	}
	if len(recs) != 3 || len(bySource["Plant broker"]) != 2 || len(bySource[broker.SourceBroker]) != 1 {
		t.Errorf("the capture holds %v, want one record from the broker and two from Plant broker", bySource)
	}
}

// Without capture and topic model (connections only), what a connection
// receives still reaches the teed sinks.
func TestConnectionsWithoutEngineSinksFeedTheTee(t *testing.T) {
	cfg := testConfig(t.TempDir(), false)
	cfg.Topics = false
	eng, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, eng.Serve)
	seen := &collect{}
	eng.Connections.Tee(seen)
	if !eng.Connections.Ingest(message.Message{Source: "Plant broker", Topic: "line1/speed"}) {
		t.Error("the message was reported dropped")
	}
	if !seen.has("Plant broker", "line1/speed") {
		t.Error("the teed sink did not get the message")
	}
}

// A reconnect of a connection subscribed to # brings every retained
// message again; the capture records them once.
func TestReconnectDoesNotCaptureRetainedAgain(t *testing.T) {
	eng, stop := openStarted(t, testConfig(t.TempDir(), true))
	remote := brokertest.Start(t)
	const retained = 4
	for i := range retained {
		if err := remote.Publish("line1/m"+string(rune('a'+i)), []byte("v"), true, 1); err != nil {
			t.Fatal(err)
		}
	}
	p, err := client.NewFromPreset(client.PresetGeneric, client.PresetInput{Name: "Plant broker", Host: "mqtt://" + remote.Addr})
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.Connections.Manager.Open(p, client.Credentials{}) // subscribes to # on connect
	if err != nil {
		t.Fatal(err)
	}
	seen := &collect{}
	eng.Connections.Tee(seen)
	marker := func(topic string) {
		testkit.Eventually(t, topic+" through the subscription", func() bool {
			_ = remote.Publish(topic, []byte("x"), false, 0)
			return seen.has("Plant broker", topic)
		})
	}
	testkit.Eventually(t, "connected", func() bool { return c.Status().State == client.StateConnected })
	marker("mark/first")
	up := c.Status().Since
	if err := remote.Disconnect(c.Status().ClientID); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the reconnect", func() bool {
		st := c.Status()
		return st.State == client.StateConnected && st.Since.After(up)
	})
	marker("mark/again") // the renewed subscription's retained messages came before it

	if err := stop(); err != nil {
		t.Error(err)
	}
	store, err := capture.Open(eng.Capture.Dir(), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, _, err := store.Query(context.Background(), capture.Query{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Source == "Plant broker" && r.Retain {
			n++
		}
	}
	if n != retained {
		t.Errorf("the capture holds %d retained records after a reconnect; want the %d retained messages once", n, retained)
	}
}
