package broker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/mqttwire"
)

// The connect guard reads a connection's first packet before mochi sees the
// connection. mochi allocates a first packet's declared length (up to
// 256 MB) before anything is authenticated, and waits for it forever; the
// guard holds only the bytes that actually arrived, refuses anything but a
// CONNECT of at most Config.connectLimit bytes, and gives up at the connect
// timeout. It also checks what mochi's decoder cannot see: duplicated MQTT 5
// properties and forbidden zero values.

var (
	errNotConnect      = errors.New("the first packet is not CONNECT")
	errConnectTooLarge = errors.New("CONNECT larger than the broker accepts before login")
	errMalformedLength = errors.New("malformed remaining length in the first packet")
	errConnectRefused  = errors.New("CONNECT refused")
	errConnectBudget   = errors.New("too many large CONNECTs in progress; refusing this one")
)

// readConnect reads from c until it holds the whole first packet and
// returns everything read (which may run past that packet) and the
// packet's length. Memory grows with what the peer sends, never with what
// it declares, and is drawn from budget, shared by all connections.
func readConnect(c net.Conn, limit int, budget *byteBudget) ([]byte, int, error) {
	buf := make([]byte, 0, 256)
	defer func() { budget.release(cap(buf) - 256) }() // buf is this function's, whatever it returns
	for {
		size, err := firstPacketSize(buf, limit)
		if err != nil {
			return nil, 0, err
		}
		if size > 0 && len(buf) >= size {
			return buf, size, nil
		}
		if len(buf) == cap(buf) {
			more := min(cap(buf), size-len(buf))
			if !budget.take(more) {
				return nil, 0, errConnectBudget
			}
			buf = slices.Grow(buf, more)
			budget.charge(cap(buf) - len(buf) - more) // slices.Grow rounds up
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if size > 0 && len(buf) >= size {
				return buf, size, nil
			}
			return nil, 0, err
		}
	}
}

// connectBudgetBytes bounds the memory of all CONNECTs being read at once.
// Real CONNECTs are a few hundred bytes; without it, every socket allowed by
// --max-connections could hold a 512 KiB CONNECT in progress.
const connectBudgetBytes = 64 << 20

// byteBudget is a shared allowance of bytes.
type byteBudget struct {
	max  int64
	used atomic.Int64
}

// take reserves n bytes if they fit.
func (b *byteBudget) take(n int) bool {
	if b.used.Add(int64(n)) > b.max {
		b.used.Add(-int64(n))
		return false
	}
	return true
}

// charge reserves n bytes whether or not they fit: an allocator's rounding.
func (b *byteBudget) charge(n int) { b.used.Add(int64(n)) }

func (b *byteBudget) release(n int) { b.used.Add(-int64(n)) }

// firstPacketSize returns the first packet's total length once its fixed
// header is complete, 0 while more bytes are needed.
func firstPacketSize(b []byte, limit int) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if b[0]>>4 != packets.Connect {
		return 0, errNotConnect
	}
	remaining, mult := 0, 1
	for i := 1; i <= 4; i++ {
		if i >= len(b) {
			return 0, nil
		}
		remaining += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			size := 1 + i + remaining
			if size > limit {
				return 0, fmt.Errorf("%w: %d bytes declared, limit %d", errConnectTooLarge, size, limit)
			}
			return size, nil
		}
		mult *= 128
	}
	return 0, errMalformedLength
}

// guardConn hands mochi the bytes the guard already read, then the
// connection's own.
type guardConn struct {
	net.Conn
	replay []byte
}

func (g *guardConn) Read(p []byte) (int, error) {
	if len(g.replay) == 0 {
		return g.Conn.Read(p)
	}
	n := copy(p, g.replay)
	g.replay = g.replay[n:]
	if len(g.replay) == 0 {
		g.replay = nil // mochi holds its own copy; free ours
	}
	return n, nil
}

