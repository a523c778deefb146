// Package mqttwire writes MQTT's wire primitives, the variable byte
// integer and the length-prefixed string, for code that encodes packets
// itself: the fleet's PUBLISH encoder and the raw test client. It imports
// nothing of this module, so any package can use it.
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
