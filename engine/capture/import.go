package capture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/message"
)

// LineError is a problem with one line of a JSONL file being read: what is
// wrong, where, and what to do about it. Its text reads
//
//	FILE:LINE: what is wrong; what to do
type LineError struct {
	File    string // the name given to NewJSONLReader
	Line    int    // 1-based
	Field   string // the JSON field at fault; "" when it is the line as a whole
	Problem string // what is wrong, naming the field if there is one
	Fix     string // what to do
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %s; %s", e.File, e.Line, e.Problem, e.Fix)
}

// fixBadLine is the advice for a line that is wrong in itself.
const fixBadLine = "correct or delete that line and import again"

// maxLineBytes bounds one line, so that a file that is not JSON Lines
// (one huge line) cannot exhaust memory: the longest record the store holds,
// with every payload byte escaped as \u00XX, plus room for the other fields.
// (A variable for tests.)
var maxLineBytes = 6*maxRecordSize + 1<<20

// jsonlFields are the fields toJSON writes, in the order it writes them.
// A field's index is its bit in a record's set of seen fields.
var jsonlFields = [...]string{
	"seq", "time", "source", "client_id", "protocol", "topic", "payload", "payload_base64", "qos", "retain",
	"payload_format", "content_type", "message_expiry", "response_topic", "correlation_data", "user_properties",
}

const (
	jfSeq = iota
	jfTime
	jfSource
	jfClientID
	jfProtocol
	jfTopic
	jfPayload
	jfPayloadBase64
	jfQoS
	jfRetain
	jfPayloadFormat
	jfContentType
	jfMessageExpiry
	jfResponseTopic
	jfCorrelationData
	jfUserProps
)

func jsonlFieldIndex(key []byte) int {
	switch string(key) {
	case "seq":
		return jfSeq
	case "time":
		return jfTime
	case "source":
		return jfSource
	case "client_id":
		return jfClientID
	case "protocol":
		return jfProtocol
	case "topic":
		return jfTopic
	case "payload":
		return jfPayload
	case "payload_base64":
		return jfPayloadBase64
	case "qos":
		return jfQoS
	case "retain":
		return jfRetain
	case "payload_format":
		return jfPayloadFormat
	case "content_type":
		return jfContentType
	case "message_expiry":
		return jfMessageExpiry
	case "response_topic":
		return jfResponseTopic
	case "correlation_data":
		return jfCorrelationData
	case "user_properties":
		return jfUserProps
	}
	return -1
}

// JSONLReader reads the records JSONLWriter writes: it is the exact inverse
// of that encoding (the payload as text, or base64 when "payload_base64" is
// true; correlation data in base64; user properties in order; the
// presence of payload_format and message_expiry; time to the nanosecond).
//
// It is strict, so that nothing is lost or guessed: a line must be one JSON
// object whose fields are those JSONLWriter writes, each at most once and of
// the right type; "time" and "topic" are required, the others default to
// their zero value. Blank lines are skipped. Every problem is a *LineError
// naming the line and, where there is one, the field.
type JSONLReader struct {
	name string
	br   *bufio.Reader
	line int
	off  int64 // bytes consumed
	long []byte
	err  error // sticky: a read error or io.EOF
}

// NewJSONLReader reads JSON Lines from r; name (usually the file name) is
// used in errors.
func NewJSONLReader(r io.Reader, name string) *JSONLReader {
	return &JSONLReader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
}

// Line returns the number of the line the last Read read (1-based).
func (j *JSONLReader) Line() int { return j.line }

// Offset returns how many bytes of the input the reader has consumed.
func (j *JSONLReader) Offset() int64 { return j.off }

