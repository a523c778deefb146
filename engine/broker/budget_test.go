package broker

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/mqttwire"
)

// The budget reads a delivered message's size from the bytes mochi wrote;
// it must come out as the payload the publisher's charge was sized by,
// whatever the QoS, protocol version and properties.
func TestPublishPayloadLenReadsMochisEncoding(t *testing.T) {
	payload := []byte(strings.Repeat("x", 300))
	for _, tc := range []struct {
		version, qos byte
		props        packets.Properties
	}{
		{4, 0, packets.Properties{}},
		{4, 1, packets.Properties{}},
		{5, 0, packets.Properties{}},
		{5, 2, packets.Properties{ContentType: "application/json", User: []packets.UserProperty{{Key: "k", Val: "v"}}}},
		{5, 1, packets.Properties{TopicAlias: 3, MessageExpiryInterval: 60}},
	} {
		t.Run(fmt.Sprintf("v%d qos%d", tc.version, tc.qos), func(t *testing.T) {
			pk := packets.Packet{
				FixedHeader:     packets.FixedHeader{Type: packets.Publish, Qos: tc.qos},
				ProtocolVersion: tc.version,
				TopicName:       "a/b/c",
				Properties:      tc.props,
				Payload:         payload,
				Mods:            packets.Mods{AllowResponseInfo: true},
			}
			if tc.qos > 0 {
				pk.PacketID = 7
			}
			var buf bytes.Buffer
			if err := pk.PublishEncode(&buf); err != nil {
				t.Fatal(err)
			}
			first, body, rest, ok := mqttwire.NextFrame(buf.Bytes())
			if !ok || len(rest) != 0 {
				t.Fatalf("frame not whole: ok %v, %d bytes left", ok, len(rest))
			}
			if got := publishPayloadLen(body, first>>1&3, tc.version == 5); got != len(payload) {
				t.Fatalf("payload length %d, want %d", got, len(payload))
			}
		})
	}
}

// A QoS 0 message stops counting against its subscriber once it is
// written: a subscriber that keeps reading receives 16 times its budget
// without a message dropped over it or its publisher held, over MQTT 3.1.1
// and 5 alike.
func TestBudgetEndsQoS0ChargesAsTheyAreWritten(t *testing.T) {
	const (
		perClient = 1 << 20
		size      = 64 << 10
		n         = 16 * perClient / size
	)
	payload := strings.Repeat("q", size)
	for _, version := range []byte{4, 5} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			b, addr, ctx := budgetBroker(t, perClient)
			var next func() string
			if version == 5 {
				sub := mustDialV5(t, addr, "reader5")
				sub.sub(t, "q/#", 0)
				next = func() string { return string(sub.next(t).Payload) }
			} else {
				sub := dialRaw(t, ctx, addr, "reader3", "q/#", 0)
				defer sub.Close()
				next = func() string {
					m, err := sub.Next()
					if err != nil {
						t.Fatal(err)
					}
					return m.Payload
				}
			}
			pub := mustDialV5(t, addr, "pub")
			for i := range n {
				pub.pub(t, "q/x", payload, 0, false)
				if got := next(); len(got) != size {
					t.Fatalf("message %d: %d bytes, want %d", i, len(got), size)
				}
			}
			// Charges left behind would make the reader look congested:
			// flow control would hold the publisher until the budget's
			// tidy-up cleared them, or drop messages over the budget.
			if st := b.Stats(); st.DroppedOverBudget != 0 || st.PublishesHeld != 0 {
				t.Fatalf("%d messages dropped over the budget and %d publishes held for a subscriber that read each message (queued %d KiB)",
					st.DroppedOverBudget, st.PublishesHeld, st.QueuedBytes>>10)
			}
		})
	}
}

// The size table finds what a publish put until it is dropped, lets a
// publish of a reused topic string (an alias) take its own slot back at
// once, and reclaims a slot another publish left behind only once that is
// sizeStale seconds old.
func TestSizeTableClaimsAndReclaims(t *testing.T) {
	const sec = int64(time.Second)
	var tab sizeTable
	topic := strings.Clone("a/topic")
	// Fill the topic's whole probe range with slots other publishes
	// claimed at second 5, as colliding publishes would.
	home := tab.home(topicKey(topic))
	for i := range sizeProbe {
		s := &tab.slots[(home+i)%sizeSlots]
		s.key.Store(uintptr(16 + 8*i)) // no string has such an address
		s.val.Store(100<<34 | 5<<2)
	}
	tab.live.Store(sizeProbe)
	tab.put(topic, 1500, 1, 6*sec)
	if _, _, ok := tab.lookup(topic); ok {
		t.Fatal("a publish took a slot another claimed a second before")
	}
	tab.put(topic, 1500, 1, (5+sizeStale)*sec)
	cost, qos, ok := tab.lookup(topic)
	if !ok || cost != 1500 || qos != 1 {
		t.Fatalf("after %d s the slot was not reclaimed: cost %d qos %d ok %v", sizeStale, cost, qos, ok)
	}
	tab.put(topic, 2500, 0, (6+sizeStale)*sec) // the same string again: an alias
	if cost, qos, ok := tab.lookup(topic); !ok || cost != 2500 || qos != 0 {
		t.Fatalf("an alias's publish did not take its slot back: cost %d qos %d ok %v", cost, qos, ok)
	}
	tab.drop(topic)
	if _, _, ok := tab.lookup(topic); ok {
		t.Fatal("a dropped publish is still found")
	}
}

// A publish mochi never reports as published keeps its slot: sweep frees it
// once stale, so that deliveries go back to skipping the table.
func TestSizeTableSweepsLostClaims(t *testing.T) {
	const sec = int64(time.Second)
	var tab sizeTable
	lost, fresh := strings.Clone("a/lost"), strings.Clone("a/fresh")
	tab.put(lost, 5000, 1, 100*sec)
	tab.put(fresh, 6000, 0, (100+sizeStale-1)*sec)
	if got := tab.live.Load(); got != 2 {
		t.Fatalf("%d slots live after two claims, want 2", got)
	}
	// A claim caught between its CAS and its value's store is never stale.
	claiming := &tab.slots[(tab.home(topicKey(fresh))+sizeProbe)%sizeSlots]
	claiming.key.Store(sizeClaiming)

	tab.sweep((100 + sizeStale) * sec)
	if _, _, ok := tab.lookup(lost); ok {
		t.Errorf("a claim %d s old was not swept", sizeStale)
	}
	if cost, _, ok := tab.lookup(fresh); !ok || cost != 6000 {
		t.Errorf("a claim 1 s old was swept (cost %d, found %v)", cost, ok)
	}
	if claiming.key.Load() != sizeClaiming {
		t.Error("a slot being claimed was swept")
	}
	if got := tab.live.Load(); got != 1 {
		t.Errorf("%d slots live after the sweep, want 1", got)
	}
	tab.drop(fresh)
	if got := tab.live.Load(); got != 0 {
		t.Errorf("%d slots live once every claim ended, want 0", got)
	}
}
