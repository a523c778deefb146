package broker

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestOutboundCounterFound(t *testing.T) {
	b := startBroker(t, nil)
	c := mustDialV5(t, listenerAddr(t, b, "mqtt"), "counted")
	c.sub(t, "x", 0)
	cl, ok := b.server().Clients.Get("counted")
	if !ok {
		t.Fatal("client not found")
	}
	if outboundCounter(cl) == nil {
		t.Fatal("mochi's ClientState.outboundQty is gone: flow control is blind; update outboundCounter for this mochi version")
	}
}

// flowRun publishes n 1 KiB QoS 0 messages to one subscriber that reads
// nothing for pause (or, if pause is 0, until the publisher has sent
// everything), then everything. It returns what arrived and the broker's
// counters.
func flowRun(t *testing.T, b *Broker, n int, pause time.Duration) (received int64, st Stats) {
	t.Helper()
	addr := listenerAddr(t, b, "mqtt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := rawDial(ctx, addr, "sub", 64<<10, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.subscribe("load/#", 0); err != nil {
		t.Fatal(err)
	}
	pub, err := rawDial(ctx, addr, "pub", 64<<10, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	frames := []pubFrame{encodePublish("load/x", bytes.Repeat([]byte("p"), 1024), 0)}
	published := make(chan error, 1)
	go func() { published <- pub.publish(ctx, frames, n, 0, 0) }()
	var pubErr error
	if pause > 0 {
		time.Sleep(pause)
	} else {
		pubErr = <-published
		for b.Stats().MessagesIn < int64(n) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
	rs := &rawSub{rawClient: sub}
	go rs.run()
	if pause > 0 {
		pubErr = <-published
	}
	if pubErr != nil {
		t.Fatal(pubErr)
	}
	for last, idle := int64(-1), time.Now(); rs.received.Load() < int64(n) && time.Since(idle) < 2*time.Second; time.Sleep(20 * time.Millisecond) {
		if got := rs.received.Load(); got != last {
			last, idle = got, time.Now()
		}
	}
	return rs.received.Load(), b.Stats()
}

// A subscriber that falls behind for a moment (here: reads nothing for
// 700 ms while 40 MB arrive) loses nothing: publishers wait for it.
// Without flow control the same run overflows its queue.
func TestFlowControlHoldsPublishersForABriefStall(t *testing.T) {
	const n = 40000
	b := startBroker(t, func(c *Config) { c.NoPersistence = true })
	got, st := flowRun(t, b, n, 700*time.Millisecond)
	if got != n || st.Dropped != 0 {
		t.Fatalf("flow control on: received %d of %d, dropped %d; want all, none dropped", got, n, st.Dropped)
	}
	if st.PublishesHeld == 0 {
		t.Fatal("no publish was held, yet the subscriber stalled")
	}

	// The same subscriber, stalled until the publisher is done, without
	// flow control: 40 MB cannot fit its queue and socket buffers.
	plain := startBroker(t, func(c *Config) { c.NoPersistence = true; c.NoFlowControl = true })
	got, st = flowRun(t, plain, n, 0)
	if st.Dropped == 0 || got == n {
		t.Fatalf("flow control off: received %d of %d, dropped %d; the run should overflow (else this test proves nothing)", got, n, st.Dropped)
	}
}

// A subscriber that never reads must not throttle the broker: after
// flowSlowAfter it is judged slow, publishers run free and its overflow is
// dropped and counted.
func TestFlowControlGivesUpOnAStuckSubscriber(t *testing.T) {
	const n = 40000
	b := startBroker(t, func(c *Config) { c.NoPersistence = true })
	addr := listenerAddr(t, b, "mqtt")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stuck, err := rawDial(ctx, addr, "stuck", 64<<10, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	if err := stuck.subscribe("load/#", 0); err != nil {
		t.Fatal(err)
	}
	pub, err := rawDial(ctx, addr, "pub", 64<<10, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	start := time.Now()
	frames := []pubFrame{encodePublish("load/x", bytes.Repeat([]byte("p"), 1024), 0)}
	if err := pub.publish(ctx, frames, n, 0, 0); err != nil {
		t.Fatal(err)
	}
	// Wait until the broker has taken every message off the publisher.
	for b.Stats().MessagesIn < n && time.Since(start) < 30*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	st := b.Stats()
	if st.MessagesIn < n {
		t.Fatalf("after %v the broker took only %d of %d publishes: a stuck subscriber throttles everyone", took, st.MessagesIn, n)
	}
	if st.Dropped == 0 || st.PublishesHeld == 0 {
		t.Fatalf("dropped %d, held %d: want the stuck subscriber's overflow counted after publishers were held a while", st.Dropped, st.PublishesHeld)
	}
	t.Logf("%d publishes past a stuck subscriber in %v (held %d, dropped %d)", n, took, st.PublishesHeld, st.Dropped)
}