// Read returns the next record, with Seq as written in the file (0 if the
// line has none). At the end of the input it returns io.EOF. A bad line
// returns a *LineError and the next Read continues with the line after it;
// an error reading the input is returned by every later Read.
func (j *JSONLReader) Read() (message.Message, error) {
	for {
		if j.err != nil {
			return message.Message{}, j.err
		}
		line, complete, err := j.readLine()
		if le, ok := err.(*LineError); ok {
			return message.Message{}, le // too long; the next Read goes on after it
		}
		if err != nil {
			j.err = err
			if err != io.EOF {
				j.err = fmt.Errorf("%s: read error after line %d: %w", j.name, j.line, err)
			}
			return message.Message{}, j.err
		}
		j.line++
		if j.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
		}
		if len(bytes.TrimLeft(line, " \t\r\n")) == 0 {
			continue
		}
		return j.parse(line, complete)
	}
}

// readLine returns the next line without its newline; complete is false
// for a last line that does not end with one. The line may alias the
// reader's buffer until the next call.
func (j *JSONLReader) readLine() (line []byte, complete bool, err error) {
	b, err := j.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		j.long = append(j.long[:0], b...)
		for err == bufio.ErrBufferFull {
			if len(j.long) > maxLineBytes {
				j.off += int64(len(j.long))
				// Skip the rest of the line so that a caller that goes on
				// reads the next one.
				for err == bufio.ErrBufferFull {
					b, err = j.br.ReadSlice('\n')
					j.off += int64(len(b))
				}
				j.line++
				return nil, false, &LineError{File: j.name, Line: j.line,
					Problem: fmt.Sprintf("the line is longer than %d bytes, longer than any record the capture can hold", maxLineBytes),
					Fix:     "this does not look like a capture export (JSON Lines, one record per line); check the file"}
			}
			b, err = j.br.ReadSlice('\n')
			j.long = append(j.long, b...)
		}
		b = j.long
	}
	j.off += int64(len(b))
	switch {
	case err == io.EOF && len(b) > 0:
		return b, false, nil
	case err != nil:
		return nil, false, err
	}
	return b[:len(b)-1], true, nil
}

func (j *JSONLReader) fail(field, problem, fix string) *LineError {
	if fix == "" {
		fix = fixBadLine
	}
	return &LineError{File: j.name, Line: j.line, Field: field, Problem: problem, Fix: fix}
}

