package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// impStore opens a store in a new directory without retention limits
// and closes it when the test ends.
func impStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{MaxAge: -1, MaxBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// impRecords has every field set somewhere: text and binary
// payloads, payloads with newlines, quotes, backslashes, control
// characters, HTML characters and non-ASCII text, empty payloads, MQTT 5
// properties (zero values that must stay present, user properties in an
// order that is not sorted, with repeated keys), and times with
// nanoseconds, before 1970 and in other zones.
func impRecords() []message.Message {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	zero8, one8 := byte(0), byte(1)
	zero32, big32 := uint32(0), uint32(4294967295)
	return []message.Message{
		{Time: at, Source: "broker", ClientID: "meter-1", Protocol: 4, Topic: "plant/a/power", Payload: []byte(`{"w": 1500}`), QoS: 1},
		{Time: at.Add(1), Source: "broker", ClientID: "cam", Protocol: 5, Topic: "cam/1/jpeg", Payload: []byte{0xff, 0xd8, 0xff, 0x00, 0x10, '\n', '"'}, QoS: 2, Retain: true,
			PayloadFormat: &zero8, MessageExpiry: &zero32},
		{Time: at.Add(2), Source: "remote: lab", ClientID: "", Protocol: 5, Topic: "text/tricky",
			Payload:       []byte("line 1\nline 2\r\n\t\"quoted\" \\ back\\slash </script> & <b> \u2028 \u0000 \x7f é 漢字 🌡 \ufffd"),
			PayloadFormat: &one8, ContentType: "text/plain; charset=utf-8", MessageExpiry: &big32, ResponseTopic: "reply/to/me",
			CorrelationData: []byte{0, 1, 2, 0xfe, 0xff},
			UserProps:       []message.UserProp{{Key: "z", Value: "last"}, {Key: "a", Value: "first"}, {Key: "z", Value: "again"}, {Key: "", Value: ""}, {Key: "ключ", Value: "значение \"q\"\n"}}},
		{Time: at.Add(3), Source: "broker", ClientID: "empty", Protocol: 3, Topic: "$SYS/empty", QoS: 0},
		{Time: time.Date(1969, 7, 20, 20, 17, 40, 1, time.FixedZone("", -5*3600)), Source: "broker", ClientID: "old", Protocol: 4, Topic: "a", Payload: []byte("moon")},
		{Time: at.Add(4), Source: "broker", ClientID: "inline", Protocol: 0, Topic: "/leading/slash//empty/levels/", Payload: []byte("\xc3\x28 not utf-8"), CorrelationData: []byte("text")},
		{Time: at.Add(5), Source: "broker", ClientID: "c", Protocol: 5, Topic: "t", Payload: bytes.Repeat([]byte("x\n"), 100_000), UserProps: []message.UserProp{{Key: "k", Value: "v"}}},
	}
}

func impWriteJSONL(t testing.TB, recs []message.Message) []byte {
	t.Helper()
	var b bytes.Buffer
	w := NewJSONLWriter(&b)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func impReadJSONL(t *testing.T, data []byte) []message.Message {
	t.Helper()
	rd := NewJSONLReader(bytes.NewReader(data), "test.jsonl")
	var recs []message.Message
	for {
		r, err := rd.Read()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
}

// The reader is the inverse of the writer: every field of every record
// comes back equal (the time as the same instant), and writing what was
// read gives the same bytes.
func TestJSONLReaderInvertsWriter(t *testing.T) {
	want := impRecords()
	for i := range want {
		want[i].Seq = uint64(i*7 + 1)
	}
	data := impWriteJSONL(t, want)
	got := impReadJSONL(t, data)
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time) {
			t.Errorf("record %d: time %v, want %v", i, g.Time, w.Time)
		}
		g.Time, w.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("record %d:\n got %.300s\nwant %.300s", i, fmt.Sprintf("%+v", g), fmt.Sprintf("%+v", w))
		}
	}
	if again := impWriteJSONL(t, got); !bytes.Equal(again, data) {
		t.Fatalf("writing what was read changed the bytes: %s", firstDiff(again, data))
	}
}

