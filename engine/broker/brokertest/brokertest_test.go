package brokertest_test

import (
	"context"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

// A started broker routes between two raw clients on its address, keeps a
// retained message, and is stopped when the test ends.
func TestStartRoutesAndRetains(t *testing.T) {
	var stopped *broker.Broker
	t.Run("run", func(t *testing.T) {
		s := brokertest.Start(t)
		stopped = s.Broker
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Publish("kit/retained", []byte("kept"), true, 0); err != nil {
			t.Fatal(err)
		}
		sub, err := rawmqtt.Dial(ctx, s.Addr, "sub", 4<<10, 4<<10)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if err := sub.Subscribe("kit/#", 1); err != nil {
			t.Fatal(err)
		}
		if m, err := sub.Next(); err != nil || m != (rawmqtt.Message{Topic: "kit/retained", Payload: "kept", Retain: true}) {
			t.Fatalf("first message %+v, %v; want the retained one", m, err)
		}
		pub, err := rawmqtt.Dial(ctx, s.Addr, "pub", 4<<10, 4<<10)
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		f := []rawmqtt.PubFrame{rawmqtt.EncodePublish("kit/live", []byte("hello"), 1, false)}
		if err := pub.Publish(ctx, f, 1, 1, 1); err != nil {
			t.Fatal(err)
		}
		if m, err := sub.Next(); err != nil || m != (rawmqtt.Message{Topic: "kit/live", Payload: "hello"}) {
			t.Fatalf("second message %+v, %v; want kit/live hello", m, err)
		}
	})
	if st := stopped.State().Status; st != broker.Stopped {
		t.Fatalf("after the test the broker is %v, want stopped", st)
	}
}

// Mutations apply in order, and a listener they add has an address.
func TestStartAppliesMutations(t *testing.T) {
	s := brokertest.Start(t,
		func(c *broker.Config) { c.WSAddr = "127.0.0.1:0" },
		func(c *broker.Config) { c.MQTTAddr = "" })
	if s.Addr != "" {
		t.Errorf("Addr = %q with no MQTT listener, want empty", s.Addr)
	}
	if ws := s.Listener(t, "ws"); ws == "" {
		t.Error("no address for the WebSocket listener")
	}
}