func (j *JSONLReader) parse(line []byte, complete bool) (message.Message, error) {
	if !utf8.Valid(line) {
		i := 0
		for i < len(line) {
			r, size := utf8.DecodeRune(line[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		return message.Message{}, j.fail("", fmt.Sprintf("invalid UTF-8 at byte %d of the line", i+1),
			"JSON text must be UTF-8; a binary payload goes in base64 with \"payload_base64\": true")
	}
	if !json.Valid(line) {
		return message.Message{}, j.syntaxError(line, complete)
	}
	s := jsonScanner{b: line}
	s.ws()
	if s.b[s.i] != '{' {
		return message.Message{}, j.fail("", "the line is a JSON "+jsonKind(s.b[s.i])+", not an object",
			"each line must be one JSON object, as `iotstudio capture export --format jsonl` writes")
	}
	var (
		r       message.Message
		seen    uint32
		payload string
		b64     bool
		err     *LineError
	)
	s.object(func(key, raw []byte) bool {
		f := jsonlFieldIndex(key)
		if f < 0 {
			err = j.fail(string(key), fmt.Sprintf("unknown field %q", key),
				"a record's fields are "+strings.Join(jsonlFields[:], ", ")+"; remove or rename that field")
			return false
		}
		name := jsonlFields[f]
		if seen&(1<<f) != 0 {
			err = j.fail(name, fmt.Sprintf("field %q appears twice", name), "keep one of them")
			return false
		}
		seen |= 1 << f
		if string(raw) == "null" {
			err = j.fail(name, fmt.Sprintf("field %q is null", name), "give it a value or leave the field out")
			return false
		}
		switch f {
		case jfSeq:
			r.Seq, err = j.uint(name, raw, 64, "")
		case jfTime:
			r.Time, err = j.time(raw)
		case jfSource:
			r.Source, err = j.string(name, raw)
		case jfClientID:
			r.ClientID, err = j.string(name, raw)
		case jfProtocol:
			var v uint64
			v, err = j.uint(name, raw, 8, "3 (MQTT 3.1), 4 (3.1.1), 5, or 0 (published by IoT Studio itself)")
			if err == nil && v != 0 && (v < 3 || v > 5) {
				err = j.fail(name, fmt.Sprintf("field %q is %d, not an MQTT protocol level", name, v),
					"use 3 (MQTT 3.1), 4 (3.1.1), 5, or 0 (published by IoT Studio itself)")
			}
			r.Protocol = byte(v)
		case jfTopic:
			r.Topic, err = j.string(name, raw)
			if err == nil {
				err = j.topic(r.Topic)
			}
		case jfPayload:
			payload, err = j.string(name, raw)
		case jfPayloadBase64:
			b64, err = j.bool(name, raw)
		case jfQoS:
			var v uint64
			v, err = j.uint(name, raw, 8, "MQTT QoS is 0, 1 or 2")
			if err == nil && v > 2 {
				err = j.fail(name, fmt.Sprintf("field %q is %d", name, v), "MQTT QoS is 0, 1 or 2")
			}
			r.QoS = byte(v)
		case jfRetain:
			r.Retain, err = j.bool(name, raw)
		case jfPayloadFormat:
			var v uint64
			v, err = j.uint(name, raw, 8, "")
			pf := byte(v)
			r.PayloadFormat = &pf
		case jfContentType:
			r.ContentType, err = j.string(name, raw)
		case jfMessageExpiry:
			var v uint64
			v, err = j.uint(name, raw, 32, "")
			me := uint32(v)
			r.MessageExpiry = &me
		case jfResponseTopic:
			r.ResponseTopic, err = j.string(name, raw)
		case jfCorrelationData:
			var s string
			if s, err = j.string(name, raw); err == nil {
				r.CorrelationData, err = j.base64(name, s, "give standard base64 with padding, as encoding/json writes binary data")
			}
		case jfUserProps:
			r.UserProps, err = j.userProps(raw)
		}
		return err == nil
	})
	if err != nil {
		return message.Message{}, err
	}
	for _, f := range [...]int{jfTime, jfTopic} {
		if seen&(1<<f) == 0 {
			return message.Message{}, j.fail(jsonlFields[f], fmt.Sprintf("field %q is missing", jsonlFields[f]),
				"every record needs a \"time\" (RFC 3339, e.g. \"2026-11-22T10:00:00.123456789Z\") and a \"topic\"")
		}
	}
	switch {
	case b64:
		p, err := j.base64("payload", payload, "give standard base64 with padding, or set \"payload_base64\" to false for a text payload")
		if err != nil {
			return message.Message{}, err
		}
		r.Payload = p
	case payload != "":
		r.Payload = []byte(payload)
	}
	if n := encodedLen(&r); n > maxRecordSize {
		return message.Message{}, j.fail("payload", fmt.Sprintf("the record is %d bytes encoded; the capture holds records of at most %d bytes", n, maxRecordSize),
			"shorten its payload or delete the line")
	}
	return r, nil
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func (j *JSONLReader) syntaxError(line []byte, complete bool) *LineError {
	var se *json.SyntaxError
	err := json.Unmarshal(line, new(any))
	if !errors.As(err, &se) {
		return j.fail("", fmt.Sprintf("the line is not valid JSON: %v", err), fixBadLine)
	}
	if !complete && strings.HasPrefix(se.Error(), "unexpected end of JSON input") {
		return j.fail("", "the last line ends in the middle of a JSON object: the file looks cut short (an interrupted export or copy?)",
			"export or copy it again, or delete that incomplete line to import the records before it")
	}
	return j.fail("", fmt.Sprintf("not valid JSON at byte %d of the line: %v", se.Offset, se),
		"each line must be one JSON object, as `iotstudio capture export --format jsonl` writes")
}

func (j *JSONLReader) string(name string, raw []byte) (string, *LineError) {
	if raw[0] != '"' {
		return "", j.fail(name, fmt.Sprintf("field %q is a JSON %s, not a string", name, jsonKind(raw[0])), "put its value in double quotes")
	}
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return string(in), nil
	}
	s, ok := unescape(in)
	if !ok {
		// encoding/json would turn it into U+FFFD and change the text.
		return "", j.fail(name, fmt.Sprintf("field %q has an escaped UTF-16 surrogate (\\ud800-\\udfff) that is not part of a pair", name),
			"text must be valid Unicode; put a binary payload in base64 with \"payload_base64\": true")
	}
	return s, nil
}

// unescape decodes the inside of a JSON string that json.Valid accepted.
// It reports false for an escaped UTF-16 surrogate that is not part of a
// pair, which has no UTF-8 form.
func unescape(in []byte) (string, bool) {
	out := make([]byte, 0, len(in))
	for len(in) > 0 {
		i := bytes.IndexByte(in, '\\')
		if i < 0 {
			out = append(out, in...)
			break
		}
		out = append(out, in[:i]...)
		c := in[i+1]
		in = in[i+2:]
		switch c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(in)
			in = in[4:]
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || len(in) < 6 || in[0] != '\\' || in[1] != 'u' {
					return "", false
				}
				r = utf16.DecodeRune(r, hex4(in[2:]))
				if r == utf8.RuneError {
					return "", false
				}
				in = in[6:]
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, c)
		}
	}
	return string(out), true
}

// hex4 decodes the 4 hex digits json.Valid checked.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= 'a':
			c -= 'a' - 10
		case c >= 'A':
			c -= 'A' - 10
		default:
			c -= '0'
		}
		r = r<<4 | rune(c)
	}
	return r
}