// Records go into a store, out to a JSONL file, into a fresh store and out
// again: the two files are the same bytes. Both stores are fresh, so the
// imported records get the same seqs as the originals and even the seq
// field matches. Imported into a store that already holds records, they
// get new seqs, and the files then differ only in the seq field.
func TestImportFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := impStore(t)
	recs := impRecords()
	for _, r := range recs {
		if err := src.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(dir, "first.jsonl")
	if n, err := ExportFile(ctx, src, Query{}, "jsonl", first, nil); err != nil || n != int64(len(recs)) {
		t.Fatalf("export: %d records, %v", n, err)
	}

	dst := impStore(t)
	var reports []ImportProgress
	n, err := ImportFile(ctx, dst, first, func(p ImportProgress) { reports = append(reports, p) })
	if err != nil || n != int64(len(recs)) {
		t.Fatalf("import: %d records, %v", n, err)
	}
	second := filepath.Join(dir, "second.jsonl")
	if _, err := ExportFile(ctx, dst, Query{}, "jsonl", second, nil); err != nil {
		t.Fatal(err)
	}
	a, b := impReadFile(t, first), impReadFile(t, second)
	if !bytes.Equal(a, b) {
		t.Fatalf("export after import differs from the original export: %s", firstDiff(b, a))
	}
	if !bytes.HasPrefix(a, []byte(`{"seq":1,`)) {
		t.Fatalf("first export starts %.40q; want seq 1", a)
	}
	fi, _ := os.Stat(first)
	last := reports[len(reports)-1]
	if reports[0] != (ImportProgress{Checking: true, Total: fi.Size()}) || last != (ImportProgress{Done: fi.Size(), Total: fi.Size(), Records: n}) {
		t.Fatalf("progress reports %+v", reports)
	}

	// Again, into a store that is no longer empty: new seqs, all else equal.
	if n, err := ImportFile(ctx, dst, first, nil); err != nil || n != int64(len(recs)) {
		t.Fatalf("second import: %d records, %v", n, err)
	}
	if _, err := ExportFile(ctx, dst, Query{}, "jsonl", second, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(impReadFile(t, second)), "\n")
	lines = lines[:len(lines)-1] // after the last newline
	if len(lines) != 2*len(recs) {
		t.Fatalf("%d lines after a second import, want %d", len(lines), 2*len(recs))
	}
	seq := regexp.MustCompile(`(?m)^\{"seq":(\d+),`)
	again := strings.Join(lines[len(recs):], "")
	if again == string(a) {
		t.Fatal("second import got the same seqs as the first")
	}
	if seq.ReplaceAllString(again, "") != seq.ReplaceAllString(string(a), "") {
		t.Fatalf("second import differs from the original in more than the seq: %s",
			firstDiff([]byte(seq.ReplaceAllString(again, "")), []byte(seq.ReplaceAllString(string(a), ""))))
	}
	if m := seq.FindStringSubmatch(lines[len(recs)]); m == nil || m[1] != fmt.Sprint(len(recs)+1) {
		t.Fatalf("first record of the second import: %.40q; want seq %d", lines[len(recs)], len(recs)+1)
	}
}

// firstDiff describes where got first differs from want, briefly.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) {
			return fmt.Sprintf("line %d is\n%.300q\nwant\n%.300q", i+1, gl, wl)
		}
	}
	return "no difference"
}

func impReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func impWriteFile(t *testing.T, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func impStored(t *testing.T, s *Store) []message.Message {
	t.Helper()
	var all []message.Message
	q := Query{}
	for {
		recs, next, err := s.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
		if next == "" {
			return all
		}
		q.Cursor = next
	}
}

const impGoodLine = `{"seq":1,"time":"2026-11-22T10:00:00Z","source":"broker","client_id":"c","protocol":4,"topic":"a/b","payload":"hi","qos":0,"retain":false}`

// impBadLines are lines the importer must refuse, each with the field it
// must name and what its error must say; the fuzz target starts from them.
var impBadLines = []struct {
	name, line, field string
	want              []string // in the error text
}{
	{"bad JSON", `{"time": "2026-11-22T10:00:00Z", "topic": "a" "payload": "x"}`, "",
		[]string{"not valid JSON at byte 47", "invalid character '\"' after object key:value pair", "one JSON object"}},
	{"not an object", `["time", "topic"]`, "", []string{"JSON array, not an object"}},
	{"bad base64 payload", `{"time":"2026-11-22T10:00:00Z","topic":"a","payload":"AAE=x","payload_base64":true}`, "payload",
		[]string{`field "payload" is not valid base64 (bad data at character 5)`, "payload_base64"}},
	{"unpadded base64 payload", `{"time":"2026-11-22T10:00:00Z","topic":"a","payload":"AAE","payload_base64":true}`, "payload",
		[]string{`field "payload" is not valid base64`, "with padding"}},
	{"bad base64 correlation data", `{"time":"2026-11-22T10:00:00Z","topic":"a","correlation_data":"%%%%"}`, "correlation_data",
		[]string{`field "correlation_data" is not valid base64`}},
	{"wildcard topic", `{"time":"2026-11-22T10:00:00Z","topic":"a/+/b"}`, "topic",
		[]string{`field "topic" is "a/+/b", with the wildcard '+' at byte 3`, "without the wildcards"}},
	{"multi-level wildcard topic", `{"time":"2026-11-22T10:00:00Z","topic":"a/#"}`, "topic", []string{`wildcard '#' at byte 3`}},
	{"empty topic", `{"time":"2026-11-22T10:00:00Z","topic":""}`, "topic", []string{`field "topic" is empty`}},
	{"NUL in topic", `{"time":"2026-11-22T10:00:00Z","topic":"a\u0000b"}`, "topic", []string{"NUL character at byte 2"}},
	{"topic not a string", `{"time":"2026-11-22T10:00:00Z","topic":7}`, "topic", []string{`field "topic" is a JSON number, not a string`}},
	{"qos 3", `{"time":"2026-11-22T10:00:00Z","topic":"a","qos":3}`, "qos", []string{`field "qos" is 3`, "0, 1 or 2"}},
	{"qos as a string", `{"time":"2026-11-22T10:00:00Z","topic":"a","qos":"1"}`, "qos", []string{`field "qos" is a JSON string, not a number`}},
	{"qos negative", `{"time":"2026-11-22T10:00:00Z","topic":"a","qos":-1}`, "qos", []string{`field "qos" is -1, not a whole number`}},
	{"qos fraction", `{"time":"2026-11-22T10:00:00Z","topic":"a","qos":1.0}`, "qos", []string{`field "qos" is 1.0`}},
	{"protocol 2", `{"time":"2026-11-22T10:00:00Z","topic":"a","protocol":2}`, "protocol", []string{`field "protocol" is 2, not an MQTT protocol level`}},
	{"protocol 300", `{"time":"2026-11-22T10:00:00Z","topic":"a","protocol":300}`, "protocol", []string{`field "protocol" is 300, too large`}},
	{"message expiry too large", `{"time":"2026-11-22T10:00:00Z","topic":"a","message_expiry":4294967296}`, "message_expiry", []string{"too large", "0 to 4294967295"}},
	{"retain as a string", `{"time":"2026-11-22T10:00:00Z","topic":"a","retain":"true"}`, "retain", []string{`field "retain" is a JSON string, not true or false`}},
	{"unknown field", `{"time":"2026-11-22T10:00:00Z","topic":"a","qso":1}`, "qso", []string{`unknown field "qso"`, "qos"}},
	{"field in another case", `{"time":"2026-11-22T10:00:00Z","Topic":"a"}`, "Topic", []string{`unknown field "Topic"`}},
	{"duplicate field", `{"time":"2026-11-22T10:00:00Z","topic":"a","topic":"b"}`, "topic", []string{`field "topic" appears twice`}},
	{"missing time", `{"topic":"a","payload":"x"}`, "time", []string{`field "time" is missing`}},
	{"missing topic", `{"time":"2026-11-22T10:00:00Z"}`, "topic", []string{`field "topic" is missing`}},
	{"null", `{"time":"2026-11-22T10:00:00Z","topic":"a","payload_format":null}`, "payload_format", []string{`field "payload_format" is null`}},
	{"time without zone", `{"time":"2026-11-22 10:00:00","topic":"a"}`, "time", []string{`field "time" is "2026-11-22 10:00:00", not an RFC 3339 time`}},
	{"time out of range", `{"time":"0001-01-01T00:00:00Z","topic":"a"}`, "time", []string{"outside the years 1678 to 2262"}},
	{"lone surrogate", `{"time":"2026-11-22T10:00:00Z","topic":"a","payload":"\ud800"}`, "payload", []string{"UTF-16 surrogate"}},
	{"invalid UTF-8", "{\"time\":\"2026-11-22T10:00:00Z\",\"topic\":\"a\",\"payload\":\"\xff\"}", "", []string{"invalid UTF-8 at byte 55", "base64"}},
	{"user property not an object", `{"time":"2026-11-22T10:00:00Z","topic":"a","user_properties":["k=v"]}`, "user_properties",
		[]string{"user property 1 is a JSON string, not an object", `[{"Key": "k", "Value": "v"}`}},
	{"user property without value", `{"time":"2026-11-22T10:00:00Z","topic":"a","user_properties":[{"Key":"a","Value":"b"},{"Key":"k"}]}`, "user_properties",
		[]string{`user property 2 has no "Value"`}},
	{"user property extra field", `{"time":"2026-11-22T10:00:00Z","topic":"a","user_properties":[{"Key":"a","Value":"b","x":1}]}`, "user_properties",
		[]string{`user property 1 has the unknown field "x"`}},
}

// Each kind of bad line fails the import with FILE:LINE, the field, what is
// wrong and what to do; nothing is imported, not even the good lines
// before it.
func TestImportFileRejectsBadLines(t *testing.T) {
	cases := impBadLines

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := impStore(t)
			path := impWriteFile(t, impGoodLine+"\n\n"+tc.line+"\n"+impGoodLine+"\n")
			n, err := ImportFile(context.Background(), s, path, nil)
			var le *LineError
			if !errors.As(err, &le) || n != 0 || errors.Is(err, ErrRetention) {
				t.Fatalf("imported %d, err %v; want a *LineError and nothing imported", n, err)
			}
			msg := err.Error()
			if le.Line != 3 || le.Field != tc.field || !strings.HasPrefix(msg, path+":3: ") || !strings.Contains(msg, "nothing was imported") {
				t.Errorf("error %q (line %d, field %q); want it to start with %s:3: and name field %q", msg, le.Line, le.Field, path, tc.field)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if le.Fix == "" || !strings.Contains(msg, "; "+le.Fix) {
				t.Errorf("error %q has no advice", msg)
			}
			if recs := impStored(t, s); len(recs) != 0 {
				t.Errorf("%d records imported from a bad file", len(recs))
			}
		})
	}
}

