package capture

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/iotstudio/iotstudio/engine/message"
)

// The JSONL importer is the most complex parser in the tree and reads
// files from anywhere. Whatever the input: it never panics and always
// ends; every line it accepts is a record that writes back to a line it
// reads as the same record; every line it refuses gets a *LineError
// naming that line, with what is wrong and what to do.
func FuzzJSONLReader(f *testing.F) {
	// Every line of the round-trip test's records but the 200 kB one, which
	// would slow every mutation down; and all of them as one file.
	var small []byte
	for _, line := range bytes.SplitAfter(impWriteJSONL(f, impRecords()), []byte("\n")) {
		if len(line) < 4<<10 {
			f.Add(line)
			small = append(small, line...)
		}
	}
	f.Add(small)
	f.Add([]byte(impGoodLine + "\n"))
	f.Add([]byte("\xef\xbb\xbf" + impGoodLine + "\r\n\n  \t\n" + impGoodLine)) // BOM, CRLF, blank lines, no final newline
	f.Add([]byte(impGoodLine[:len(impGoodLine)/2]))                            // cut short
	for _, bad := range impBadLines {
		f.Add([]byte(impGoodLine + "\n" + bad.line + "\n" + impGoodLine + "\n"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewJSONLReader(bytes.NewReader(data), "fuzz.jsonl")
		lines := bytes.Count(data, []byte("\n")) + 1
		for reads := 0; ; reads++ {
			if reads > lines {
				t.Fatalf("%d reads of %d lines and no io.EOF", reads, lines)
			}
			r, err := rd.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				checkLineError(t, err, rd.Line(), lines)
				continue
			}
			checkRoundTrip(t, r, rd.Line())
		}
	})
}

// checkLineError asserts that a refused line's error names it.
func checkLineError(t *testing.T, err error, line, lines int) {
	t.Helper()
	var le *LineError
	if !errors.As(err, &le) {
		t.Fatalf("line %d: %T %v, want a *LineError", line, err, err)
	}
	if le.File != "fuzz.jsonl" || le.Line != line || le.Line < 1 || le.Line > lines {
		t.Fatalf("error %q names %s:%d, want fuzz.jsonl:%d (of %d lines)", err, le.File, le.Line, line, lines)
	}
	if le.Problem == "" || le.Fix == "" || !strings.HasPrefix(err.Error(), "fuzz.jsonl:") {
		t.Fatalf("line %d: error %q lacks what is wrong or what to do", line, err)
	}
}

// checkRoundTrip asserts that an accepted record survives being written
// and read again.
func checkRoundTrip(t *testing.T, r message.Message, line int) {
	t.Helper()
	var b bytes.Buffer
	w := NewJSONLWriter(&b)
	if err := w.Write(r); err != nil {
		t.Fatalf("line %d was accepted, but writing it back fails: %v", line, err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	again, err := NewJSONLReader(bytes.NewReader(b.Bytes()), "again.jsonl").Read()
	if err != nil {
		t.Fatalf("line %d was accepted, but what it writes back is refused: %v\n%s", line, err, b.Bytes())
	}
	if !again.Time.Equal(r.Time) {
		t.Fatalf("line %d: time %v comes back as %v", line, r.Time, again.Time)
	}
	r.Time = again.Time
	if !reflect.DeepEqual(again, r) {
		t.Fatalf("line %d does not round-trip:\n read %+v\nagain %+v", line, r, again)
	}
}