func (j *JSONLReader) uint(name string, raw []byte, bits int, valid string) (uint64, *LineError) {
	v, err := strconv.ParseUint(string(raw), 10, bits)
	if err == nil {
		return v, nil
	}
	fix := valid
	if fix == "" {
		fix = fmt.Sprintf("give a whole number from 0 to %d", uint64(1)<<bits-1)
	}
	switch {
	case raw[0] == '"' || raw[0] == '[' || raw[0] == '{' || raw[0] == 't' || raw[0] == 'f':
		return 0, j.fail(name, fmt.Sprintf("field %q is a JSON %s, not a number", name, jsonKind(raw[0])), fix)
	case errors.Is(err, strconv.ErrRange):
		return 0, j.fail(name, fmt.Sprintf("field %q is %s, too large", name, raw), fix)
	}
	return 0, j.fail(name, fmt.Sprintf("field %q is %s, not a whole number from 0 up", name, raw), fix)
}

func (j *JSONLReader) bool(name string, raw []byte) (bool, *LineError) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, j.fail(name, fmt.Sprintf("field %q is a JSON %s, not true or false", name, jsonKind(raw[0])), "give true or false, without quotes")
}

func (j *JSONLReader) time(raw []byte) (time.Time, *LineError) {
	s, err := j.string("time", raw)
	if err != nil {
		return time.Time{}, err
	}
	t, perr := time.Parse(time.RFC3339Nano, s)
	if perr != nil {
		return time.Time{}, j.fail("time", fmt.Sprintf("field \"time\" is %q, not an RFC 3339 time", s),
			"write it like \"2026-11-22T10:00:00.123456789Z\" or with an offset, \"2026-11-22T11:00:00+01:00\"")
	}
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, j.fail("time", fmt.Sprintf("field \"time\" is %s, outside the years 1678 to 2262 that the capture can store", s),
			"correct the time")
	}
	return t, nil
}

func (j *JSONLReader) base64(name, s, fix string) ([]byte, *LineError) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, j.fail(name, fmt.Sprintf("field %q is not valid base64 (bad data at character %d)", name, int64(ce)+1), fix)
		}
		return nil, j.fail(name, fmt.Sprintf("field %q is not valid base64: %v", name, err), fix)
	}
	return b, nil
}