// A file cut short in the middle of its last record says so.
func TestImportFileTruncatedLastLine(t *testing.T) {
	data := impWriteJSONL(t, impRecords())
	cut := data[:len(data)-30]
	lines := bytes.Count(cut, []byte("\n")) + 1
	s := impStore(t)
	path := impWriteFile(t, string(cut))
	n, err := ImportFile(context.Background(), s, path, nil)
	if err == nil || n != 0 || !strings.HasPrefix(err.Error(), fmt.Sprintf("%s:%d: the last line ends in the middle of a JSON object", path, lines)) ||
		!strings.Contains(err.Error(), "cut short") || !strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("imported %d, err %v", n, err)
	}
	if recs := impStored(t, s); len(recs) != 0 {
		t.Fatalf("%d records imported from a truncated file", len(recs))
	}

	// A complete last line without a newline is fine.
	path = impWriteFile(t, string(bytes.TrimSuffix(data, []byte("\n"))))
	if n, err := ImportFile(context.Background(), s, path, nil); err != nil || n != int64(len(impRecords())) {
		t.Fatalf("last line without newline: imported %d, %v", n, err)
	}
}

// With several bad lines the error names the first and lists the others.
func TestImportFileListsOtherBadLines(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 20; i++ {
		if i%3 == 0 {
			b.WriteString("{oops\n")
		} else {
			b.WriteString(impGoodLine + "\n")
		}
	}
	s := impStore(t)
	path := impWriteFile(t, b.String())
	_, err := ImportFile(context.Background(), s, path, nil)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: ") || !strings.HasSuffix(err.Error(), "(nothing was imported; 5 more lines have problems: 6, 9, 12, 15, 18)") {
		t.Fatalf("err %v", err)
	}
}

// The reader goes on after a bad line.
func TestJSONLReaderContinuesAfterBadLine(t *testing.T) {
	rd := NewJSONLReader(strings.NewReader("\ufeff"+impGoodLine+"\r\n{bad\n  \n"+impGoodLine), "x")
	var got []string
	for {
		r, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			got = append(got, fmt.Sprintf("%d:error", rd.Line()))
			continue
		}
		got = append(got, fmt.Sprintf("%d:%s", rd.Line(), r.Payload))
	}
	if strings.Join(got, " ") != "1:hi 2:error 4:hi" {
		t.Fatalf("read %v", got)
	}
}

