package broker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

// Flow control and packet-ID aliasing read two of mochi's unexported
// fields; if an upgrade renames one, this fails instead of the feature
// quietly going blind.
func TestMochiFieldsFound(t *testing.T) {
	b := startBroker(t, nil)
	c := mustDialV5(t, listenerAddr(t, b, "mqtt"), "counted")
	c.sub(t, "x", 0)
	cl, ok := b.server().Clients.Get("counted")
	if !ok {
		t.Fatal("client not found")
	}
	if outboundCounter(cl) == nil {
		t.Error("mochi's ClientState.outboundQty is gone: flow control is blind; update outboundCounter for this mochi version")
	}
	if packetCounter(cl) == nil {
		t.Error("mochi's ClientState.packetID is gone: SUBSCRIBE IDs can meet deliveries' again; update packetCounter for this mochi version")
	}
}

// flowRun publishes n 1 KiB QoS 0 messages to one subscriber that reads
// slowly (a 16 KiB chunk, then a millisecond's nap: under 16 MB/s, far
// slower than the publisher) or, if slow is false, reads nothing until the
// publisher has sent everything, then everything. It returns what arrived
// and the broker's counters.
func flowRun(t *testing.T, b *Broker, n int, slow bool) (received int64, st Stats) {
	t.Helper()
	addr := listenerAddr(t, b, "mqtt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub := dialRaw(t, ctx, addr, "sub", "load/#", 0)
	defer sub.Close()
	pub := dialRaw(t, ctx, addr, "pub", "", 0)
	defer pub.Close()
	rs := &rawmqtt.Counter{Client: sub}
	if slow {
		// Reads through a throttled connection, so the broker sees a
		// subscriber that drains, slowly, all the time.
		rs.R = bufio.NewReaderSize(slowReader{sub.Conn}, 64<<10)
		go rs.Run()
	}
	frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish("load/x", bytes.Repeat([]byte("p"), 1024), 0, false)}
	if err := pub.Publish(ctx, frames, n, 0, 0); err != nil {
		t.Fatal(err)
	}
	for b.Stats().MessagesIn < int64(n) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if !slow {
		go rs.Run()
	}
	for last, idle := int64(-1), time.Now(); rs.Received.Load() < int64(n) && time.Since(idle) < 2*time.Second; time.Sleep(20 * time.Millisecond) {
		if got := rs.Received.Load(); got != last {
			last, idle = got, time.Now()
		}
	}
	return rs.Received.Load(), b.Stats()
}

// slowReader reads at most 16 KiB a millisecond.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return s.r.Read(p[:min(len(p), 16<<10)])
}

// A subscriber that reads more slowly than a publisher writes loses
// nothing: the publisher waits for it. Without flow control the same run
// overflows its queue.
func TestFlowControlHoldsPublishersForASlowSubscriber(t *testing.T) {
	const n = 40000
	b := startBroker(t, func(c *Config) { c.NoPersistence = true })
	got, st := flowRun(t, b, n, true)
	if got != n || st.Dropped != 0 {
		t.Fatalf("flow control on: received %d of %d, dropped %d; want all, none dropped", got, n, st.Dropped)
	}
	if st.PublishesHeld == 0 {
		t.Fatal("no publish was held, yet the subscriber was slow")
	}

	// A subscriber that reads nothing until the publisher is done, without
	// flow control: 40 MB cannot fit its queue and socket buffers.
	plain := startBroker(t, func(c *Config) { c.NoPersistence = true; c.NoFlowControl = true })
	got, st = flowRun(t, plain, n, false)
	if st.Dropped == 0 || got == n {
		t.Fatalf("flow control off: received %d of %d, dropped %d; the run should overflow (else this test proves nothing)", got, n, st.Dropped)
	}
}

