package decode

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/shamaton/msgpack/v3"
)

// sizeMB is the payload size the issue asks the inspector to handle.
const sizeMB = 10

// bigJSON builds about n bytes of realistic telemetry JSON: an array of
// device readings, minified as devices publish it.
func bigJSON(n int) []byte {
	var sb strings.Builder
	sb.Grow(n + 256)
	sb.WriteString(`{"device":"pump-7","readings":[`)
	for i := 0; sb.Len() < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"t":%d,"temp":%.2f,"ok":%t,"tags":["a","b"]}`, 1700000000000+i, 20+float64(i%100)/10, i%7 != 0)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

// BenchmarkDecodeJSON10MBFirstPage: what the inspector does when a 10 MB
// JSON message is selected: detect, indent, index lines, render the first
// screen (60 lines).
func BenchmarkDecodeJSON10MBFirstPage(b *testing.B) {
	payload := bigJSON(sizeMB << 20)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		r := Decode(Auto, "plant/pump-7/history", payload, "")
		if r.Format != JSON || len(r.Lines(0, 60)) != 60 {
			b.Fatalf("format %s err %v", r.Format, r.Err)
		}
	}
}

// BenchmarkDecodeJSON10MBTree: opening the tree of that payload (built up
// to MaxTreeNodes).
func BenchmarkDecodeJSON10MBTree(b *testing.B) {
	payload := bigJSON(sizeMB << 20)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		r := Decode(JSON, "", payload, "")
		if root := r.Tree(); root == nil || !root.Children[1].Truncated {
			b.Fatal("tree not bounded")
		}
	}
}

// BenchmarkDecodeBinary10MBFirstPage: a 10 MB binary payload, detected as
// binary and shown as the first screen of its hex dump.
func BenchmarkDecodeBinary10MBFirstPage(b *testing.B) {
	payload := make([]byte, sizeMB<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		r := Decode(Auto, "cam/frame", payload, "")
		if r.Format != Hex || len(r.Lines(0, 60)) != 60 {
			b.Fatalf("format %s", r.Format)
		}
	}
}

// BenchmarkHexLinesPage10MB: scrolling the hex dump of 10 MB: one screen
// (60 rows) from the middle.
func BenchmarkHexLinesPage10MB(b *testing.B) {
	payload := make([]byte, sizeMB<<20)
	mid := HexLineCount(payload) / 2
	b.ReportAllocs()
	for b.Loop() {
		if len(HexLines(payload, mid, 60)) != 60 {
			b.Fatal("short page")
		}
	}
}

// BenchmarkTextLinesPage10MB: scrolling 10 MB of text: one screen from the
// middle, after the one-off line index.
func BenchmarkTextLinesPage10MB(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < sizeMB<<20; i++ {
		fmt.Fprintf(&sb, "2024-05-01T10:00:%02d.000Z pump-7 INFO pressure %d kPa\n", i%60, 100+i%50)
	}
	r := Decode(Text, "", []byte(sb.String()), "")
	mid := r.LineCount() / 2
	b.ReportAllocs()
	for b.Loop() {
		if len(r.Lines(mid, 60)) != 60 {
			b.Fatal("short page")
		}
	}
}

// BenchmarkDiffJSON: the history diff of two typical 2 KB JSON messages.
func BenchmarkDiffJSON(b *testing.B) {
	prev, cur := bigJSON(2<<10), bigJSON(2<<10)
	cur = []byte(strings.Replace(string(cur), `"temp":20.10`, `"temp":20.20`, 1))
	b.ReportAllocs()
	for b.Loop() {
		if c := Diff(prev, cur); c.Equal {
			b.Fatal("no difference found")
		}
	}
}

// BenchmarkDecodeText10MBFirstPage: a 10 MB log dump selected: detect,
// index the lines, render the first screen.
func BenchmarkDecodeText10MBFirstPage(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < sizeMB<<20; i++ {
		fmt.Fprintf(&sb, "2024-05-01T10:00:%02d.000Z pump-7 INFO pressure %d kPa\n", i%60, 100+i%50)
	}
	payload := []byte(sb.String())
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		r := Decode(Auto, "logs/pump-7", payload, "")
		if r.Format != Text || len(r.Lines(0, 60)) != 60 {
			b.Fatalf("format %s", r.Format)
		}
	}
}

// readings is the document the binary-format benchmarks encode: n
// telemetry records.
func readings(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"t": 1700000000000 + i, "temp": 20 + float64(i%100)/10, "ok": i%7 != 0, "tags": []string{"a", "b"}}
	}
	return out
}

// BenchmarkDecodeCBOR10MBFirstPage and BenchmarkDecodeMessagePack10MBFirstPage:
// the binary formats validate the whole payload, then build the tree and
// its text up to MaxTreeNodes.
func BenchmarkDecodeCBOR10MBFirstPage(b *testing.B) {
	payload, err := cbor.Marshal(readings(sizeMB << 20 / 40))
	if err != nil {
		b.Fatal(err)
	}
	benchBinaryFormat(b, payload, CBOR)
}

func BenchmarkDecodeMessagePack10MBFirstPage(b *testing.B) {
	payload, err := msgpack.Marshal(readings(sizeMB << 20 / 40))
	if err != nil {
		b.Fatal(err)
	}
	benchBinaryFormat(b, payload, MessagePack)
}

func benchBinaryFormat(b *testing.B, payload []byte, f Format) {
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		r := Decode(Auto, "", payload, "")
		if r.Format != f || len(r.Lines(0, 60)) != 60 {
			b.Fatalf("format %s err %v", r.Format, r.Err)
		}
	}
}