// A line longer than any record can be is refused without reading it all
// into memory, and the reader goes on with the next line.
func TestJSONLReaderLineTooLong(t *testing.T) {
	defer func(n int) { maxLineBytes = n }(maxLineBytes)
	maxLineBytes = 200 << 10
	long := `{"time":"2026-11-22T10:00:00Z","topic":"a","payload":"` + strings.Repeat("x", 300<<10) + `"}`
	in := impGoodLine + "\n" + long + "\n" + impGoodLine + "\n" + long
	rd := NewJSONLReader(strings.NewReader(in), "big.jsonl")
	var got []string
	for {
		r, err := rd.Read()
		if err == io.EOF {
			break
		}
		var le *LineError
		switch {
		case errors.As(err, &le) && strings.HasPrefix(err.Error(), fmt.Sprintf("big.jsonl:%d: the line is longer than 204800 bytes", rd.Line())):
			got = append(got, fmt.Sprintf("%d:too long", rd.Line()))
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, fmt.Sprintf("%d:%s", rd.Line(), r.Payload))
		}
	}
	if strings.Join(got, " ") != "1:hi 2:too long 3:hi 4:too long" || rd.Offset() != int64(len(in)) {
		t.Fatalf("read %v, offset %d of %d", got, rd.Offset(), len(in))
	}
}

// Records the store's retention would delete right away are refused.
func TestImportFileRefusesRecordsRetentionWouldDelete(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	recs := []message.Message{
		{Time: now.Add(-time.Minute), Topic: "a", Protocol: 4},
		{Time: now.Add(-2 * time.Hour), Topic: "a", Protocol: 4},
		{Time: now.Add(-3 * time.Hour), Topic: "a", Protocol: 4},
	}
	path := impWriteFile(t, string(impWriteJSONL(t, recs)))
	n, err := ImportFile(context.Background(), s, path, nil)
	var le *LineError
	if !errors.Is(err, ErrRetention) || !errors.As(err, &le) || le.Line != 3 || le.Field != "time" || n != 0 ||
		!strings.HasPrefix(err.Error(), path+":3: 2 of the 3 records are older than the capture keeps records (maximum age 1h;") ||
		!strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("imported %d, err %v", n, err)
	}
	if recs := impStored(t, s); len(recs) != 0 {
		t.Fatalf("%d records imported", len(recs))
	}
	path = impWriteFile(t, string(impWriteJSONL(t, recs[:1])))
	if n, err := ImportFile(context.Background(), s, path, nil); err != nil || n != 1 {
		t.Fatalf("recent record: imported %d, %v", n, err)
	}
}

// More records than the store's size budget are refused, since retention
// would delete the oldest of them right away.
func TestImportFileRefusesMoreThanMaxBytes(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MaxBytes: 10_000, MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := impMany(200) // about 100 bytes each
	path := impWriteFile(t, string(impWriteJSONL(t, recs)))
	n, err := ImportFile(context.Background(), s, path, nil)
	if !errors.Is(err, ErrRetention) || n != 0 || !strings.Contains(err.Error(), path+": its 200 records take") ||
		!strings.Contains(err.Error(), "more than the capture keeps (maximum size 9.8KiB)") || !strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("imported %d, err %v", n, err)
	}
	if recs := impStored(t, s); len(recs) != 0 {
		t.Fatalf("%d records imported", len(recs))
	}
	path = impWriteFile(t, string(impWriteJSONL(t, recs[:50])))
	if n, err := ImportFile(context.Background(), s, path, nil); err != nil || n != 50 {
		t.Fatalf("50 records: imported %d, %v", n, err)
	}
}

func TestImportFileEmptyAndMissing(t *testing.T) {
	s := impStore(t)
	if n, err := ImportFile(context.Background(), s, impWriteFile(t, "\n\n"), nil); n != 0 || err != nil {
		t.Fatalf("empty file: %d, %v", n, err)
	}
	missing := filepath.Join(t.TempDir(), "nope.jsonl")
	if _, err := ImportFile(context.Background(), s, missing, nil); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := ImportFile(context.Background(), s, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("directory: %v", err)
	}
}

func impMany(n int) []message.Message {
	base := time.Now().Add(-time.Minute)
	recs := make([]message.Message, n)
	for i := range recs {
		recs[i] = message.Message{Time: base.Add(time.Duration(i) * time.Microsecond), Source: "broker", ClientID: "dev",
			Protocol: 5, Topic: fmt.Sprintf("plant/%d/power", i%10), Payload: fmt.Appendf(nil, `{"n":%d,"w":1500.5}`, i), QoS: 1,
			UserProps: []message.UserProp{{Key: "unit", Value: "W"}}}
	}
	return recs
}

