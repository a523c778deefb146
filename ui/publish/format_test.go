package publish

import (
	"bytes"
	"strings"
	"testing"
)

func TestParsePayloadAcceptsCommonSpellings(t *testing.T) {
	for _, c := range []struct {
		format payloadFormat
		in     string
		want   []byte
	}{
		{formatHex, "de ad be ef", []byte{0xde, 0xad, 0xbe, 0xef}},
		{formatHex, "DE:AD-be\nEF", []byte{0xde, 0xad, 0xbe, 0xef}},
		{formatHex, "0xde 0xAD", []byte{0xde, 0xad}},
		{formatHex, "", nil},
		{formatBase64, "3q2+7w==", []byte{0xde, 0xad, 0xbe, 0xef}},
		{formatBase64, "3q2-7w", []byte{0xde, 0xad, 0xbe, 0xef}}, // URL-safe, unpadded
		{formatBase64, "3q2+\n7w==", []byte{0xde, 0xad, 0xbe, 0xef}},
		{formatText, "plain", []byte("plain")},
		{formatJSON, " [1, 2] ", []byte(" [1, 2] ")},
	} {
		got, err := parsePayload(c.format, c.in)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s %q = %x, %v; want %x", c.format, c.in, got, err, c.want)
		}
	}
}

func TestParsePayloadErrorsSayWhere(t *testing.T) {
	for _, c := range []struct {
		format payloadFormat
		in     string
		want   string
	}{
		{formatJSON, "", "JSON: the payload is empty"},
		{formatJSON, `{"a": tru}`, "JSON: line 1, column 10: invalid character '}' in literal true"},
		{formatJSON, "[1,\n2,\n]", "JSON: line 3, column 1"},
		{formatHex, "abc", "hex: line 1, column 3: a byte needs two hex digits"},
		{formatHex, "ab\n\nzz", "hex: line 3, column 1: 'z' is not a hex digit"},
		{formatBase64, "3q2+7", "base64: the text ends too early"},
		{formatBase64, "3q!+", "base64: character 3 ('!')"},
	} {
		_, err := parsePayload(c.format, c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: %v, want %q", c.format, c.in, err, c.want)
		}
	}
}

func TestRenderPayloadWrapsLongHexAndBase64(t *testing.T) {
	b := bytes.Repeat([]byte{0xab}, 40)
	hex, _ := renderPayload(formatHex, b)
	if lines := strings.Split(hex, "\n"); len(lines) != 3 || lines[0] != strings.TrimSpace(strings.Repeat("ab ", 16)) {
		t.Fatalf("hex of 40 bytes:\n%s", hex)
	}
	b64, _ := renderPayload(formatBase64, bytes.Repeat([]byte{0xab}, 100))
	if lines := strings.Split(b64, "\n"); len(lines) != 2 || len(lines[0]) != base64LineLen {
		t.Fatalf("base64 of 100 bytes:\n%s", b64)
	}
	if back, err := parsePayload(formatBase64, b64); err != nil || len(back) != 100 {
		t.Fatalf("wrapped base64 does not read back: %v", err)
	}
}