// connectVerdict is what the guard decided about a CONNECT mochi has not
// seen yet.
type connectVerdict struct {
	reply  []byte // CONNACK to send before closing; nil to close silently
	reason string
}

// judgeConnect returns nil for a CONNECT mochi may have, or the refusal.
// body is the CONNECT after its fixed header.
func judgeConnect(body []byte) *connectVerdict {
	name, rest, ok := cutString(body)
	if !ok || len(rest) < 4 {
		return nil // mochi's decoder reports malformed packets itself
	}
	level := rest[0]
	switch {
	case string(name) != "MQTT" && string(name) != "MQIsdp":
		return &connectVerdict{reason: "not an MQTT protocol name"}
	case level == 5:
		if code, why := checkV5Connect(body); code != 0 {
			return &connectVerdict{reply: v5Connack(code, why), reason: why}
		}
	case level == 3 || level == 4:
		return judgeV3Connect(body, level)
	default:
		// [MQTT-3.1.2-2]: 3.1.1's "unacceptable protocol level"; a client
		// of a later protocol reads it too.
		return &connectVerdict{reply: []byte{0x20, 2, 0, packets.Err3UnsupportedProtocolVersion.Code},
			reason: fmt.Sprintf("unsupported protocol level %d", level)}
	}
	return nil
}

// judgeV3Connect closes the connection on a malformed or invalid 3.1.1
// CONNECT, as 3.1.1 requires [MQTT-3.1.4-1]: its CONNACK has no code for
// protocol errors, and mochi would send MQTT 5's 0x82.
func judgeV3Connect(body []byte, level byte) *connectVerdict {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: level}
	if err := pk.ConnectDecode(body); err != nil {
		return &connectVerdict{reason: "malformed CONNECT"}
	}
	if code := pk.ConnectValidate(); code.Code == packets.ErrMalformedPacket.Code || code.Code == packets.ErrProtocolViolation.Code {
		return &connectVerdict{reason: code.Reason}
	}
	return nil
}

func cutString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// checkV5Connect validates an MQTT 5 CONNECT's properties and will
// properties as the spec requires and mochi does not: a property other than
// User Property given twice, Receive Maximum 0, Maximum Packet Size 0 and
// request flags other than 0 or 1 are protocol errors (3.1.2.11, 3.1.3.2).
func checkV5Connect(body []byte) (code byte, why string) {
	_, rest, _ := cutString(body)
	flags := rest[1]
	rest = rest[4:] // level, flags, keep alive
	rest, code, why = checkProperties(rest, "CONNECT")
	if code != 0 || flags&0x04 == 0 {
		return code, why
	}
	if _, rest, ok := cutString(rest); ok { // client identifier
		_, code, why = checkProperties(rest, "will")
	}
	return code, why
}

// propertySize is the encoded size of each property's value by identifier;
// -1 marks a UTF-8 string or binary data (length-prefixed), -2 a string
// pair, -3 a variable byte integer.
var propertySize = map[byte]int{
	0x01: 1, 0x02: 4, 0x03: -1, 0x08: -1, 0x09: -1, 0x0B: -3, 0x11: 4, 0x12: -1,
	0x13: 2, 0x15: -1, 0x16: -1, 0x17: 1, 0x18: 4, 0x19: 1, 0x1A: -1, 0x1C: -1,
	0x1F: -1, 0x21: 2, 0x22: 2, 0x23: 2, 0x24: 1, 0x25: 1, 0x26: -2, 0x27: 4,
	0x28: 1, 0x29: 1, 0x2A: 1,
}