// A subscriber that never reads must not throttle the broker: after
// flowStuckAfter it is judged stuck, publishers run free and its overflow
// is dropped and counted.
func TestFlowControlGivesUpOnAStuckSubscriber(t *testing.T) {
	const n = 40000
	b := startBroker(t, func(c *Config) { c.NoPersistence = true })
	addr := listenerAddr(t, b, "mqtt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stuck := dialRaw(t, ctx, addr, "stuck", "load/#", 0)
	defer stuck.Close()
	pub := dialRaw(t, ctx, addr, "pub", "", 0)
	defer pub.Close()
	start := time.Now()
	frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish("load/x", bytes.Repeat([]byte("p"), 1024), 0, false)}
	if err := pub.Publish(ctx, frames, n, 0, 0); err != nil {
		t.Fatal(err)
	}
	// The broker takes every message off the publisher within 30 s of the start.
	testkit.WithinErr(t, 30*time.Second-time.Since(start), fmt.Sprintf("the broker to take all %d publishes", n), func() error {
		if in := b.Stats().MessagesIn; in < n {
			return fmt.Errorf("it took only %d: a stuck subscriber throttles everyone", in)
		}
		return nil
	})
	took := time.Since(start)
	st := b.Stats()
	if st.Dropped == 0 || st.PublishesHeld == 0 {
		t.Fatalf("dropped %d, held %d: want the stuck subscriber's overflow counted after publishers were held a while", st.Dropped, st.PublishesHeld)
	}
	t.Logf("%d publishes past a stuck subscriber in %v (held %d, dropped %d)", n, took, st.PublishesHeld, st.Dropped)
}