// Cancelling while the file is checked imports nothing; cancelling later
// keeps what was imported and says how much that is.
func TestImportFileCancel(t *testing.T) {
	path := impWriteFile(t, string(impWriteJSONL(t, impMany(1000))))

	t.Run("before", func(t *testing.T) {
		s := impStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		n, err := ImportFile(ctx, s, path, nil)
		if !errors.Is(err, context.Canceled) || n != 0 || err == nil || !strings.Contains(err.Error(), "cancelled") || !strings.Contains(err.Error(), "nothing was imported") {
			t.Fatalf("imported %d, err %v", n, err)
		}
		if recs := impStored(t, s); len(recs) != 0 {
			t.Fatalf("%d records imported", len(recs))
		}
	})
	t.Run("while checking", func(t *testing.T) {
		s := impStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n, err := ImportFile(ctx, s, path, func(p ImportProgress) {
			if p.Checking && p.Records > 0 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) || n != 0 || err == nil || !strings.Contains(err.Error(), "while checking") || !strings.Contains(err.Error(), "nothing was imported") {
			t.Fatalf("imported %d, err %v", n, err)
		}
		if recs := impStored(t, s); len(recs) != 0 {
			t.Fatalf("%d records imported", len(recs))
		}
	})
	t.Run("while importing", func(t *testing.T) {
		s := impStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n, err := ImportFile(ctx, s, path, func(p ImportProgress) {
			if !p.Checking && p.Records >= 512 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) || n != 512 || err == nil || !strings.Contains(err.Error(), "cancelled after 512 of 1000 records; those 512 stay in the capture (up to line 512)") {
			t.Fatalf("imported %d, err %v", n, err)
		}
		// They were flushed before ImportFile returned.
		recs := impStored(t, s)
		if len(recs) != 512 || string(recs[511].Payload) != `{"n":511,"w":1500.5}` {
			t.Fatalf("%d records stored after cancel, want the first 512", len(recs))
		}
	})
}

// BenchmarkImport imports 100,000 small records into a fresh store per
// iteration (both passes: checking and appending, and the final flush).
func BenchmarkImport(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, impWriteJSONL(b, impMany(n)), 0o600); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		s, err := Open(b.TempDir(), Options{MaxAge: -1, MaxBytes: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		got, err := ImportFile(context.Background(), s, path, nil)
		if err != nil || got != n {
			b.Fatalf("imported %d, %v", got, err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkJSONLRead is the parsing alone.
func BenchmarkJSONLRead(b *testing.B) {
	data := impWriteJSONL(b, impMany(10_000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd := NewJSONLReader(bytes.NewReader(data), "x")
		for {
			if _, err := rd.Read(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(10_000*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// unescape decodes JSON strings as encoding/json does, except that it
// refuses unpaired surrogates (which encoding/json turns into U+FFFD).
func TestUnescapeMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		`plain`, `\"\\\/\b\f\n\r\t`, `\u0000\u001f\u007F\u00e9\u00E9`, `\u6f22\u5b57`, `\ud83c\udf21 \uD83C\uDF21`,
		`a\u2028b\u2029c`, `\ufffd`, `tail\\`, `\\u0041`, `é漢🌡 raw`,
	}
	// Every rune class, escaped the way encoding/json escapes it.
	var all []rune
	for r := rune(0); r < 0x3000; r += 7 {
		all = append(all, r)
	}
	all = append(all, 0xfffd, 0xfeff, 0x1f321, 0x10ffff)
	enc, _ := json.Marshal(string(all))
	cases = append(cases, string(enc[1:len(enc)-1]))
	for _, c := range cases {
		var want string
		if err := json.Unmarshal([]byte(`"`+c+`"`), &want); err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		got, ok := unescape([]byte(c))
		if !ok || got != want {
			t.Errorf("unescape(%.60q) = %.60q, %v; want %.60q", c, got, ok, want)
		}
	}
	for _, c := range []string{`\ud800`, `\udc00`, `x\ud800y`, `\ud800\u0041`, `\ud800\ud800`, `\udfff\ud800`, `\ud800\n`} {
		if got, ok := unescape([]byte(c)); ok {
			t.Errorf("unescape(%q) = %q, ok; want it refused", c, got)
		}
	}
}
