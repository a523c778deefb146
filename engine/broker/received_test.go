package broker

import (
	"context"
	"fmt"
	"testing"

	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

// Each connection counts what it publishes: the monitoring counts must
// still hold a publisher's messages after it disconnects, and go on from
// there with the next one (a Prometheus counter that goes down reads as a
// restart).
func TestCountersKeepWhatEndedConnectionsPublished(t *testing.T) {
	b := startBroker(t, func(c *Config) { c.NoPersistence = true })
	addr := listenerAddr(t, b, "mqtt")
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()

	publish := func(id string, qos byte, n int, payload string) {
		t.Helper()
		c := dialRaw(t, ctx, addr, id, "", 0)
		defer c.Close()
		frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish("plant/"+id, []byte(payload), qos, false)}
		if err := c.Publish(ctx, frames, n, qos, 8); err != nil {
			t.Fatal(err)
		}
	}
	want := func(what string, msgs, bytes [3]int64) {
		t.Helper()
		testkit.EventuallyErr(t, what, func() error {
			c := b.Counters()
			if c.MessagesInByQoS != msgs || c.PayloadBytesInByQoS != bytes {
				return fmt.Errorf("messages in by QoS %v, payload bytes %v; want %v, %v",
					c.MessagesInByQoS, c.PayloadBytesInByQoS, msgs, bytes)
			}
			return nil
		})
	}

	publish("a", 1, 5, "21.5")
	want("the first publisher's messages", [3]int64{0, 5, 0}, [3]int64{0, 20, 0})
	testkit.Eventually(t, "the first publisher to be gone", func() bool { return len(b.Clients()) == 0 })
	want("the first publisher's messages, once it is gone", [3]int64{0, 5, 0}, [3]int64{0, 20, 0})

	c := dialRaw(t, ctx, addr, "b", "", 0)
	defer c.Close()
	if err := c.Publish(ctx, []rawmqtt.PubFrame{rawmqtt.EncodePublish("plant/b", []byte("on"), 0, false)}, 3, 0, 0); err != nil {
		t.Fatal(err)
	}
	want("both publishers' messages, one connected", [3]int64{3, 5, 0}, [3]int64{6, 20, 0})
}