// topic checks that s is a valid MQTT topic name (MQTT 5 section 4.7):
// not empty, at most 65535 bytes, no wildcards and no NUL. (It is valid
// UTF-8: the whole line is.)
func (j *JSONLReader) topic(s string) *LineError {
	const fix = "a message's topic is a non-empty MQTT topic name without the wildcards + and #"
	switch {
	case s == "":
		return j.fail("topic", "field \"topic\" is empty", fix)
	case len(s) > message.MaxTopicLen:
		return j.fail("topic", fmt.Sprintf("field \"topic\" is %d bytes long; MQTT allows at most %d", len(s), message.MaxTopicLen), "shorten the topic")
	}
	if i := strings.IndexAny(s, "+#"); i >= 0 {
		return j.fail("topic", fmt.Sprintf("field \"topic\" is %q, with the wildcard %q at byte %d", s, s[i], i+1), fix)
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return j.fail("topic", fmt.Sprintf("field \"topic\" is %q, with a NUL character at byte %d", s, i+1), "remove the \\u0000 from the topic")
	}
	return nil
}

func (j *JSONLReader) userProps(raw []byte) ([]message.UserProp, *LineError) {
	const name = "user_properties"
	const fix = `write user properties as [{"Key": "k", "Value": "v"}, ...]`
	if raw[0] != '[' {
		return nil, j.fail(name, fmt.Sprintf("field %q is a JSON %s, not an array", name, jsonKind(raw[0])), fix)
	}
	var (
		props []message.UserProp
		err   *LineError
	)
	s := jsonScanner{b: raw}
	s.array(func(elem []byte) bool {
		i := len(props) + 1
		if elem[0] != '{' {
			err = j.fail(name, fmt.Sprintf("user property %d is a JSON %s, not an object", i, jsonKind(elem[0])), fix)
			return false
		}
		var p message.UserProp
		var seen [2]bool
		es := jsonScanner{b: elem}
		es.object(func(key, v []byte) bool {
			k := -1
			switch string(key) {
			case "Key", "key":
				k = 0
			case "Value", "value":
				k = 1
			default:
				err = j.fail(name, fmt.Sprintf("user property %d has the unknown field %q", i, key), fix)
				return false
			}
			if seen[k] {
				err = j.fail(name, fmt.Sprintf("user property %d has %q twice", i, [2]string{"Key", "Value"}[k]), fix)
				return false
			}
			seen[k] = true
			if v[0] != '"' {
				err = j.fail(name, fmt.Sprintf("the %s of user property %d is a JSON %s, not a string", key, i, jsonKind(v[0])), fix)
				return false
			}
			var s string
			if s, err = j.string(name, v); err != nil {
				return false
			}
			if k == 0 {
				p.Key = s
			} else {
				p.Value = s
			}
			return true
		})
		if err != nil {
			return false
		}
		if missing := "Key"; !seen[0] || !seen[1] {
			if seen[0] {
				missing = "Value"
			}
			err = j.fail(name, fmt.Sprintf("user property %d has no %q", i, missing), fix)
			return false
		}
		props = append(props, p)
		return true
	})
	if err != nil {
		return nil, err
	}
	return props, nil
}

// jsonScanner walks a JSON text that json.Valid accepted; it relies on that
// and does not check the syntax again.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// value returns the raw text of the value at s.i and moves past it.
func (s *jsonScanner) value() []byte {
	start := s.i
	switch s.b[s.i] {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for {
			switch s.b[s.i] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				break
			}
		}
	default:
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return s.b[start:s.i]
			}
			s.i++
		}
	}
	return s.b[start:s.i]
}

func (s *jsonScanner) skipString() {
	s.i++ // opening quote
	for {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
			continue
		case '"':
			s.i++
			return
		}
		s.i++
	}
}

// object calls f with each key (unquoted and unescaped) and raw value of
// the object at s.i, until f returns false.
func (s *jsonScanner) object(f func(key, raw []byte) bool) {
	s.ws()
	s.i++ // {
	for {
		s.ws()
		if s.b[s.i] == '}' {
			s.i++
			return
		}
		if s.b[s.i] == ',' {
			s.i++
			s.ws()
		}
		k := s.value()
		key := k[1 : len(k)-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var u string
			if json.Unmarshal(k, &u) == nil {
				key = []byte(u)
			}
		}
		s.ws()
		s.i++ // :
		s.ws()
		if !f(key, s.value()) {
			return
		}
	}
}

