package broker

import (
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// readHook is the one hook that looks at packets as mochi reads them, for
// the same reason as encodeHook: mochi copies every packet it reads into
// and out of each OnPacketRead hook, publishes included.
type readHook struct {
	mqtt.HookBase
	ids     *packetIDs
	flow    *flowHook
	journal *journalHook // nil without Config.Journal
}

func (h *readHook) ID() string { return "iotstudio-read" }

func (h *readHook) Provides(b byte) bool { return b == mqtt.OnPacketRead }

func (h *readHook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	switch pk.FixedHeader.Type {
	case packets.Subscribe, packets.Unsubscribe:
		return h.ids.alias(cl, pk), nil
	case packets.Puback, packets.Pubrec:
		h.flow.acked(cl, pk.PacketID)
	case packets.Disconnect:
		if h.journal != nil {
			h.journal.clientSaid(cl, pk.ReasonCode)
		}
	}
	return pk, nil
}

// encodeHook is the one hook that changes packets as mochi encodes them:
// mochi calls every OnPacketEncode hook for every packet it writes, with
// the ~800-byte packet copied in and out, so two such hooks would cost
// every delivery twice.
type encodeHook struct {
	mqtt.HookBase
	maxPacketSize uint32
	ids           *packetIDs
	journal       *journalHook // nil without Config.Journal
	// busy counts CONNACKs refusing a client over --max-connections.
	busy atomic.Int64
}

func (h *encodeHook) ID() string { return "iotstudio-encode" }

func (h *encodeHook) Provides(b byte) bool { return b == mqtt.OnPacketEncode }

func (h *encodeHook) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	switch pk.FixedHeader.Type {
	case packets.Connack:
		if refusedBusy(cl, pk) {
			h.busy.Add(1)
		}
		if h.journal != nil {
			h.journal.refusedConnack(cl, pk)
		}
		return fixConnack(pk, h.maxPacketSize)
	case packets.Suback, packets.Unsuback:
		return h.ids.restoreID(cl, pk)
	case packets.Disconnect:
		if h.journal != nil {
			h.journal.brokerSaid(cl, pk.ReasonCode)
		}
	}
	return pk
}

// fixConnack fixes two things in mochi's CONNACKs. 3.1.1 clients get only
// 3.1.1 return codes (0x01–0x05): mochi maps a few MQTT 5 reason codes and
// sends the rest (0x80, 0x89, 0x87, …) as they are, which a 3.1.1 client
// cannot read. MQTT 5 clients are told the broker's Maximum Packet Size
// (3.2.2.3.6), which mochi enforces but never announces.
func fixConnack(pk packets.Packet, maxPacketSize uint32) packets.Packet {
	if pk.ProtocolVersion < 5 {
		pk.ReasonCode = v3ReturnCode(pk.ReasonCode)
		return pk
	}
	if pk.ReasonCode == packets.CodeSuccess.Code {
		pk.Properties.MaximumPacketSize = maxPacketSize
	}
	return pk
}

// v3ReturnCode turns an MQTT 5 CONNACK reason code into the 3.1.1 return
// code with the same meaning for the client.
func v3ReturnCode(code byte) byte {
	if code < packets.ErrUnspecifiedError.Code {
		return code // success, or already a 3.1.1 code
	}
	switch code {
	case packets.ErrUnsupportedProtocolVersion.Code:
		return packets.Err3UnsupportedProtocolVersion.Code
	case packets.ErrClientIdentifierNotValid.Code,
		// mochi's only CONNACK with 0x80 refuses an empty client ID with
		// a persistent session, which 3.1.1 answers with 0x02 [MQTT-3.1.3-8].
		packets.ErrUnspecifiedError.Code:
		return packets.Err3ClientIdentifierNotValid.Code
	case packets.ErrBadUsernameOrPassword.Code:
		return packets.ErrMalformedUsernameOrPassword.Code
	case packets.ErrNotAuthorized.Code, packets.ErrBanned.Code, packets.ErrBadAuthenticationMethod.Code:
		return packets.Err3NotAuthorized.Code
	}
	// Busy, shutting down, quota, rate, moved, …: 3.1.1 can only say
	// "server unavailable".
	return packets.Err3ServerUnavailable.Code
}

// refusedBusy tells a CONNACK refusing a client because --max-connections
// are connected: mochi says 0x89 "server busy" to MQTT 5 and 0x03 "server
// unavailable" to 3.1.1, where it sends 0x03 for nothing else.
func refusedBusy(cl *mqtt.Client, pk packets.Packet) bool {
	if cl.Properties.ProtocolVersion < 5 {
		return pk.ReasonCode == packets.Err3ServerUnavailable.Code
	}
	return pk.ReasonCode == packets.ErrServerBusy.Code
}
