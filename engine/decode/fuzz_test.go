package decode

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkResult holds every promise Decode makes, whatever the input.
func checkResult(t *testing.T, f Format, topic string, payload []byte, r *Result) {
	t.Helper()
	if f == Auto && r.Err != nil {
		t.Fatalf("Auto picked %s, which failed: %v", r.Tried, r.Err)
	}
	if r.Err == nil && f != Auto && r.Format != f {
		t.Fatalf("asked %s, got %s without an error", f, r.Format)
	}
	count := r.LineCount()
	if count < 1 {
		t.Fatalf("LineCount %d: the view is blank", count)
	}
	n := min(count, 3000)
	lines := r.Lines(0, n)
	if len(lines) != n {
		t.Fatalf("Lines(0, %d) gave %d lines", n, len(lines))
	}
	for i, l := range lines {
		// Control pictures take 3 bytes for 1, so a wrapped row may triple.
		if !utf8.ValidString(l) || strings.ContainsAny(l, "\n\r") || len(l) > 3*MaxLineBytes {
			t.Fatalf("line %d is not a printable row: %q", i, l)
		}
	}
	if r.Err != nil {
		if r.Format != Hex || !reflect.DeepEqual(lines, HexLines(payload, 0, n)) {
			t.Fatalf("failed %s did not fall back to the hex dump", f)
		}
	}
	if r.Err == nil && r.Format == JSON && len(payload) > 0 {
		// The one-pass indenter must write what encoding/json would, but for
		// trailing whitespace, which json.Indent copies and the view drops.
		var want bytes.Buffer
		err := json.Indent(&want, stripBOM(payload), "", "  ")
		if err != nil || r.Text != strings.TrimRight(want.String(), " \t\r\n")+"\n" {
			t.Fatalf("JSON view differs from json.Indent (%v):\n%q\n%q", err, r.Text, want.String())
		}
	}
	if nodes := countNodes(r.Tree()); nodes > MaxTreeNodes {
		t.Fatalf("tree of %d nodes", nodes)
	}
	for _, fl := range NumericFields(f, topic, payload) {
		if math.IsNaN(fl.Value) || math.IsInf(fl.Value, 0) || fl.Path == "" {
			t.Fatalf("bad field %+v", fl)
		}
	}
}

// formatSeeds are a format's fuzz seed payloads and the topic they are
// decoded under.
type formatSeeds struct {
	topic string
	seeds [][]byte
}

// fuzzSeeds has every registered format's seeds. A new format adds its
// entry here; TestEveryFormatHasFuzzSeeds fails until it does, and
// FuzzDecodeEach then fuzzes it with no target of its own.
func fuzzSeeds(tb testing.TB) map[Format]formatSeeds {
	unhexAll := func(hs ...string) [][]byte {
		out := make([][]byte, len(hs))
		for i, h := range hs {
			out[i] = unhex(tb, h)
		}
		return out
	}
	return map[Format]formatSeeds{
		Text:   {"", [][]byte{[]byte("hello\r\nworld"), []byte("\xef\xbb\xbfa\x00b"), {0xc3}}},
		JSON:   {"", [][]byte{[]byte(`{"a":[1,2.5e3,{"b":null}],"c":"\u00e9"}`), []byte("\xef\xbb\xbf[]"), []byte(`{"a":`)}},
		Hex:    {"", [][]byte{[]byte("Hello, world.\n"), {0, 0xff}}},
		Base64: {"", [][]byte{[]byte("eyJhIjoxfQ=="), []byte("aGVs\nbG8_"), []byte("AAEC/w")}},
		CBOR: {"", unhexAll("a26161016162820203", "c11a514b67b0", "9f0102ff", "d82aa1616101",
			"7f657374726561646d696e67ff", "fa3dcccccd", "c249010000000000000000")},
		MessagePack: {"", unhexAll("82a474656d70cb4035800000000000a176c3", "97ff7fd080cc3fcd0100ce00010000cfffffffffffffffff",
			"d6ff00000000", "c703ff010203", "93c0c4020102d90161")},
		SparkplugB: {"spBv1.0/G/DDATA/E/D", [][]byte{sparkplugSample(tb), {0x08, 0x01}}},
	}
}

func TestEveryFormatHasFuzzSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	for _, f := range Formats()[1:] {
		if len(seeds[f].seeds) == 0 {
			t.Errorf("format %s has no fuzz seeds: add them to fuzzSeeds", f)
		}
	}
}

func fuzzFormat(f *testing.F, format Format) {
	s := fuzzSeeds(f)[format]
	for _, b := range s.seeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkResult(t, format, s.topic, payload, Decode(format, s.topic, payload, ""))
	})
}

func FuzzDecodeText(f *testing.F)        { fuzzFormat(f, Text) }
func FuzzDecodeJSON(f *testing.F)        { fuzzFormat(f, JSON) }
func FuzzDecodeHex(f *testing.F)         { fuzzFormat(f, Hex) }
func FuzzDecodeBase64(f *testing.F)      { fuzzFormat(f, Base64) }
func FuzzDecodeCBOR(f *testing.F)        { fuzzFormat(f, CBOR) }
func FuzzDecodeMessagePack(f *testing.F) { fuzzFormat(f, MessagePack) }
func FuzzDecodeSparkplugB(f *testing.F)  { fuzzFormat(f, SparkplugB) }

