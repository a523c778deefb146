package mqttwire

import (
	"bytes"
	"testing"
)

// The spec's own boundaries (MQTT 5, 1.5.5): each length takes the bytes
// the table gives, and VarintLen agrees with what is written.
func TestAppendVarint(t *testing.T) {
	tests := []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x00}},
		{127, []byte{0x7F}},
		{128, []byte{0x80, 0x01}},
		{16_383, []byte{0xFF, 0x7F}},
		{16_384, []byte{0x80, 0x80, 0x01}},
		{2_097_151, []byte{0xFF, 0xFF, 0x7F}},
		{2_097_152, []byte{0x80, 0x80, 0x80, 0x01}},
		{268_435_455, []byte{0xFF, 0xFF, 0xFF, 0x7F}},
	}
	for _, tt := range tests {
		got := AppendVarint([]byte{0xAA}, tt.n)
		if !bytes.Equal(got[1:], tt.want) || got[0] != 0xAA {
			t.Errorf("%d: % x, want aa % x", tt.n, got, tt.want)
		}
		if l := VarintLen(tt.n); l != len(tt.want) {
			t.Errorf("VarintLen(%d) = %d, want %d", tt.n, l, len(tt.want))
		}
	}
}

func TestAppendString(t *testing.T) {
	if got := AppendString(nil, "a/b"); !bytes.Equal(got, []byte{0, 3, 'a', '/', 'b'}) {
		t.Errorf("% x", got)
	}
}

// Varint reads back what AppendVarint wrote, and refuses a cut or
// five-byte integer.
func TestVarint(t *testing.T) {
	for _, n := range []int{0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455} {
		b := AppendVarint(nil, n)
		got, size, ok := Varint(append(b, 0xEE))
		if !ok || got != n || size != len(b) {
			t.Errorf("%d: read %d in %d bytes (ok %v), want %d in %d", n, got, size, ok, n, len(b))
		}
		if _, _, ok := Varint(b[:len(b)-1]); ok {
			t.Errorf("%d: a varint cut short was read", n)
		}
	}
	if _, _, ok := Varint([]byte{0x80, 0x80, 0x80, 0x80, 0x01}); ok {
		t.Error("a five-byte varint was read")
	}
}

func TestNextFrame(t *testing.T) {
	puback := []byte{0x40, 2, 0, 7}
	big := append([]byte{0x30}, AppendVarint(nil, 200)...)
	big = append(big, bytes.Repeat([]byte{'p'}, 200)...)
	tests := []struct {
		name     string
		b        []byte
		ok       bool
		body     []byte
		restSize int
	}{
		{"one packet", puback, true, puback[2:], 0},
		{"two packets", append(append([]byte{}, puback...), puback...), true, puback[2:], 4},
		{"two-byte length", big, true, big[3:], 0},
		{"cut in the body", puback[:3], false, nil, 3},
		{"cut in the length", big[:2], false, nil, 2},
		{"no length", []byte{0x40}, false, nil, 1},
	}
	for _, tt := range tests {
		first, body, rest, ok := NextFrame(tt.b)
		if ok != tt.ok || !bytes.Equal(body, tt.body) || len(rest) != tt.restSize || ok && first != tt.b[0] {
			t.Errorf("%s: first %#x body % x rest %d ok %v; want body % x rest %d ok %v",
				tt.name, first, body, len(rest), ok, tt.body, tt.restSize, tt.ok)
		}
	}
}