// array calls f with each raw element of the array at s.i until f returns
// false.
func (s *jsonScanner) array(f func(elem []byte) bool) {
	s.ws()
	s.i++ // [
	for {
		s.ws()
		if s.b[s.i] == ']' {
			s.i++
			return
		}
		if s.b[s.i] == ',' {
			s.i++
			s.ws()
		}
		if !f(s.value()) {
			return
		}
	}
}

// ImportProgress is what ImportFile reports while it works. It reads the
// file twice: first to check every line (Checking), then to import.
type ImportProgress struct {
	Checking bool  // true while checking the file, when nothing is imported yet
	Done     int64 // bytes of the file read in the current pass
	Total    int64 // the file's size
	Records  int64 // records checked (Checking) or imported so far
}

// importProgressEvery is how many lines pass between progress reports and
// checks of the context.
const importProgressEvery = 256

// ImportFile adds the records of a JSON Lines file (as JSONLWriter and
// ExportFile write it) to store, keeping each record's time, topic, payload
// and every property; the store assigns new seqs, in file order.
//
// It checks the whole file before it imports anything: a bad line anywhere
// (see JSONLReader), a record too large for the store, or records the
// store's retention would delete right away (older than its MaxAge, or
// more bytes than its MaxBytes) fail with an error naming the file and
// line, and nothing is imported. Then it appends every record, waiting for
// room in the store's queue rather than dropping any, and flushes.
//
// progress, if not nil, is called every few hundred lines. Cancelling ctx
// stops the import: while checking, nothing is imported; later, the
// records imported so far stay (n says how many) and the error says so.
func ImportFile(ctx context.Context, store *Store, path string, progress func(ImportProgress)) (n int64, err error) {
	if progress == nil {
		progress = func(ImportProgress) {}
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("import %s: %w; nothing was imported", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("import %s: %w; nothing was imported", path, err)
	}
	if fi.IsDir() {
		return 0, fmt.Errorf("import %s: it is a directory; give a JSONL file (nothing was imported)", path)
	}
	size := fi.Size()

	total, err := checkImport(ctx, store, f, path, size, progress)
	if err != nil {
		return 0, err
	}
	if total == 0 {
		return 0, nil
	}

	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("import %s: %w; nothing was imported", path, err)
	}
	rd := NewJSONLReader(f, path)
	defer func() {
		if n == 0 {
			return
		}
		// The records appended so far are imported: make them durable
		// even when ctx is what stopped the import.
		if ferr := store.Flush(context.WithoutCancel(ctx)); ferr != nil && err == nil {
			err = fmt.Errorf("import %s: %d records were appended but writing them failed (some may be missing): %w", path, n, ferr)
		}
	}()
	lastLine := 0 // of the last record imported
	for {
		if n%importProgressEvery == 0 {
			progress(ImportProgress{Done: rd.Offset(), Total: size, Records: n})
			if ctx.Err() != nil {
				return n, importCancelled(ctx, path, n, total, lastLine)
			}
		}
		r, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, fmt.Errorf("%w (did the file change while it was imported? the %d records before that line were imported)", err, n)
		}
		r.Seq = 0
		if err := store.Append(ctx, r); err != nil {
			if ctx.Err() != nil {
				return n, importCancelled(ctx, path, n, total, lastLine)
			}
			return n, fmt.Errorf("%s:%d: %w; the %d records before that line were imported", path, rd.Line(), err, n)
		}
		n++
		lastLine = rd.Line()
	}
	if n != total {
		return n, fmt.Errorf("import %s: the file changed while it was imported: %d records imported, %d checked before", path, n, total)
	}
	progress(ImportProgress{Done: rd.Offset(), Total: size, Records: n})
	return n, nil
}

func importCancelled(ctx context.Context, path string, n, total int64, line int) error {
	if n == 0 {
		return cancelledf(ctx, "import of %s cancelled; nothing was imported", path)
	}
	return cancelledf(ctx, "import of %s cancelled after %d of %d records; those %d stay in the capture (up to line %d), so importing the whole file again would add them twice",
		path, n, total, n, line)
}