// FuzzDecodeEach decodes every seed of every registered format in every
// format: a format added to the registry is fuzzed here, against the
// others' payloads too, without a target of its own.
func FuzzDecodeEach(f *testing.F) {
	formats := Formats()
	for format, s := range fuzzSeeds(f) {
		for _, b := range s.seeds {
			f.Add(b, s.topic, uint8(slices.Index(formats, format)))
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte, topic string, sel uint8) {
		format := formats[int(sel)%len(formats)]
		checkResult(t, format, topic, payload, Decode(format, topic, payload, ""))
	})
}

// FuzzDecodeAuto runs Detect and Decode(Auto) with every kind of topic and
// content type: whatever Detect picks must decode.
func FuzzDecodeAuto(f *testing.F) {
	topics := []string{"", "spBv1.0/G/NDATA/E", "spBv1.0/STATE/h"}
	types := []string{"", "application/json", "application/cbor", "application/msgpack", "text/plain", "bogus;;"}
	f.Add([]byte(`{"a":1}`), uint8(0))
	f.Add(sparkplugSample(f), uint8(1))
	f.Add([]byte("21.5"), uint8(3))
	f.Add([]byte{0xa1, 0x61, 0x61, 0x01}, uint8(2))
	f.Add([]byte{0x81, 0xa1, 0x61, 0x01}, uint8(4))
	f.Fuzz(func(t *testing.T, payload []byte, sel uint8) {
		topic, ct := topics[int(sel)%len(topics)], types[int(sel/8)%len(types)]
		r := Decode(Auto, topic, payload, ct)
		if r.Tried != Detect(topic, payload, ct) {
			t.Fatalf("Decode(Auto) tried %s, Detect says otherwise", r.Tried)
		}
		checkResult(t, Auto, topic, payload, r)
	})
}

// FuzzHexLines: every row reads back to the bytes it stands for.
func FuzzHexLines(f *testing.F) {
	f.Add([]byte("Hello, world.\n\x00\xff"), 0, 3)
	f.Add(bytes.Repeat([]byte{0x41}, 100), 2, 10)
	f.Add([]byte{}, -3, 5)
	f.Fuzz(func(t *testing.T, b []byte, from, n int) {
		rows := HexLines(b, from, n)
		total := HexLineCount(b)
		lo, hi := max(0, from), min(total, from+max(n, 0))
		if from+n < from { // overflow of the fuzzer's ints: nothing sensible to compare
			return
		}
		if want := max(0, hi-lo); len(rows) != want {
			t.Fatalf("%d rows for from=%d n=%d of %d, want %d", len(rows), from, n, total, want)
		}
		for i, row := range rows {
			off := (lo + i) * HexBytesPerLine
			want := b[off:min(off+HexBytesPerLine, len(b))]
			if got := parseHexRow(t, row); !bytes.Equal(got, want) {
				t.Fatalf("row %q reads back as %x, want %x", row, got, want)
			}
		}
	})
}

// parseHexRow reads the hex columns back from a HexLines row.
func parseHexRow(t *testing.T, row string) []byte {
	t.Helper()
	// Fixed layout: offset, two spaces, 16 columns of "xx " with one extra
	// space after the eighth, then " |ascii|".
	const cols = 3*HexBytesPerLine + 1
	_, rest, ok := strings.Cut(row, "  ")
	if !ok || len(rest) < cols+3 || rest[cols:cols+2] != " |" || !strings.HasSuffix(row, "|") {
		t.Fatalf("row %q has not the hexdump layout", row)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(rest[:cols], " ", ""))
	if err != nil {
		t.Fatalf("row %q: %v", row, err)
	}
	return b
}

// FuzzDiff: the diff is an edit script. Its same and removed lines are the
// old lines and its same and added lines the new ones, in order.
func FuzzDiff(f *testing.F) {
	f.Add([]byte("a\nb\nc"), []byte("a\nc\nd"))
	f.Add([]byte(`{"a":1,"b":[1,2]}`), []byte(`{"b":[1,3],"a":1.0}`))
	f.Add([]byte{0xff, 1}, []byte{0xff, 2})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		c := Diff(a, b)
		var old, cur []string
		for _, l := range c.Lines {
			if l.Op != Added {
				old = append(old, l.Text)
			}
			if l.Op != Removed {
				cur = append(cur, l.Text)
			}
		}
		var wantOld, wantCur []string
		switch {
		case c.Note != "" && c.Lines == nil:
			return // too large to diff
		case c.JSON:
			pa, _ := parseJSONDoc(a)
			pb, _ := parseJSONDoc(b)
			wantOld = splitLines(canonicalJSON(normalizeNumbers(pa)))
			wantCur = splitLines(canonicalJSON(normalizeNumbers(pb)))
			if c.Equal != (len(c.Changes) == 0) {
				t.Fatalf("Equal %v with %d changes", c.Equal, len(c.Changes))
			}
		case IsText(a) && IsText(b):
			wantOld, wantCur = splitLines(string(a)), splitLines(string(b))
		default:
			wantOld, wantCur = HexLines(a, 0, HexLineCount(a)), HexLines(b, 0, HexLineCount(b))
		}
		if strings.Join(old, "\n") != strings.Join(wantOld, "\n") || strings.Join(cur, "\n") != strings.Join(wantCur, "\n") {
			t.Fatalf("diff does not rebuild its inputs\nold %q\nwant %q\ncur %q\nwant %q", old, wantOld, cur, wantCur)
		}
		if !c.JSON && c.Equal != bytes.Equal(a, b) {
			t.Fatalf("Equal %v for different bytes", c.Equal)
		}
	})
}
