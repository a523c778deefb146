package broker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A client may pick for its SUBSCRIBE or UNSUBSCRIBE the packet ID of a
// message the broker is delivering to it, unacknowledged: the two sides'
// IDs are independent [MQTT-2.2.1]. The broker handles the packet as any
// other, answers with the client's ID, and the delivery still completes.
func TestSubscribeAndUnsubscribeWithTheIDOfADeliveryInFlight(t *testing.T) {
	for _, version := range []byte{4, 5} {
		t.Run(message.ProtocolName(version), func(t *testing.T) {
			b := startBroker(t, nil)
			conn, r := handConnect(t, b, version, "held")
			send := func(pk packets.Packet, enc func(*packets.Packet, *bytes.Buffer) error) {
				pk.ProtocolVersion = version
				if _, err := conn.Write(encode(t, pk, enc)); err != nil {
					t.Fatal(err)
				}
			}
			subscribe := func(filter string) {
				send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 1,
					Filters: packets.Subscriptions{{Filter: filter, Qos: 1}}}, (*packets.Packet).SubscribeEncode)
				id, codes := readAck(t, r, packets.Suback, version)
				if id != 1 || len(codes) != 1 || codes[0] != 1 {
					t.Fatalf("SUBACK for %s: packet ID %d, codes %x; want ID 1, QoS 1 granted", filter, id, codes)
				}
			}
			subscribe("plant/#")
			mustDialV5(t, listenerAddr(t, b, "mqtt"), "plc").pub(t, "plant/a", "1", 1, false)
			p := readPacket(t, r, packets.Publish)
			topicLen := int(binary.BigEndian.Uint16(p.body))
			if id := binary.BigEndian.Uint16(p.body[2+topicLen:]); id != 1 {
				t.Fatalf("the broker delivered with packet ID %d; the test needs it to pick 1, as mochi does", id)
			}

			subscribe("extra/#") // ID 1 again: the client's own is free, the broker's is not
			send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe, Qos: 1}, PacketID: 1,
				Filters: packets.Subscriptions{{Filter: "plant/#"}, {Filter: "extra/#"}}}, (*packets.Packet).UnsubscribeEncode)
			id, codes := readAck(t, r, packets.Unsuback, version)
			if id != 1 || (version == 5 && fmt.Sprint(codes) != "[0 0]") {
				t.Fatalf("UNSUBACK: packet ID %d, codes %x; want ID 1 and success", id, codes)
			}
			if held := subscriptionsOf(b, "held"); len(held) > 0 {
				t.Fatalf("after the UNSUBACK the broker still holds %v", held)
			}

			send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: 1}, (*packets.Packet).PubackEncode)
			ping(t, conn, r)
			for _, c := range b.Clients() {
				if c.ID == "held" && c.Inflight != 0 {
					t.Fatalf("%d deliveries still in flight after the PUBACK", c.Inflight)
				}
			}
		})
	}
}

func readPacket(t *testing.T, r *bufio.Reader, kind byte) rawPacket {
	t.Helper()
	p, err := readRaw(r)
	if err != nil || p.kind != kind {
		t.Fatalf("want packet type %d, got %d (%x) %v", kind, p.kind, p.body, err)
	}
	return p
}

// readAck reads a SUBACK or UNSUBACK: its packet ID and reason codes (an
// MQTT 3.1.1 UNSUBACK has none; MQTT 5 puts properties before them).
func readAck(t *testing.T, r *bufio.Reader, kind, version byte) (uint16, []byte) {
	t.Helper()
	p := readPacket(t, r, kind)
	codes := p.body[2:]
	if version == 5 {
		codes = codes[1+int(codes[0]):] // property length < 128 here
	}
	return binary.BigEndian.Uint16(p.body), codes
}

// ping waits until the broker has handled everything sent before it.
func ping(t *testing.T, conn net.Conn, r *bufio.Reader) {
	t.Helper()
	if _, err := conn.Write([]byte{packets.Pingreq << 4, 0}); err != nil {
		t.Fatal(err)
	}
	readPacket(t, r, packets.Pingresp)
}