// cancelledError says what a cancelled operation did and did not do; it
// wraps the context's error, so errors.Is(err, context.Canceled) holds.
type cancelledError struct {
	msg   string
	cause error
}

func (e *cancelledError) Error() string { return e.msg }
func (e *cancelledError) Unwrap() error { return e.cause }

func cancelledf(ctx context.Context, format string, a ...any) error {
	return &cancelledError{msg: fmt.Sprintf(format, a...), cause: context.Cause(ctx)}
}

// ErrRetention is matched (errors.Is) by ImportFile's refusal of a file
// whose records the store's retention limits would delete right after the
// import: records older than its maximum age, or more than its maximum
// size.
var ErrRetention = errors.New("the capture's retention would delete imported records")

type retentionError struct{ err error }

func (e retentionError) Error() string        { return e.err.Error() }
func (e retentionError) Unwrap() error        { return e.err }
func (e retentionError) Is(target error) bool { return target == ErrRetention }

// maxBadLines is how many bad lines checkImport lists.
const maxBadLines = 5

// checkImport reads the whole file and returns how many records it holds,
// or an error for the first bad line (mentioning the next few).
func checkImport(ctx context.Context, store *Store, f io.Reader, path string, size int64, progress func(ImportProgress)) (int64, error) {
	st, err := store.Stats()
	if err != nil {
		return 0, fmt.Errorf("import %s: %w; nothing was imported", path, err)
	}
	var cutoff time.Time
	if st.MaxAge >= 0 {
		cutoff = time.Now().Add(-st.MaxAge)
	}
	var (
		rd        = NewJSONLReader(f, path)
		n, stored int64
		first     error
		bad       []int
		nBad      int
		oldLine   int
		nOld      int64
		oldest    time.Time
	)
	for lines := 0; ; lines++ {
		if lines%importProgressEvery == 0 {
			progress(ImportProgress{Checking: true, Done: rd.Offset(), Total: size, Records: n})
			if ctx.Err() != nil {
				return 0, cancelledf(ctx, "import of %s cancelled while checking the file; nothing was imported", path)
			}
		}
		r, err := rd.Read()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			if first == nil {
				first = err
			} else if len(bad) < maxBadLines {
				bad = append(bad, le.Line)
			}
			nBad++
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("%w; nothing was imported", err)
		}
		n++
		stored += int64(encodedLen(&r))
		if !cutoff.IsZero() && r.Time.Before(cutoff) {
			if nOld == 0 || r.Time.Before(oldest) {
				oldest, oldLine = r.Time, rd.Line()
			}
			nOld++
		}
	}
	progress(ImportProgress{Checking: true, Done: rd.Offset(), Total: size, Records: n})
	if first != nil {
		if nBad == 1 {
			return 0, fmt.Errorf("%w (nothing was imported)", first)
		}
		more := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(bad)), ", "), "[]")
		if nBad-1 > len(bad) {
			more += ", …"
		}
		return 0, fmt.Errorf("%w (nothing was imported; %d more lines have problems: %s)", first, nBad-1, more)
	}
	if nOld > 0 {
		return 0, retentionError{&LineError{File: path, Line: oldLine, Field: "time",
			Problem: fmt.Sprintf("%d of the %d records are older than the capture keeps records (maximum age %s; this one is from %s), so it would delete them right after the import",
				nOld, n, FormatAge(st.MaxAge), oldest.Format(time.RFC3339)),
			Fix: "nothing was imported: raise the capture's maximum age, or remove the older records from the file"}}
	}
	if st.MaxBytes >= 0 && stored > st.MaxBytes {
		return 0, retentionError{fmt.Errorf("import %s: its %d records take %s, more than the capture keeps (maximum size %s), so it would delete the oldest of them right after the import; nothing was imported: raise the capture's maximum size or split the file",
			path, n, FormatSize(stored), FormatSize(st.MaxBytes))}
	}
	return n, nil
}