// checkProperties walks one property list and returns what follows it.
func checkProperties(b []byte, where string) (rest []byte, code byte, why string) {
	n, used, ok := mqttwire.Varint(b)
	if !ok || len(b) < used+n {
		return nil, packets.ErrMalformedProperties.Code, where + " properties: length runs past the packet"
	}
	props, rest := b[used:used+n], b[used+n:]
	var seen [256]bool
	for len(props) > 0 {
		id := props[0]
		size, known := propertySize[id]
		if !known {
			return nil, packets.ErrMalformedProperties.Code, fmt.Sprintf("%s properties: unknown property 0x%02X", where, id)
		}
		if seen[id] && id != packets.PropUser {
			return nil, packets.ErrProtocolViolation.Code, fmt.Sprintf("%s properties: property 0x%02X given twice", where, id)
		}
		seen[id] = true
		value, next, ok := cutProperty(props[1:], size)
		if !ok {
			return nil, packets.ErrMalformedProperties.Code, fmt.Sprintf("%s properties: property 0x%02X runs past the list", where, id)
		}
		if why := badValue(id, value); why != "" {
			return nil, packets.ErrProtocolViolation.Code, where + " properties: " + why
		}
		props = next
	}
	return rest, 0, ""
}

func cutProperty(b []byte, size int) (value, rest []byte, ok bool) {
	switch size {
	case -1:
		v, r, ok := cutString(b)
		return v, r, ok
	case -2:
		_, r, ok := cutString(b)
		if !ok {
			return nil, nil, false
		}
		_, r, ok = cutString(r)
		return nil, r, ok
	case -3:
		_, used, ok := mqttwire.Varint(b)
		return b[:used], b[used:], ok
	}
	if len(b) < size {
		return nil, nil, false
	}
	return b[:size], b[size:], true
}

func badValue(id byte, v []byte) string {
	switch id {
	case packets.PropReceiveMaximum:
		if binary.BigEndian.Uint16(v) == 0 {
			return "Receive Maximum is 0"
		}
	case packets.PropMaximumPacketSize:
		if binary.BigEndian.Uint32(v) == 0 {
			return "Maximum Packet Size is 0"
		}
	case packets.PropRequestProblemInfo, packets.PropRequestResponseInfo:
		if v[0] > 1 {
			return fmt.Sprintf("property 0x%02X is %d, not 0 or 1", id, v[0])
		}
	}
	return ""
}

// v5Connack encodes an MQTT 5 CONNACK refusing with code, its Reason String
// saying why so that the client's log names the offending property.
func v5Connack(code byte, why string) []byte {
	pk := packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Connack},
		ProtocolVersion: 5,
		ReasonCode:      code,
		Properties:      packets.Properties{ReasonString: why},
	}
	var buf bytes.Buffer
	_ = pk.ConnackEncode(&buf) // writes to memory: cannot fail
	return buf.Bytes()
}

// refuseWriteTimeout bounds the refusal CONNACK to a peer that does not read.
const refuseWriteTimeout = time.Second

// admitConnect reads and judges the first packet of c within timeout. It
// returns the connection mochi should serve, or an error after closing c.
func admitConnect(c net.Conn, timeout time.Duration, limit int, budget *byteBudget) (net.Conn, error) {
	_ = c.SetReadDeadline(time.Now().Add(timeout)) // mochi replaces it after CONNECT (keep alive)
	buf, size, err := readConnect(c, limit, budget)
	if err != nil {
		_ = c.Close()
		if errors.Is(err, errConnectTooLarge) || errors.Is(err, errNotConnect) || errors.Is(err, errMalformedLength) || errors.Is(err, errConnectBudget) {
			return nil, err
		}
		return nil, fmt.Errorf("no CONNECT within %v: %w", timeout, err)
	}
	if v := judgeConnect(bodyOf(buf[:size])); v != nil {
		if v.reply != nil {
			_ = c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
			_, _ = c.Write(v.reply)
		}
		_ = c.Close()
		return nil, fmt.Errorf("%w: %s", errConnectRefused, v.reason)
	}
	return &guardConn{Conn: c, replay: buf}, nil
}

// bodyOf returns a complete packet's bytes after its fixed header.
func bodyOf(pkt []byte) []byte {
	_, used, _ := mqttwire.Varint(pkt[1:])
	return pkt[1+used:]
}
