package decode

import (
	"reflect"
	"strings"
	"testing"
)

func TestHexLines(t *testing.T) {
	data := []byte("Hello, world.\n\x00\x01\xffABC")
	tests := []struct {
		name     string
		b        []byte
		from, n  int
		want     []string
		wantRows int
	}{
		{"whole dump, as hexdump -C prints it", data, 0, 10, []string{
			"00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 2e 0a 00 01  |Hello, world....|",
			"00000010  ff 41 42 43                                       |.ABC|",
		}, 2},
		{"second row only", data, 1, 1, []string{
			"00000010  ff 41 42 43                                       |.ABC|",
		}, 2},
		{"exactly one row", []byte("0123456789abcdef"), 0, 5, []string{
			"00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|",
		}, 1},
		{"past the end", data, 2, 5, nil, 2},
		{"negative start clipped", data, -1, 2, []string{
			"00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 2e 0a 00 01  |Hello, world....|",
		}, 2},
		{"zero rows asked", data, 0, 0, nil, 2},
		{"empty payload", nil, 0, 5, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HexLines(tt.b, tt.from, tt.n); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("HexLines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if got := HexLineCount(tt.b); got != tt.wantRows {
				t.Fatalf("HexLineCount = %d, want %d", got, tt.wantRows)
			}
		})
	}
}

func TestHexLineOffsets(t *testing.T) {
	b := make([]byte, 0x1234*HexBytesPerLine+3)
	got := HexLines(b, 0x1234, 1)
	if len(got) != 1 || !strings.HasPrefix(got[0], "00012340  00 00 00  ") {
		t.Fatalf("row 0x1234: %q", got)
	}
	if l := hexLine(1<<32, []byte{1}); !strings.HasPrefix(l, "100000000  01") {
		t.Fatalf("offset past 4 GiB keeps its digits: %q", l)
	}
}
