package decode

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The contract of the inspector: a format that does not fit says why and
// shows the hex dump of every byte; nothing is ever blank.
func TestDecodeFallsBackToHex(t *testing.T) {
	tests := []struct {
		name    string
		f       Format
		payload []byte
		wantErr string
	}{
		{"JSON on text", JSON, []byte("hello"), "invalid JSON at byte 1"},
		{"JSON truncated", JSON, []byte(`{"a": [1, 2`), "invalid JSON"},
		{"JSON error offset counts the BOM", JSON, []byte("\xef\xbb\xbf{x}"), "at byte 5"},
		{"text on invalid UTF-8", Text, []byte{'o', 'k', 0xc3, 0x28}, "invalid byte at offset 2"},
		{"CBOR on text", CBOR, []byte("hello"), "not CBOR"},
		{"CBOR with trailing bytes", CBOR, unhex(t, "0102"), "not CBOR"},
		{"MessagePack never-used byte", MessagePack, []byte{0xc1}, "0xc1 is not a valid type"},
		{"MessagePack truncated array", MessagePack, []byte{0x93, 0x01}, "not MessagePack"},
		{"MessagePack trailing bytes", MessagePack, []byte{0x01, 0x02}, "1 bytes left"},
		{"MessagePack length past end", MessagePack, []byte{0xdb, 0xff, 0xff, 0xff, 0xff}, "past the end"},
		{"Sparkplug on garbage", SparkplugB, []byte{0xff, 0xff}, "sparkplug b payload"},
		{"Sparkplug on text", SparkplugB, []byte("hello world"), "sparkplug b payload"},
		{"base64 on punctuation", Base64, []byte("!!!!"), "not base64"},
		{"unknown format", Format("yaml"), []byte("a: 1"), `unknown payload format "yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(tt.f, "", tt.payload, "")
			if r.Err == nil || !r.Fallback() {
				t.Fatalf("no error; format %s text %q", r.Format, r.Text)
			}
			if !strings.Contains(r.Err.Error(), tt.wantErr) {
				t.Fatalf("error %q, want it to contain %q", r.Err, tt.wantErr)
			}
			if r.Format != Hex || r.Tried != tt.f || r.Text != "" || r.Tree() != nil {
				t.Fatalf("format %s tried %s text %q", r.Format, r.Tried, r.Text)
			}
			want := HexLines(tt.payload, 0, 1000)
			if got := r.Lines(0, 1000); len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Fatalf("view %q, want the hex dump %q", got, want)
			}
			if r.LineCount() != len(want) {
				t.Fatalf("LineCount %d, want %d", r.LineCount(), len(want))
			}
		})
	}
}

func TestDecodeEmptyPayload(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			r := Decode(f, "spBv1.0/G/NDATA/E", nil, "")
			if r.Err != nil {
				t.Fatalf("error %v", r.Err)
			}
			if got := r.Lines(0, 10); !reflect.DeepEqual(got, []string{EmptyPayload}) || r.LineCount() != 1 {
				t.Fatalf("lines %q count %d", got, r.LineCount())
			}
			if got := r.Lines(1, 10); got != nil {
				t.Fatalf("past the end: %q", got)
			}
		})
	}
	// Base64 of nothing (whitespace only) is an empty payload too.
	r := Decode(Base64, "", []byte(" \n"), "")
	if r.Err != nil || !reflect.DeepEqual(r.Lines(0, 5), []string{EmptyPayload}) {
		t.Fatalf("base64 of nothing: %v %q", r.Err, r.Lines(0, 5))
	}
}

func TestDecodeJSON(t *testing.T) {
	payload := []byte("\xef\xbb\xbf{\"z\":1, \"a\":{\"n\":1.50,\"list\":[true,null,\"x\"]},\"k.y\":-2e3}")
	r := Decode(Auto, "sensors/1", payload, "")
	if r.Err != nil || r.Format != JSON {
		t.Fatalf("format %s err %v", r.Format, r.Err)
	}
	want := `{
  "z": 1,
  "a": {
    "n": 1.50,
    "list": [
      true,
      null,
      "x"
    ]
  },
  "k.y": -2e3
}
`
	if r.Text != want {
		t.Fatalf("text\n%s\nwant (key order and number spelling kept)\n%s", r.Text, want)
	}
	if got := r.Lines(2, 2); !reflect.DeepEqual(got, []string{`  "a": {`, `    "n": 1.50,`}) {
		t.Fatalf("Lines(2,2) = %q", got)
	}
	root := r.Tree()
	var got []string
	var walk func(n *Node)
	walk = func(n *Node) {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s", n.Key, n.Path, n.Kind, n.Value))
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(root)
	wantTree := []string{
		"||object|3 keys",
		"z|z|number|1",
		"a|a|object|2 keys",
		"n|a.n|number|1.50",
		"list|a.list|array|3 items",
		"[0]|a.list[0]|bool|true",
		"[1]|a.list[1]|null|null",
		"[2]|a.list[2]|string|x",
		`k.y|["k.y"]|number|-2e3`,
	}
	if !reflect.DeepEqual(got, wantTree) {
		t.Fatalf("tree\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantTree, "\n"))
	}
	if r.Tree() != root {
		t.Fatal("Tree is rebuilt on every call")
	}
}

func TestDecodeText(t *testing.T) {
	long := strings.Repeat("é", MaxLineBytes) // 2 bytes a rune: must wrap between runes
	tests := []struct {
		name    string
		payload string
		want    []string
	}{
		{"CRLF and tab", "a\tb\r\nc", []string{"a\tb", "c"}},
		{"control characters made visible", "bell\x07 nul\x00 del\x7f", []string{"bell␇ nul␀ del␡"}},
		{"final newline starts no line", "one\n", []string{"one"}},
		{"blank lines kept", "a\n\n\nb", []string{"a", "", "", "b"}},
		{"BOM dropped", "\xef\xbb\xbfhi", []string{"hi"}},
		{"long line wrapped at a rune boundary", long, []string{long[:MaxLineBytes], long[MaxLineBytes:]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(Text, "", []byte(tt.payload), "")
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if got := r.Lines(0, 100); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("lines %q, want %q", got, tt.want)
			}
			if r.LineCount() != len(tt.want) {
				t.Fatalf("LineCount %d, want %d", r.LineCount(), len(tt.want))
			}
		})
	}
}

// Paging must give the same lines as splitting the whole text, from any
// start, across the pager's checkpoints.
func TestLinesPaging(t *testing.T) {
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, "line %d %s\n", i, strings.Repeat("x", i%7))
	}
	all := strings.Split(strings.TrimSuffix(sb.String(), "\n"), "\n")
	r := Decode(Text, "", []byte(sb.String()), "")
	if r.LineCount() != 1000 {
		t.Fatalf("LineCount %d", r.LineCount())
	}
	for _, w := range []struct{ from, n int }{{0, 10}, {63, 3}, {64, 1}, {127, 130}, {990, 50}, {-5, 8}, {1000, 5}, {500, 0}} {
		got := r.Lines(w.from, w.n)
		lo, hi := max(0, w.from), min(1000, w.from+w.n)
		var want []string
		if lo < hi {
			want = all[lo:hi]
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Lines(%d, %d) = %q…, want %q…", w.from, w.n, first(got), first(want))
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return "<none>"
	}
	return s[0]
}

func TestDecodeCBOR(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		text string
	}{
		{"map order kept", "a2616201616102", "{\n  \"b\": 1,\n  \"a\": 2\n}\n"},
		{"nested", "a26161016162820203", "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ]\n}\n"},
		// RFC 8949 Appendix A examples.
		{"epoch time tag", "c11a514b67b0", "1(\"2013-03-21T20:04:00Z\")\n"},
		{"bignum", "c249010000000000000000", "2(18446744073709551616)\n"},
		{"half float", "f93e00", "1.5\n"},
		{"single float at its precision", "fa3dcccccd", "0.1\n"},
		{"double", "fb3ff199999999999a", "1.1\n"},
		{"negative", "3903e7", "-1000\n"},
		{"bytes", "4401020304", "h'01020304'\n"},
		{"undefined", "f7", "undefined\n"},
		{"simple value", "f0", "simple(16)\n"},
		{"indefinite array", "9f0102ff", "[\n  1,\n  2\n]\n"},
		{"indefinite string", "7f657374726561646d696e67ff", "\"streaming\"\n"},
		{"integer keys", "a201020304", "{\n  \"1\": 2,\n  \"3\": 4\n}\n"},
		{"unknown tag around a map", "d82aa1616101", "42({\n  \"a\": 1\n})\n"},
		{"empty map", "a0", "{}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(CBOR, "", unhex(t, tt.hex), "")
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if r.Text != tt.text {
				t.Fatalf("text %q, want %q", r.Text, tt.text)
			}
			if r.Tree() == nil {
				t.Fatal("no tree")
			}
		})
	}
}

func TestDecodeMessagePack(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		text string
	}{
		{"map order kept", "82a16201a16102", "{\n  \"b\": 1,\n  \"a\": 2\n}\n"},
		{"float64 and bool", "82a474656d70cb4035800000000000a176c3", "{\n  \"temp\": 21.5,\n  \"v\": true\n}\n"},
		{"float32 at its precision", "ca3dcccccd", "0.1\n"},
		{"ints of every width", "97ff7fd080cc3fcd0100ce00010000cfffffffffffffffff",
			"[\n  -1,\n  127,\n  -128,\n  63,\n  256,\n  65536,\n  18446744073709551615\n]\n"},
		{"nil, bin, str8", "93c0c4020102d90161", "[\n  null,\n  h'0102',\n  \"a\"\n]\n"},
		{"timestamp extension", "d6ff00000000", "\"1970-01-01T00:00:00Z\"\n"},
		{"other extension", "d405ff", "ext(5, h'ff')\n"},
		{"malformed timestamp shown raw", "c703ff010203", "ext(-1, h'010203')\n"},
		{"integer key", "81010a", "{\n  \"1\": 10\n}\n"},
		{"array16 empty", "dc0000", "[]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(MessagePack, "", unhex(t, tt.hex), "")
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if r.Text != tt.text {
				t.Fatalf("text %q, want %q", r.Text, tt.text)
			}
		})
	}
}

// The library recurses without limit; deep nesting must be an error, not a
// stack overflow that kills the process.
func TestDecodeDeepNestingIsAnError(t *testing.T) {
	deep := func(b byte, n int, leaf ...byte) []byte {
		return append(bytes.Repeat([]byte{b}, n), leaf...)
	}
	tests := []struct {
		name    string
		f       Format
		payload []byte
		wantErr string
	}{
		{"MessagePack arrays", MessagePack, deep(0x91, 1<<20, 0xc0), "nested more than"},
		{"MessagePack maps", MessagePack, deep(0x81, 1<<20, 0xc0), "not MessagePack"},
		{"CBOR arrays", CBOR, deep(0x81, 1<<20, 0xf6), "not CBOR"},
		{"CBOR tags", CBOR, deep(0xc6, 1<<20, 0xf6), "not CBOR"},
		{"JSON arrays", JSON, deep('[', 1<<20), "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(tt.f, "", tt.payload, "")
			if r.Err == nil || !strings.Contains(r.Err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", r.Err, tt.wantErr)
			}
			if Detect("", tt.payload, "") == tt.f {
				t.Fatalf("Detect picked %s for a payload it cannot show", tt.f)
			}
		})
	}
	// Within the bound, nesting decodes.
	if r := Decode(MessagePack, "", deep(0x91, maxNesting, 0xc0), ""); r.Err != nil {
		t.Fatalf("nesting %d: %v", maxNesting, r.Err)
	}
}

func TestTreeIsBounded(t *testing.T) {
	n := MaxTreeNodes + 50
	var js strings.Builder
	js.WriteString("[")
	for i := range n {
		if i > 0 {
			js.WriteString(",")
		}
		js.WriteString("1")
	}
	js.WriteString("]")
	mp := []byte{0xdd, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	mp = append(mp, bytes.Repeat([]byte{0x01}, n)...)
	cb := []byte{0x9a, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	cb = append(cb, bytes.Repeat([]byte{0x01}, n)...)
	for _, tt := range []struct {
		f       Format
		payload []byte
	}{{JSON, []byte(js.String())}, {MessagePack, mp}, {CBOR, cb}} {
		t.Run(string(tt.f), func(t *testing.T) {
			r := Decode(tt.f, "", tt.payload, "")
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			root := r.Tree()
			if !root.Truncated || countNodes(root) != MaxTreeNodes {
				t.Fatalf("truncated %v, %d nodes; want true, %d", root.Truncated, countNodes(root), MaxTreeNodes)
			}
			if !strings.HasSuffix(root.Value, "+ items") {
				t.Fatalf("summary %q does not say there are more", root.Value)
			}
		})
	}
}

func TestDecodeSparkplug(t *testing.T) {
	payload := sparkplugSample(t)
	r := Decode(Auto, "spBv1.0/Plant1/DDATA/Edge1/Pump3", payload, "")
	if r.Err != nil || r.Format != SparkplugB {
		t.Fatalf("format %s err %v", r.Format, r.Err)
	}
	want := `Sparkplug B DDATA · group Plant1 · edge node Edge1 · device Pump3
timestamp: 2023-11-14T22:13:20.123Z  (1700000000123 ms)
seq: 4
metrics: 8 metrics
  Temperature: 21.5  (Float)
    alias: 3
    properties: 1 property
      engUnit: °C  (String)
  alias 7: -2  (Int16)
  Running: true  (Boolean)
  Label: line 1  (String)
  Missing: null  (Double)
  Speeds: 2 items  (Int32Array)
    [0]: 1
    [1]: -1
  Motor: instance of MotorType, 1 member  (Template)
    rpm: 1500.5  (Double)
  Table: 2 columns × 1 row  (DataSet)
    [0]: 2 columns
      id: 1  (Int32)
      name: a  (String)
`
	if r.Text != want {
		t.Fatalf("text\n%s\nwant\n%s", r.Text, want)
	}
	// Forced on a non-Sparkplug topic, the payload still decodes.
	r = Decode(SparkplugB, "plant/pump", payload, "")
	if r.Err != nil || !strings.HasPrefix(r.Text, "Sparkplug B payload\n") {
		t.Fatalf("off-topic: %v %q", r.Err, r.Text)
	}
	// A value that does not fit its datatype is shown raw, with the reason.
	bad := sparkplugSampleWith(t, "Odd", 9, "x") // Float datatype, string value
	r = Decode(SparkplugB, "", bad, "")
	if r.Err != nil || !strings.Contains(r.Text, "Odd: x  (Float — datatype Float needs float_value, got string_value)") {
		t.Fatalf("mismatch: %v\n%s", r.Err, r.Text)
	}
}

func TestDecodeBase64(t *testing.T) {
	tests := []struct {
		name      string
		payload   string
		inner     Format
		wantLines []string
	}{
		{"JSON inside", base64.StdEncoding.EncodeToString([]byte(`{"a":1}`)), JSON, []string{"{", `  "a": 1`, "}"}},
		{"wrapped, URL alphabet, unpadded", "aGVs\nbG8_", Text, []string{"hello?"}},
		{"text inside", base64.RawStdEncoding.EncodeToString([]byte("hi there")), Text, []string{"hi there"}},
		{"binary inside", base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}), Hex, HexLines([]byte{0, 1, 2, 0xff}, 0, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(Base64, "", []byte(tt.payload), "")
			if r.Err != nil || r.Format != Base64 || r.Inner != tt.inner {
				t.Fatalf("err %v format %s inner %s", r.Err, r.Format, r.Inner)
			}
			if got := r.Lines(0, 10); !reflect.DeepEqual(got, tt.wantLines) {
				t.Fatalf("lines %q, want %q", got, tt.wantLines)
			}
		})
	}
}

func TestNodePreview(t *testing.T) {
	n := &Node{Value: "a\nb\x01" + strings.Repeat("z", 20)}
	if got := n.Preview(6); got != "a⏎b␁zz…" {
		t.Fatalf("Preview = %q", got)
	}
	if got := (&Node{Value: "short"}).Preview(10); got != "short" {
		t.Fatalf("Preview = %q", got)
	}
}

// indentValidJSON replaces json.Indent for speed; it must agree with it.
func TestIndentMatchesEncodingJSON(t *testing.T) {
	tests := []string{
		`{"a":"quote \" and backslash \\","b":"\\"}`,
		`{"empty":{},"spaced":[ ],"nested":[{ }, [[]]]}`,
		`[1,-2.5e+10,true,false,null,"é\u00e9"]`,
		`"just a string"`,
		"  42  ",
		"{\n\t\"a\" :\r\n 1 }",
		`{"k":"a,b:c{d}[e]"}`,
	}
	for _, in := range tests {
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(in), "", "  "); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		// json.Indent copies trailing whitespace; the view ends in one newline.
		if got := indentValidJSON([]byte(in)); got != strings.TrimRight(want.String(), " \t\r\n")+"\n" {
			t.Errorf("%q:\n got %q\nwant %q", in, got, want.String())
		}
	}
}
