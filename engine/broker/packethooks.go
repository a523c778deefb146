package broker

import (
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// packetHooks is the broker's one mochi hook on the path every message
// takes. For every event of every message mochi asks each hook whether it
// provides it, and copies the 800-byte packets.Packet into and out of each
// one that does: with flow control, the byte budget, retained-message
// order, packet-ID aliasing, the capture tap, durable acknowledgements
// and the CONNACK fixes as hooks of their own, a fan-in message went
// through six more hook calls (about a dozen more packet copies) and 40
// more Provides calls than before issue 11. packetHooks takes the packet
// once per event and hands each part a pointer, in the order the parts
// were registered before: flow control first (a held publisher holds
// nothing else back), the acknowledgement's hold and release last (the
// publisher's ackConn; durableAcks waits for the store before the release).
//
// It is added after the session store, so the store sees a delivery
// before durableAcks asks it to flush.
type packetHooks struct {
	mqtt.HookBase
	flow    *flowHook
	order   *retainOrder
	ids     *packetIDs
	encode  *encoder
	journal *journalHook // nil without Config.Journal
	tap     *tap         // nil without Config.Recorder
	durable *durableAcks // nil without persistence

	provides uint64 // bit b: mochi event b
}

func newPacketHooks(h packetHooks) *packetHooks {
	events := []byte{
		mqtt.OnPacketRead, mqtt.OnPacketEncode, mqtt.OnPacketProcessed,
		mqtt.OnSubscribe, mqtt.OnPublish, mqtt.OnPublished, mqtt.OnPublishDropped,
		mqtt.OnQosPublish, mqtt.OnQosDropped, mqtt.OnWill, mqtt.OnWillSent,
	}
	if h.durable != nil {
		events = append(events, mqtt.OnRetainMessage)
	}
	for _, e := range events {
		h.provides |= 1 << e
	}
	return &h
}

func (h *packetHooks) ID() string { return "iotstudio-packets" }

// Provides is asked for every hook on every event: one bit test.
func (h *packetHooks) Provides(b byte) bool { return b < 64 && h.provides&(1<<b) != 0 }

// Stop waits for the disconnects of subscribers over budget.
func (h *packetHooks) Stop() error { return h.flow.Stop() }

func (h *packetHooks) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	switch pk.FixedHeader.Type {
	case packets.Subscribe, packets.Unsubscribe:
		h.ids.alias(cl, &pk)
	case packets.Puback, packets.Pubrec:
		h.flow.acked(cl, pk.PacketID)
	case packets.Disconnect:
		if c := ackConnOf(cl); c != nil {
			_ = c.flush() // the acknowledgements a client sent DISCONNECT right after
		}
		if h.journal != nil {
			h.journal.clientSaid(cl, pk.ReasonCode)
		}
	}
	return pk, nil
}

func (h *packetHooks) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	h.encode.encode(cl, &pk)
	return pk
}

func (h *packetHooks) OnPacketProcessed(cl *mqtt.Client, pk packets.Packet, _ error) {
	h.order.processed(cl, &pk)
	h.ids.processed(cl, &pk)
	if pk.FixedHeader.Type == packets.Subscribe {
		if c := ackConnOf(cl); c != nil {
			c.subscribing.Store(false)
		}
	}
	if pk.FixedHeader.Type != packets.Publish {
		return
	}
	if c := ackConnOf(cl); c != nil && c.publishing.Load() {
		if h.durable != nil {
			h.durable.wait(cl, c)
		}
		// A failed write ends the connection at the reader's next read.
		_ = c.release()
	}
}

func (h *packetHooks) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	h.order.subscribe(cl, &pk)
	if c := ackConnOf(cl); c != nil {
		c.subscribing.Store(true) // until OnPacketProcessed: the retained messages it is sent
	}
	return pk
}

func (h *packetHooks) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	h.flow.publish(cl, &pk)
	h.order.publish(cl, &pk)
	if pk.FixedHeader.Qos > 0 {
		if c := ackConnOf(cl); c != nil {
			c.hold() // mochi writes the acknowledgement before OnPacketProcessed
		}
	}
	return pk, nil
}

func (h *packetHooks) OnPublished(cl *mqtt.Client, pk packets.Packet) {
	h.flow.published(&pk)
	if h.tap != nil {
		h.tap.published(cl, &pk)
	}
}

func (h *packetHooks) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	h.flow.publishDropped(cl, &pk)
}

func (h *packetHooks) OnRetainMessage(cl *mqtt.Client, _ packets.Packet, _ int64) {
	h.durable.retainMessage(cl)
}

func (h *packetHooks) OnQosPublish(cl *mqtt.Client, pk packets.Packet, _ int64, _ int) {
	h.flow.qosPublish(cl, &pk)
	if h.durable != nil {
		h.durable.qosPublish(cl, &pk)
	}
}

func (h *packetHooks) OnQosDropped(cl *mqtt.Client, pk packets.Packet) {
	h.flow.qosDropped(cl, &pk)
}

func (h *packetHooks) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	h.flow.will(&will)
	return will, nil
}

func (h *packetHooks) OnWillSent(cl *mqtt.Client, pk packets.Packet) {
	h.flow.willSent(&pk)
	if h.tap != nil {
		h.tap.willSent(cl, &pk)
	}
}

// encoder changes packets as mochi encodes them.
type encoder struct {
	maxPacketSize uint32
	ids           *packetIDs
	journal       *journalHook // nil without Config.Journal
	// busy counts CONNACKs refusing a client over --max-connections.
	busy atomic.Int64
}

func (e *encoder) encode(cl *mqtt.Client, pk *packets.Packet) {
	switch pk.FixedHeader.Type {
	case packets.Connack:
		if refusedBusy(cl, pk) {
			e.busy.Add(1)
		}
		if e.journal != nil {
			e.journal.refusedConnack(cl, *pk)
		}
		fixConnack(pk, e.maxPacketSize)
	case packets.Suback, packets.Unsuback:
		e.ids.restoreID(cl, pk)
	case packets.Disconnect:
		if e.journal != nil {
			e.journal.brokerSaid(cl, pk.ReasonCode)
		}
	}
}
