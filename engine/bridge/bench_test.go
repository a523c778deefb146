package bridge

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
)

// BenchmarkBridgeForward measures what a bridge forwards to a local
// mosquitto: b.N messages enter through the broker's tap (as a publisher's
// would), and the clock stops when a subscriber at mosquitto has them all.
// It reports msg/s and how many never arrived (lost), which must be 0.
//
//	go test -run '^$' -bench BridgeForward -benchtime 100000x ./engine/bridge/
func BenchmarkBridgeForward(b *testing.B) {
	for _, qos := range []byte{0, 1} {
		b.Run("qos"+strconv.Itoa(int(qos)), func(b *testing.B) {
			remote := mosquittopeer.Start(b, "max_queued_messages 0\nmax_inflight_messages 0\n")
			l := startLocal(b)
			_, got := testClient(b, remote.URL(), "bench-sub", false, client.Subscription{Filter: "site1/#", QoS: qos})
			br := openBridge(b, l, remote.URL(), client.MQTT5, "", b.N+1, Rule{Direction: Out, Local: "plant/#", Remote: "site1/plant/#", QoS: qos})
			connected(b, br)
			topics := make([]string, 64)
			for i := range topics {
				topics[i] = fmt.Sprintf("plant/line%d/temp", i)
			}
			payload := []byte(`{"t":21.5,"unit":"C"}`)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				br.Ingest(message.Message{Topic: topics[i%len(topics)], Payload: payload, QoS: qos, ClientID: "sensor"})
			}
			arrived(b, got, b.N)
			b.StopTimer()
			s := br.Stats()
			lost := b.N - got.count()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
			b.ReportMetric(float64(lost), "lost")
			if s.Dropped != 0 {
				b.Errorf("the bridge dropped %d", s.Dropped)
			}
		})
	}
}

// arrived waits until c has n messages, or until none arrived for two
// seconds (QoS 0 ones may be lost; the caller reports how many).
func arrived(b *testing.B, c *collector, n int) {
	last, since := -1, time.Now()
	for {
		k := c.count()
		if k >= n {
			return
		}
		if k != last {
			last, since = k, time.Now()
		} else if time.Since(since) > 2*time.Second {
			b.Logf("stalled at %d of %d", k, n)
			return
		}
		time.Sleep(time.Millisecond)
	}
}
