package studio

import (
	"context"
	"testing"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/topics"
)

// testConfig is the window's engine on a free loopback port in dir.
func testConfig(dir string, capturing bool) Config {
	b := broker.DefaultConfig(dir)
	b.MQTTAddr, b.WSAddr = "127.0.0.1:0", ""
	return Config{Broker: b, Capture: capturing, Topics: true, Connections: true, Logger: testkit.Logger()}
}

// openStarted opens the engine, starts its broker and serves it until
// stop (or the test's end); stop returns Serve's error.
func openStarted(t *testing.T, cfg Config) (s *Studio, stop func() error) {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop = testkit.Serve(t, s.Serve)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s, stop
}

func syncModel(t *testing.T, m *topics.Model) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// node is what the model holds for the broker's topic; ok is false when
// it has no such topic.
func node(m *topics.Model, topic string) (d topics.NodeDetail, ok bool) {
	id, ok := m.Lookup(broker.SourceBroker, topic)
	if !ok {
		return d, false
	}
	return m.Node(id)
}

// Retained messages restored from an earlier run are in the tree as soon
// as Start returns (the broker's start event, not a poll); a clearing
// reaches it like any publish; a restart (the Broker panel's settings)
// restores again without counting a message twice.
func TestRetainedMessagesReachTheModelByEvent(t *testing.T) {
	dir := t.TempDir()
	first, stopFirst := openStarted(t, testConfig(dir, false))
	for _, topic := range []string{"plant/line1/speed", "plant/line2/speed"} {
		if err := first.Broker.Publish(topic, []byte("12.5"), true, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := stopFirst(); err != nil {
		t.Fatal(err)
	}

	second, _ := openStarted(t, testConfig(dir, false))
	m := second.Topics
	for _, topic := range []string{"plant/line1/speed", "plant/line2/speed"} {
		if d, ok := node(m, topic); !ok || string(d.Last.Payload) != "12.5" || !d.Retained {
			t.Fatalf("right after Start the tree holds %q for %s (present %v, retained %v), want the retained 12.5",
				d.Last.Payload, topic, ok, d.Retained)
		}
	}

	if err := second.Broker.Publish("plant/line2/speed", nil, true, 1); err != nil {
		t.Fatal(err)
	}
	syncModel(t, m)
	if d, _ := node(m, "plant/line2/speed"); d.Retained {
		t.Error("the cleared retained message is still retained in the tree")
	}

	if err := second.Broker.Reconfigure(second.Broker.Config()); err != nil {
		t.Fatal(err)
	}
	syncModel(t, m)
	if got := m.Sources()[0].SubtreeMessages; got != 3 {
		t.Errorf("after a restart the tree counts %d messages, want 3 (2 restored, 1 clearing)", got)
	}
	if d, _ := node(m, "plant/line2/speed"); d.Retained {
		t.Error("the restart brought the cleared message back")
	}
}

// The broker feeds the capture and the model; Close writes every
// accepted message before the capture closes.
func TestBrokerFeedsCaptureAndModelAndCloseWritesAll(t *testing.T) {
	for _, capturing := range []bool{true, false} {
		t.Run(map[bool]string{true: "capture", false: "no capture"}[capturing], func(t *testing.T) {
			dir := t.TempDir()
			s, stop := openStarted(t, testConfig(dir, capturing))
			if capturing != (s.Capture != nil) {
				t.Fatalf("capture %v, want %v", s.Capture != nil, capturing)
			}
			if err := s.Broker.Publish("plant/line1/speed", []byte("12.5"), true, 0); err != nil {
				t.Fatal(err)
			}
			syncModel(t, s.Topics)
			if d, ok := node(s.Topics, "plant/line1/speed"); !ok || string(d.Last.Payload) != "12.5" || !d.Retained {
				t.Errorf("the model holds %q (present %v, retained %v)", d.Last.Payload, ok, d.Retained)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if !capturing {
				return
			}
			store, err := capture.Open(CaptureDir(dir), capture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if st, _ := store.Stats(); st.Records != 1 {
				t.Errorf("the capture holds %d records after Close, want the 1 message", st.Records)
			}
		})
	}
}
