package broker

import (
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// packetIDs keeps a SUBSCRIBE or UNSUBSCRIBE from being refused because its
// packet ID equals one the broker chose for a message it is delivering to
// the same client. The two sides pick packet IDs independently
// [MQTT-2.2.1], and clients and mochi both count up from 1, so they meet
// often; but mochi keeps both sides' IDs in one Inflight map and answers
// such a packet with "packet identifier in use" (0x91), changing nothing.
// An MQTT 3.1.1 UNSUBACK cannot carry that code: the client believes it
// unsubscribed and keeps receiving.
//
// While mochi handles such a packet it carries another ID, free on both
// sides, and the SUBACK or UNSUBACK goes out with the client's own again.
// A client reusing one of its own unfinished IDs is still refused.
type packetIDs struct {
	mu      sync.Mutex
	aliased map[*mqtt.Client]idAlias // at most one per client: it sends one packet at a time
}

type idAlias struct{ alias, own uint16 }

func newPacketIDs() *packetIDs {
	return &packetIDs{aliased: map[*mqtt.Client]idAlias{}}
}

// alias gives a SUBSCRIBE or UNSUBSCRIBE its stand-in ID as it is read
// (OnPacketRead).
func (h *packetIDs) alias(cl *mqtt.Client, pk *packets.Packet) {
	if in, used := cl.State.Inflight.Get(pk.PacketID); used && !isDelivery(in) {
		return // the client reuses one of its own unfinished IDs: mochi refuses it
	}
	// Free now is not enough: a publisher's goroutine may give the ID to a
	// delivery before mochi looks (seen: 0x91 in CI). So the packet always
	// carries an ID the broker's counter has passed, found counting down
	// from the counter (or, if it cannot be read, from the client's ID when
	// the broker uses that one); the counter reaches it again only after
	// 65,535 more deliveries.
	start := pk.PacketID
	if c := packetCounter(cl); c != nil {
		start = uint16(atomic.LoadUint32(c))
	} else if !brokerUses(cl, pk.PacketID) {
		return
	}
	alias := start
	for range 1 << 16 {
		alias--
		if _, used := cl.State.Inflight.Get(alias); !used && alias != 0 {
			h.mu.Lock()
			h.aliased[cl] = idAlias{alias: alias, own: pk.PacketID}
			h.mu.Unlock()
			pk.PacketID = alias
			return
		}
	}
	// Every ID in use: mochi refuses it, as it would anyway.
}

// packetCounter points at mochi's unexported ClientState.packetID, the last
// packet ID it gave a delivery (NextPacketID counts up from it, with atomic
// loads and stores). TestMochiFieldsFound fails if a mochi upgrade
// renames it; until then aliasing falls back to IDs in use only.
func packetCounter(cl *mqtt.Client) *uint32 {
	f := reflect.ValueOf(cl).Elem().FieldByName("State").FieldByName("packetID")
	if !f.IsValid() || f.Kind() != reflect.Uint32 {
		return nil
	}
	return (*uint32)(unsafe.Pointer(f.UnsafeAddr()))
}

func isDelivery(pk packets.Packet) bool {
	return pk.FixedHeader.Type == packets.Publish || pk.FixedHeader.Type == packets.Pubrel
}

// brokerUses reports whether id is the broker's, for a delivery to cl
// (a PUBLISH, or a PUBREL at QoS 2), rather than one of cl's own.
func brokerUses(cl *mqtt.Client, id uint16) bool {
	pk, ok := cl.State.Inflight.Get(id)
	return ok && isDelivery(pk)
}

// restoreID gives a SUBACK or UNSUBACK the client's own packet ID back
// as the packet is encoded.
func (h *packetIDs) restoreID(cl *mqtt.Client, pk *packets.Packet) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.aliased[cl]; ok && a.alias == pk.PacketID {
		pk.PacketID = a.own
	}
}

// processed (OnPacketProcessed) forgets the alias also when no
// acknowledgement was written (the connection closed).
func (h *packetIDs) processed(cl *mqtt.Client, pk *packets.Packet) {
	if t := pk.FixedHeader.Type; t != packets.Subscribe && t != packets.Unsubscribe {
		return
	}
	h.mu.Lock()
	delete(h.aliased, cl)
	h.mu.Unlock()
}