// stuckSub subscribes a raw 3.1.1 client that never reads: its socket
// fills and the broker's queue for it grows.
func stuckSub(t *testing.T, ctx context.Context, addr, id, filter string, qos byte) *rawmqtt.Client {
	t.Helper()
	c, err := rawmqtt.Dial(ctx, addr, id, 4<<10, 4<<10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	_ = c.Conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	if err := c.Subscribe(filter, qos); err != nil {
		t.Fatal(err)
	}
	return c
}

// budgetBroker starts a broker without persistence whose clients each have
// a budget of perClient bytes, and returns it, its MQTT address and a
// context for the test's clients.
func budgetBroker(t *testing.T, perClient int64) (*Broker, string, context.Context) {
	t.Helper()
	b := startBroker(t, func(c *Config) {
		c.NoPersistence = true
		c.MaxQueuedBytesPerClient = perClient
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return b, listenerAddr(t, b, "mqtt"), ctx
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// Subscribers that stop reading may make the broker hold at most their
// byte budgets: the rest of what is published to them is dropped and
// counted, while a subscriber that reads gets every message.
func TestBudgetBoundsWhatStuckSubscribersHold(t *testing.T) {
	const (
		n         = 120
		size      = 256 << 10
		perClient = 8 << 20
		stuck     = 3
	)
	for _, tc := range []struct {
		name  string
		total int64
		bound int64 // most the broker's heap may grow by
	}{
		// Per-client budgets bite first; the total leaves room for the
		// reader, which gets everything.
		{"per client", 64 << 20, stuck * perClient},
		// The total bites first: stuck subscribers share 6 MiB, the
		// reader keeps its reserve and still gets everything.
		{"total", 6 << 20, 6<<20 + perClient/4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, func(c *Config) {
				c.NoPersistence = true
				c.MaxQueuedBytesPerClient, c.MaxQueuedBytes = perClient, tc.total
			})
			addr := listenerAddr(t, b, "mqtt")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rc := dialRaw(t, ctx, addr, "reader", "big/#", 0)
			defer rc.Close()
			reader := &rawmqtt.Counter{Client: rc}
			go reader.Run()
			for i := range stuck {
				stuckSub(t, ctx, addr, fmt.Sprintf("stuck%d", i), "big/#", 0)
			}
			pub := dialRaw(t, ctx, addr, "pub", "", 0)
			defer pub.Close()

			before := heapInUse()
			frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish("big/x", bytes.Repeat([]byte("p"), size), 0, false)}
			if err := pub.Publish(ctx, frames, n, 0, 0); err != nil {
				t.Fatal(err)
			}
			for b.Stats().MessagesIn < n && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			{
				for reader.Received.Load() < n && ctx.Err() == nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
			grew := heapInUse() - before
			st := b.Stats()
			t.Logf("published %d × %d KiB to %d stuck subscribers: heap grew %d MiB (bound %d MiB), queued %d MiB, dropped %d (over budget %d), reader got %d",
				n, size>>10, stuck, grew>>20, tc.bound>>20, st.QueuedBytes>>20, st.Dropped, st.DroppedOverBudget, reader.Received.Load())
			// Slack: one message per subscriber beyond the budget, and
			// buffers of the test's own clients.
			if slack := int64(8 << 20); grew > tc.bound+slack {
				t.Errorf("heap grew by %d MiB holding messages for subscribers that do not read; want at most %d MiB", grew>>20, (tc.bound+slack)>>20)
			}
			if st.QueuedBytes > tc.bound+stuck*size+size {
				t.Errorf("budget accounts %d bytes queued; want at most %d", st.QueuedBytes, tc.bound+stuck*size+size)
			}
			if st.DroppedOverBudget == 0 {
				t.Errorf("no message counted as dropped over budget")
			}
			if reader.Received.Load() != n {
				t.Errorf("the reading subscriber got %d of %d", reader.Received.Load(), n)
			}
		})
	}
}

// A subscriber on # that stops reading for 0.4 s in every 1.5 s must not
// throttle a publisher that also has a healthy subscriber: flow control may
// hold the publisher for at most a fifth of the time (so it keeps 80 % of
// its rate), where holding it until the pause ended took over a quarter.
// Within one run, windows alternate between the publisher with no #
// subscriber, with one that reads all the time (the same work for the
// broker: on a busy machine the fair baseline) and with one that pauses;
// the rates are logged, but asserting them would test the machine's load.
func TestFlowPausingSubscriberCostsOthersLittle(t *testing.T) {
	const (
		window = 1500 * time.Millisecond
		pause  = 400 * time.Millisecond
		rounds = 3
	)
	b := startBroker(t, func(c *Config) { c.NoPersistence = true })
	addr := listenerAddr(t, b, "mqtt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rc := dialRaw(t, ctx, addr, "reader", "fair/#", 0)
	defer rc.Close()
	go (&rawmqtt.Counter{Client: rc}).Run()
	pub := dialRaw(t, ctx, addr, "pub", "", 0)
	defer pub.Close()
	pubCtx, stopPub := context.WithCancel(ctx)
	published := make(chan error, 1)
	go func() {
		frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish("fair/x", bytes.Repeat([]byte("p"), 1024), 0, false)}
		for pubCtx.Err() == nil {
			if err := pub.Publish(pubCtx, frames, 100, 0, 0); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	defer func() {
		stopPub()
		if err := <-published; err != nil && pubCtx.Err() == nil {
			t.Error(err)
		}
	}()

	// rate measures the publisher for one window, with a # subscriber
	// that first reads nothing for stall (none if stall < 0).
	rate := func(id string, stall time.Duration) float64 {
		if stall >= 0 {
			s := dialRaw(t, ctx, addr, id, "", 0)
			defer s.Close()
			// Small socket buffers, as between machines: a pause fills
			// them at once and the broker's queue grows.
			_ = s.Conn.(*net.TCPConn).SetReadBuffer(32 << 10)
			if err := s.Subscribe("#", 0); err != nil {
				t.Fatal(err)
			}
			go func() {
				time.Sleep(stall)
				_ = (&rawmqtt.Counter{Client: s}).Run()
			}()
		}
		start, in := time.Now(), b.Stats().MessagesIn
		time.Sleep(window)
		return float64(b.Stats().MessagesIn-in) / time.Since(start).Seconds()
	}
	rate("", -1) // warm up
	var ratios []float64
	var held time.Duration
	for i := range rounds {
		a := rate("", -1)
		r := rate(fmt.Sprintf("reading%d", i), 0)
		h0 := b.flow.heldTime.Load()
		p := rate(fmt.Sprintf("pausing%d", i), pause)
		held += time.Duration(b.flow.heldTime.Load() - h0)
		ratios = append(ratios, p/r)
		t.Logf("round %d, publisher msg/s: alone %.0f, with a reading # subscriber %.0f, with a pausing one %.0f (%.2f)", i, a, r, p, p/r)
	}
	sort.Float64s(ratios)
	share := held.Seconds() / (rounds * window).Seconds()
	t.Logf("median rate pausing/reading %.2f; publisher held %v in the pausing windows (%.0f %% of them); dropped %d",
		ratios[len(ratios)/2], held, share*100, b.Stats().Dropped)
	if share > 0.2 {
		t.Errorf("flow control held the publisher %.0f %% of the time a # subscriber paused reading; want at most 20 %%", share*100)
	}
}

func TestFlowCongestedSubscriberHoldsOnlyItsPublishers(t *testing.T) {
	b := startBroker(t, func(c *Config) { c.NoPersistence = true })
	addr := listenerAddr(t, b, "mqtt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	slow := dialRaw(t, ctx, addr, "slow", "flood/#", 0)
	defer slow.Close()
	slow.R = bufio.NewReaderSize(slowReader{slow.Conn}, 64<<10)
	go (&rawmqtt.Counter{Client: slow}).Run()
	flooder := dialRaw(t, ctx, addr, "flooder", "", 0)
	defer flooder.Close()
	floodCtx, stopFlood := context.WithCancel(ctx)
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish("flood/x", bytes.Repeat([]byte("f"), 1024), 0, false)}
		for floodCtx.Err() == nil && flooder.Publish(floodCtx, frames, 100, 0, 0) == nil {
		}
	}()
	defer func() { stopFlood(); <-flooded }()

	var floodHeld, calmHeld int
	for start := time.Now(); time.Since(start) < 2*time.Second && (floodHeld < 100 || time.Since(start) < time.Second); time.Sleep(100 * time.Microsecond) {
		b.flow.scan(b.flow.now())
		if b.flow.congested("flood/x") {
			floodHeld++
		}
		if b.flow.congested("calm/x") {
			calmHeld++
		}
	}
	t.Logf("sampled: flood/x held %d times, calm/x %d times; %d publishes held in all", floodHeld, calmHeld, b.Stats().PublishesHeld)
	if floodHeld == 0 {
		t.Fatal("the flooded subscriber never held its publisher: the test proves nothing")
	}
	if calmHeld > 0 {
		t.Errorf("a publish to calm/x, which the congested subscriber does not receive, would have been held %d times", calmHeld)
	}
}

// A QoS 1 message that does not fit a subscriber's budget cannot be
// dropped quietly, since the broker acknowledged it: the subscriber is
// disconnected (an MQTT 5 one with "quota exceeded") and the drop counted.
func TestBudgetDisconnectsAQoS1SubscriberOverIt(t *testing.T) {
	b := startBroker(t, func(c *Config) {
		c.NoPersistence = true
		c.MaxQueuedBytesPerClient = 1 << 20
	})
	addr := listenerAddr(t, b, "mqtt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stuckSub(t, ctx, addr, "stuck", "big/#", 1)
	pub := dialRaw(t, ctx, addr, "pub", "", 0)
	defer pub.Close()
	frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish("big/x", bytes.Repeat([]byte("p"), 256<<10), 1, false)}
	if err := pub.Publish(ctx, frames, 40, 1, 10); err != nil {
		t.Fatal(err)
	}
	connected := func() bool {
		for _, c := range b.Clients() {
			if c.ID == "stuck" {
				return c.Connected
			}
		}
		return false
	}
	testkit.Eventually(t, "the QoS 1 subscriber over its budget to be disconnected", func() bool { return !connected() })
	st := b.Stats()
	t.Logf("dropped over budget %d, queued %d bytes", st.DroppedOverBudget, st.QueuedBytes)
	if st.DroppedOverBudget == 0 {
		t.Error("no drop counted")
	}
}

// Wills count against the budget like publishes: clients that drop with
// large wills cannot fill the queue of a subscriber that stopped reading.
func TestBudgetCountsWills(t *testing.T) {
	const (
		perClient = 1 << 20
		wills     = 100
		size      = 60 << 10 // a will message has a 16-bit length
	)
	b, addr, ctx := budgetBroker(t, perClient)
	stuckSub(t, ctx, addr, "stuck", "will/#", 0)
	payload := bytes.Repeat([]byte("w"), size)
	for i := range wills {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		body := rawmqtt.AppendString(nil, "MQTT")
		body = append(body, 4, 0x02|0x04) // 3.1.1; clean session, will at QoS 0
		body = binary.BigEndian.AppendUint16(body, 60)
		body = rawmqtt.AppendString(body, fmt.Sprintf("dying%d", i))
		body = rawmqtt.AppendString(body, "will/x")
		body = binary.BigEndian.AppendUint16(body, uint16(len(payload)))
		body = append(body, payload...)
		if _, err := conn.Write(rawmqtt.Frame(rawmqtt.TypeConnect, body)); err != nil {
			t.Fatal(err)
		}
		ack := make([]byte, 4)
		if _, err := io.ReadFull(conn, ack); err != nil || ack[3] != 0 {
			t.Fatalf("connect with will: %x %v", ack, err)
		}
		conn.Close() // no DISCONNECT: the will is published
	}
	testkit.Eventually(t, "the clients with wills to be gone", func() bool { return b.Stats().ClientsConnected <= 1 })
	st := b.Stats()
	t.Logf("%d wills of %d KiB to a stuck subscriber: queued %d KiB, dropped over budget %d", wills, size>>10, st.QueuedBytes>>10, st.DroppedOverBudget)
	if st.QueuedBytes > perClient+size {
		t.Errorf("the budget carries %d bytes for one subscriber; want at most %d", st.QueuedBytes, perClient+size)
	}
	if st.DroppedOverBudget == 0 {
		t.Error("no will dropped over budget")
	}
}

// Retained messages sent on subscribe are charged their size, like live
// ones: a small live QoS 0 message is charged without a size-table entry,
// and a retained message has none either.
func TestBudgetChargesRetainedMessagesSentOnSubscribe(t *testing.T) {
	const (
		perClient = 1 << 20
		retained  = 100
		size      = 60 << 10
	)
	b, addr, ctx := budgetBroker(t, perClient)
	pub := dialRaw(t, ctx, addr, "pub", "", 0)
	defer pub.Close()
	payload := bytes.Repeat([]byte("r"), size)
	frames := make([]rawmqtt.PubFrame, retained)
	for i := range frames {
		frames[i] = rawmqtt.EncodePublish(fmt.Sprintf("ret/%d", i), payload, 0, true)
	}
	if err := pub.Publish(ctx, frames, retained, 0, 0); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the retained messages to be kept", func() bool { return len(b.RetainedMessages()) == retained })

	stuckSub(t, ctx, addr, "stuck", "ret/#", 0)
	testkit.Eventually(t, "a retained message to be dropped over the budget", func() bool { return b.Stats().DroppedOverBudget > 0 })
	st := b.Stats()
	t.Logf("%d retained messages of %d KiB to a stuck subscriber: queued %d KiB, dropped over budget %d",
		retained, size>>10, st.QueuedBytes>>10, st.DroppedOverBudget)
	if st.QueuedBytes > perClient+size {
		t.Errorf("the budget carries %d bytes for one subscriber; want at most %d", st.QueuedBytes, perClient+size)
	}
}

// An MQTT 5 subscriber that would lose a QoS 1 message to its byte budget
// is told why before its connection closes: DISCONNECT 0x97 "quota
// exceeded", after everything queued before it.
func TestBudgetTellsAnMQTT5SubscriberQuotaExceeded(t *testing.T) {
	b := startBroker(t, func(c *Config) {
		c.NoPersistence = true
		c.MaxQueuedBytesPerClient = 1 << 20
	})
	conn, r := handConnect(t, b, 5, "slow5")
	conn.Write(encode(t, packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Subscribe, Qos: 1},
		ProtocolVersion: 5,
		PacketID:        1,
		Filters:         packets.Subscriptions{{Filter: "big/#", Qos: 1}},
	}, (*packets.Packet).SubscribeEncode))
	if p, err := readRaw(r); err != nil || p.kind != packets.Suback {
		t.Fatalf("want SUBACK, got %v %v", p.kind, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pub := dialRaw(t, ctx, listenerAddr(t, b, "mqtt"), "pub", "", 0)
	defer pub.Close()
	frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish("big/x", bytes.Repeat([]byte("p"), 256<<10), 1, false)}
	published := make(chan error, 1)
	go func() { published <- pub.Publish(ctx, frames, 40, 1, 10) }()
	defer func() {
		if err := <-published; err != nil {
			t.Error(err)
		}
	}()
	// The subscriber reads nothing until the budget refuses a message;
	// then it reads everything, in time for the DISCONNECT's write deadline.
	for b.Stats().DroppedOverBudget == 0 {
		if ctx.Err() != nil {
			t.Fatal("nothing was dropped over the budget")
		}
		time.Sleep(time.Millisecond)
	}
	last := lastBeforeClose(r)
	if last.kind != packets.Disconnect || len(last.body) == 0 || last.body[0] != packets.ErrQuotaExceeded.Code {
		t.Fatalf("last packet before close: type %d (%d bytes), want DISCONNECT with reason 0x97", last.kind, len(last.body))
	}
}

// A QoS 1/2 message is charged to its subscriber until the subscriber
// acknowledges it (PUBACK, or PUBREC for QoS 2), not until it is written:
// a reader that never acknowledges keeps it in the broker's memory. Once
// acknowledged, nothing is left charged, with no further traffic that
// could tidy up behind a leak.
func TestBudgetChargesQoS12UntilAcknowledged(t *testing.T) {
	const n, size = 20, 50 << 10
	payload := strings.Repeat("p", size)
	for _, qos := range []byte{1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			b := startBroker(t, func(c *Config) { c.NoPersistence = true })
			addr := listenerAddr(t, b, "mqtt")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()

			mute := dialRaw(t, ctx, addr, "mute", "mute/#", qos)
			defer mute.Close()
			acking := mustDialV5(t, addr, "acking")
			acking.sub(t, "acks/#", qos)
			pub := mustDialV5(t, addr, "pub")
			for i := 0; i < n; i++ {
				pub.pub(t, "mute/x", payload, qos, false)
			}
			var buf []byte
			for i := 0; i < n; i++ { // read everything, acknowledge nothing
				if typ, _, err := mute.ReadPacket(&buf); err != nil || typ>>4 != 3 {
					t.Fatalf("mute subscriber: packet %d: type %#x, %v", i, typ, err)
				}
			}
			held := b.Stats().QueuedBytes
			if held < n*size {
				t.Errorf("%d unacknowledged QoS %d messages of %d KiB are charged %d KiB; want at least %d KiB",
					n, qos, size>>10, held>>10, n*size>>10)
			}

			for i := 0; i < n; i++ {
				pub.pub(t, "acks/x", payload, qos, false)
			}
			for i := 0; i < n; i++ {
				acking.next(t)
			}
			want := held
			testkit.EventuallyErr(t, fmt.Sprintf("the budget to release %d acknowledged QoS %d messages", n, qos), func() error {
				if got := b.Stats().QueuedBytes; got > want {
					return fmt.Errorf("it still charges %d KiB more than the mute subscriber's %d KiB", (got-want)>>10, want>>10)
				}
				return nil
			})
		})
	}
}

// dialRaw connects a raw client with 64 KiB buffers, subscribed to filter
// at qos unless filter is empty. The caller closes it: a test that dials
// the same ID again must not meet it still connected.
func dialRaw(t *testing.T, ctx context.Context, addr, id, filter string, qos byte) *rawmqtt.Client {
	t.Helper()
	c, err := rawmqtt.Dial(ctx, addr, id, 64<<10, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if filter != "" {
		if err := c.Subscribe(filter, qos); err != nil {
			c.Close()
			t.Fatal(err)
		}
	}
	return c
}
