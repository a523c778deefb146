package broker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	paho3 "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// v3sub is an MQTT 3.1.1 subscriber (paho.mqtt.golang) that records every
// message it gets, whichever subscription it came through.
type v3sub struct {
	paho3.Client
	msgs chan paho3.Message
}

func dialV3(t *testing.T, addr, id string) *v3sub {
	t.Helper()
	s := &v3sub{msgs: make(chan paho3.Message, 10000)}
	o := paho3.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetProtocolVersion(4).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(testTimeout).
		SetDefaultPublishHandler(func(_ paho3.Client, m paho3.Message) { s.msgs <- m })
	s.Client = paho3.NewClient(o)
	if err := s.wait(s.Connect()); err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	t.Cleanup(func() { s.Disconnect(0) })
	return s
}

func (s *v3sub) next(t *testing.T) paho3.Message {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(testTimeout):
		t.Fatal("no message arrived")
		return nil
	}
}

func (s *v3sub) wait(tok paho3.Token) error {
	if !tok.WaitTimeout(testTimeout) {
		return fmt.Errorf("no answer within %s", testTimeout)
	}
	return tok.Error()
}

// An MQTT 3.1.1 subscriber with overlapping subscriptions that
// unsubscribes from both gets nothing published after its UNSUBACK.
// Messages the broker had queued for it before may still arrive: MQTT
// allows that [MQTT-3.10.4-3]; the test counts them. Publishing goes on
// while the UNSUBSCRIBE is handled, round after round, so that its packet
// ID often equals one of a QoS 1 or 2 delivery in flight (which mochi
// took for "in use" and silently ignored the UNSUBSCRIBE: see packetIDs).
func TestUnsubscribingOverlappingFiltersStopsDelivery(t *testing.T) {
	const rounds = 20
	cases := []struct {
		name     string
		qos      byte
		together bool // one UNSUBSCRIBE for both filters, or one each
	}{
		{"qos0 together", 0, true}, {"qos1 together", 1, true}, {"qos2 together", 2, true},
		{"qos1 one by one", 1, false}, {"qos2 one by one", 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, nil)
			addr := listenerAddr(t, b, "mqtt")
			sub := dialV3(t, addr, "v3-watcher")
			pub := mustDialV5(t, addr, "v5-plc")
			acks := &unsubackCodes{client: "v3-watcher"}
			if err := b.server().AddHook(acks, nil); err != nil {
				t.Fatal(err)
			}
			queued := 0
			for round := range rounds {
				queued += unsubscribeRound(t, b, acks, sub, pub, round, tc.qos, tc.together)
			}
			t.Logf("%d rounds; %d messages published before an UNSUBSCRIBE arrived after its UNSUBACK", rounds, queued)
		})
	}
}

// unsubscribeRound subscribes to two overlapping filters, unsubscribes while
// messages flow and fails if one published after the UNSUBACK arrives. It
// returns how many published before the UNSUBACK arrived after it.
func unsubscribeRound(t *testing.T, b *Broker, acks *unsubackCodes, sub *v3sub, pub *v5, round int, qos byte, together bool) int {
	t.Helper()
	topic := fmt.Sprintf("plant/%d/power", round)
	filters := []string{"plant/#", fmt.Sprintf("plant/%d/+", round)}
	if err := sub.wait(sub.SubscribeMultiple(map[string]byte{filters[0]: qos, filters[1]: qos}, nil)); err != nil {
		t.Fatal(err)
	}
	pub.pub(t, topic, "first", qos, false)
	if m := sub.next(t); string(m.Payload()) != "first" {
		t.Fatalf("round %d: got %q before the stream", round, m.Payload())
	}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var streamErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil && i < 100000; i++ {
			if _, err := pub.Publish(ctx, &paho.Publish{Topic: topic, QoS: qos, Payload: fmt.Appendf(nil, "before %d", i)}); err != nil && ctx.Err() == nil {
				streamErr = err
				return
			}
		}
	}()
	var err error
	if together {
		err = sub.wait(sub.Unsubscribe(filters...))
	} else {
		err = sub.wait(sub.Unsubscribe(filters[0]))
		if err == nil {
			err = sub.wait(sub.Unsubscribe(filters[1]))
		}
	}
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if streamErr != nil {
		t.Fatal(streamErr)
	}
	// An MQTT 3.1.1 UNSUBACK carries no reason codes: the client cannot
	// know; the broker's answer and its state say what happened.
	if held := subscriptionsOf(b, "v3-watcher"); len(held) > 0 {
		t.Errorf("round %d: after the UNSUBACK the broker still holds %v for the client; it answered the UNSUBSCRIBE with reason codes %x",
			round, held, acks.last())
	}

	// Published after the UNSUBACK, then a fence: the broker handles one
	// client's packets in order and queues a subscriber's messages in
	// order, so anything of "after" would arrive before the fence.
	fence := fmt.Sprintf("fence/%d", round)
	if err := sub.wait(sub.Subscribe(fence, 0, nil)); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		pub.pub(t, topic, fmt.Sprintf("after %d", i), qos, false)
	}
	pub.pub(t, fence, "fence", 0, false)
	queued := 0
	for {
		m := sub.next(t)
		switch p := string(m.Payload()); {
		case m.Topic() == fence:
			if err := sub.wait(sub.Unsubscribe(fence)); err != nil {
				t.Fatal(err)
			}
			return queued
		case strings.HasPrefix(p, "before "):
			queued++
		case p == "first":
			t.Fatalf("round %d: one message arrived twice through overlapping subscriptions", round)
		default:
			t.Fatalf("round %d: %q on %s arrived after unsubscribing from %v (%d queued ones before it)", round, p, m.Topic(), filters, queued)
		}
	}
}

// unsubackCodes keeps the reason codes of the last UNSUBACK sent to client,
// which an MQTT 3.1.1 UNSUBACK does not carry on the wire.
type unsubackCodes struct {
	mqtt.HookBase
	client string
	mu     sync.Mutex
	codes  []byte
}

func (h *unsubackCodes) ID() string           { return "test-unsuback-codes" }
func (h *unsubackCodes) Provides(b byte) bool { return b == mqtt.OnPacketSent }

func (h *unsubackCodes) OnPacketSent(cl *mqtt.Client, pk packets.Packet, _ []byte) {
	if cl.ID == h.client && pk.FixedHeader.Type == packets.Unsuback {
		h.mu.Lock()
		h.codes = append([]byte(nil), pk.ReasonCodes...)
		h.mu.Unlock()
	}
}

func (h *unsubackCodes) last() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.codes
}

func subscriptionsOf(b *Broker, id string) []string {
	var out []string
	for _, c := range b.Clients() {
		if c.ID == id {
			for _, s := range c.Subscriptions {
				out = append(out, s.Filter)
			}
		}
	}
	return out
}
