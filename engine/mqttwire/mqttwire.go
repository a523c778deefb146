// Package mqttwire writes and reads MQTT's wire primitives, the variable
// byte integer, the length-prefixed string and the frame around a packet,
// for code that handles packets as bytes itself: the fleet's PUBLISH
// encoder, the raw test client, the broker's connect guard and its
// accounting of what it writes. It imports nothing of this module, so any
// package can use it.
package mqttwire

import "encoding/binary"

// AppendVarint appends n as MQTT's variable byte integer (a packet's
// remaining length, a properties length).
func AppendVarint(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// VarintLen is how many bytes AppendVarint writes for n.
func VarintLen(n int) int {
	switch {
	case n < 128:
		return 1
	case n < 16_384:
		return 2
	case n < 2_097_152:
		return 3
	}
	return 4
}

// AppendString appends s as MQTT writes a string or binary data: a 2-byte
// length, then the bytes. The caller checks that the length fits.
func AppendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// Varint reads MQTT's variable byte integer at the start of b: its value
// and how many bytes it took; ok is false if b ends inside it or it is
// longer than the spec's four bytes.
func Varint(b []byte) (n, size int, ok bool) {
	mult := 1
	for i := 0; i < 4 && i < len(b); i++ {
		n += int(b[i]&0x7F) * mult
		if b[i]&0x80 == 0 {
			return n, i + 1, true
		}
		mult *= 128
	}
	return 0, 0, false
}

// NextFrame splits the control packet at the start of b off the rest: its
// first byte (type and flags) and its body (what the remaining length
// covers). ok is false if b does not hold a whole packet.
func NextFrame(b []byte) (first byte, body, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, b, false
	}
	n, size, ok := Varint(b[1:])
	if !ok || 1+size+n > len(b) {
		return 0, nil, b, false
	}
	end := 1 + size + n
	return b[0], b[1+size : end], b[end:], true
}
