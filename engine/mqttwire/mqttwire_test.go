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
