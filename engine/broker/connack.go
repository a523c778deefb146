package broker

import (
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// fixConnack fixes two things in mochi's CONNACKs. 3.1.1 clients get only
// 3.1.1 return codes (0x01–0x05): mochi maps a few MQTT 5 reason codes and
// sends the rest (0x80, 0x89, 0x87, …) as they are, which a 3.1.1 client
// cannot read. MQTT 5 clients are told the broker's Maximum Packet Size
// (3.2.2.3.6), which mochi enforces but never announces.
func fixConnack(pk *packets.Packet, maxPacketSize uint32) {
	if pk.ProtocolVersion < 5 {
		pk.ReasonCode = v3ReturnCode(pk.ReasonCode)
		return
	}
	if pk.ReasonCode == packets.CodeSuccess.Code {
		pk.Properties.MaximumPacketSize = maxPacketSize
	}
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
func refusedBusy(cl *mqtt.Client, pk *packets.Packet) bool {
	if cl.Properties.ProtocolVersion < 5 {
		return pk.ReasonCode == packets.Err3ServerUnavailable.Code
	}
	return pk.ReasonCode == packets.ErrServerBusy.Code
}
