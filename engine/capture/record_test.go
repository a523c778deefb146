package capture

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

func ptr[T any](v T) *T { return &v }

// fullRecord has every field set, an MQTT 5 property of every kind and a
// binary payload containing zero bytes.
func fullRecord() message.Message {
	return message.Message{
		Time:            time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC),
		Source:          "broker",
		ClientID:        "sensor-7",
		Protocol:        5,
		Topic:           "plant/line1/temp",
		Payload:         []byte{0, 1, 2, 0, 0, 0xff, 'x', 0},
		QoS:             2,
		Retain:          true,
		PayloadFormat:   ptr(byte(1)),
		ContentType:     "application/octet-stream",
		MessageExpiry:   ptr(uint32(3600)),
		ResponseTopic:   "plant/line1/reply",
		CorrelationData: []byte{0, 0xde, 0xad, 0},
		UserProps:       []message.UserProp{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}, {Key: "b", Value: "3"}, {Key: "", Value: ""}},
	}
}

// equalRecords compares two records field by field; Time with Equal and
// nil/empty byte slices as equal.
func equalRecords(a, b message.Message) bool {
	if !a.Time.Equal(b.Time) || !bytes.Equal(a.Payload, b.Payload) || !bytes.Equal(a.CorrelationData, b.CorrelationData) {
		return false
	}
	if len(a.UserProps) != len(b.UserProps) || (len(a.UserProps) > 0 && !reflect.DeepEqual(a.UserProps, b.UserProps)) {
		return false
	}
	a.Time, b.Time = time.Time{}, time.Time{}
	a.Payload, b.Payload = nil, nil
	a.CorrelationData, b.CorrelationData = nil, nil
	a.UserProps, b.UserProps = nil, nil
	return reflect.DeepEqual(a, b)
}

func TestCodecRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		rec  message.Message
	}{
		{"all fields", fullRecord()},
		{"zero record at epoch", message.Message{Time: time.Unix(0, 0)}},
		{"mqtt 3.1 no props", message.Message{Time: time.Unix(1, 2), Protocol: 3, Topic: "a", Payload: []byte("hi")}},
		{"empty but present props", message.Message{Time: time.Unix(5, 0), PayloadFormat: ptr(byte(0)), MessageExpiry: ptr(uint32(0))}},
		{"before 1970", message.Message{Time: time.Unix(-12345, 678), Topic: "old"}},
		{"long fields", message.Message{Time: time.Unix(9, 9), Topic: string(bytes.Repeat([]byte("t/"), 300)), Payload: bytes.Repeat([]byte{0}, 70000)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := appendRecord(nil, &c.rec)
			if len(b) != encodedLen(&c.rec) {
				t.Fatalf("encodedLen = %d, encoding is %d bytes", encodedLen(&c.rec), len(b))
			}
			got, err := decodeRecord(42, b)
			if err != nil {
				t.Fatal(err)
			}
			want := c.rec
			want.Seq = 42
			if !equalRecords(got, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
			}
			// The decoded record must not alias the encoding.
			for i := range b {
				b[i] = 0xAA
			}
			if !equalRecords(got, want) {
				t.Fatal("decoded record shares memory with the encoded bytes")
			}
		})
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	r := fullRecord()
	good := appendRecord(nil, &r)
	// Every strict prefix is truncated.
	for n := 0; n < len(good); n++ {
		if _, err := decodeRecord(1, good[:n]); !errors.Is(err, errCorruptRecord) {
			t.Fatalf("prefix of %d/%d bytes: err = %v, want errCorruptRecord", n, len(good), err)
		}
	}
	damage := []struct {
		name string
		mut  func([]byte) []byte
	}{
		{"bad version", func(b []byte) []byte { b[0] = 9; return b }},
		{"unknown flag", func(b []byte) []byte { b[1] |= 0x80; return b }},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }},
		{"huge topic length", func(b []byte) []byte {
			// topic length is the first varint after the fixed header,
			// payload format (1) and expiry (4).
			i := fixedHeaderLen + 5
			return append(append(b[:i:i], 0xff, 0xff, 0xff, 0xff, 0x0f), b[i+1:]...)
		}},
	}
	for _, d := range damage {
		b := d.mut(append([]byte(nil), good...))
		if _, err := decodeRecord(1, b); !errors.Is(err, errCorruptRecord) {
			t.Errorf("%s: err = %v, want errCorruptRecord", d.name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	r := fullRecord()
	f.Add(appendRecord(nil, &r), "a/b", []byte("payload"), int64(1700000000123456789), byte(7), "k", "v")
	f.Add([]byte{}, "", []byte{}, int64(0), byte(0), "", "")
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "$SYS/x", []byte{0}, int64(-1), byte(0xff), "", "\x00")
	f.Fuzz(func(t *testing.T, data []byte, topic string, payload []byte, ns int64, bits byte, key, val string) {
		// Arbitrary bytes: an error or a record, never a panic; a decoded
		// record re-encodes to something that decodes to the same record.
		if got, err := decodeRecord(1, data); err == nil {
			again, err := decodeRecord(1, appendRecord(nil, &got))
			if err != nil || !equalRecords(got, again) {
				t.Fatalf("re-encode of decoded record: %v\n got %+v\nwant %+v", err, again, got)
			}
		} else if !errors.Is(err, errCorruptRecord) {
			t.Fatalf("error does not wrap errCorruptRecord: %v", err)
		}

		// encode -> decode round trip of a record built from the inputs.
		rec := message.Message{
			Time: time.Unix(0, ns), Source: key, ClientID: val, Protocol: bits & 7,
			Topic: topic, Payload: payload, QoS: bits >> 6, Retain: bits&8 != 0,
			ContentType: val, ResponseTopic: key, CorrelationData: data,
		}
		if bits&16 != 0 {
			rec.PayloadFormat = ptr(bits)
		}
		if bits&32 != 0 {
			rec.MessageExpiry = ptr(uint32(ns))
		}
		for i := 0; i < int(bits%4); i++ {
			rec.UserProps = append(rec.UserProps, message.UserProp{Key: key, Value: val})
		}
		enc := appendRecord(nil, &rec)
		if len(enc) != encodedLen(&rec) {
			t.Fatalf("encodedLen = %d, encoding is %d bytes", encodedLen(&rec), len(enc))
		}
		got, err := decodeRecord(0, enc)
		if err != nil {
			t.Fatalf("decode of a fresh encoding: %v", err)
		}
		if !equalRecords(got, rec) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, rec)
		}
	})
}

// FuzzBlock: parsing a block and every record in it never panics.
func FuzzBlock(f *testing.F) {
	var b building
	b.reset(1)
	for i := range 3 {
		r := message.Message{Time: base, Topic: fmt.Sprintf("f/%d", i), Payload: []byte("payload")}
		b.add(appendRecord(nil, &r), topicHash(r.Topic), unixNano(r.Time))
	}
	b.finish(make(map[uint64][]uint32), nil)
	f.Add(b.buf)
	f.Add(b.buf[:len(b.buf)-3])
	f.Add([]byte{blockVersion, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, val []byte) {
		v, err := parseBlock(val)
		if err != nil {
			return
		}
		for i := range v.count {
			if rec, err := v.record(i); err == nil {
				_, _ = parseRecord(rec)
			}
		}
		for k := range v.topics() {
			_, _ = v.list(nil, k)
			_, _ = v.lookup(nil, v.dirHash(k))
		}
	})
}

func TestPeekTopicAgreesWithParse(t *testing.T) {
	for _, r := range []message.Message{
		fullRecord(),
		{Time: base, Topic: "a/b"},
		{Time: base, Topic: "", PayloadFormat: ptr(byte(1))},
		{Time: base, Topic: "x", MessageExpiry: ptr(uint32(9))},
	} {
		enc := appendRecord(nil, &r)
		got, ok := peekTopic(enc)
		if !ok || string(got) != r.Topic {
			t.Errorf("peekTopic(%q) = %q, %v", r.Topic, got, ok)
		}
		if _, ok := peekTopic(enc[:fixedHeaderLen]); ok {
			t.Errorf("peekTopic of a truncated %q record reported ok", r.Topic)
		}
	}
}
