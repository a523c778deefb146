package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/topics"
)

// TestTeeFeedsTopicModelFromBroker publishes through the real broker with a
// real client and checks the live topic tree, next to another recorder
// standing in for the capture.
func TestTeeFeedsTopicModelFromBroker(t *testing.T) {
	model := topics.New(topics.Options{BatchInterval: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- model.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("model Serve: %v", err)
		}
	}()
	other := &recorded{}
	b := startBroker(t, func(c *Config) { c.Recorder = message.NewTee(other, model) })
	c := mustDialV5(t, listenerAddr(t, b, "mqtt"), "sensor-gw")
	c.pub(t, "site/1/device/2/temperature", "21.5", 1, false)
	c.pub(t, "site/1/device/2/temperature", "21.7", 1, false)
	c.pub(t, "site/1/device/10/temperature", "19.0", 0, false)
	c.pub(t, "site/1/device/2/status", "online", 1, true)
	c.pub(t, "site/1/device/10/status", "online", 1, true)
	c.pub(t, "site/1/device/10/status", "", 1, true) // clears the retained status
	const total = 6
	other.wait(t, total)
	waitApplied(t, model, total)

	id, ok := model.Lookup(SourceBroker, "site/1/device/2/temperature")
	if !ok {
		t.Fatal("published topic not in the tree")
	}
	d, _ := model.Node(id)
	if d.Messages != 2 || string(d.Last.Payload) != "21.7" || d.Last.ClientID != "sensor-gw" || d.Last.QoS != 1 ||
		d.Last.Protocol != 5 || d.Source != SourceBroker {
		t.Fatalf("temperature node %+v", d)
	}
	if h := model.History(id); len(h) != 2 || string(h[1].Payload) != "21.5" {
		t.Fatalf("history %+v", h)
	}
	site, _ := model.Lookup(SourceBroker, "site/1/device")
	var names []string
	for _, k := range model.Children(site) {
		names = append(names, k.Name)
	}
	if len(names) != 2 || names[0] != "2" || names[1] != "10" {
		t.Fatalf("devices %v, want [2 10] in natural order", names)
	}
	root := model.Sources()[0]
	if root.Name != SourceBroker || root.SubtreeMessages != total || root.SubtreeTopics != 4 || root.SubtreeRetained != 1 {
		t.Fatalf("broker root %+v", root)
	}
	st, _ := model.Lookup(SourceBroker, "site/1/device/10/status")
	if s := model.Summaries(nil, []topics.NodeID{st})[0]; s.Retained || s.Messages != 2 {
		t.Fatalf("cleared status %+v", s)
	}
}

func waitApplied(t *testing.T, m *topics.Model, n uint64) {
	t.Helper()
	testkit.EventuallyErr(t, fmt.Sprintf("the model to apply %d messages", n), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if got := m.Stats().Messages; got < n {
			return fmt.Errorf("it applied %d", got)
		}
		return nil
	})
}
