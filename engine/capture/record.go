package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// Record encoding, version 1. Seq is not part of the value: it is the key.
//
//	version        1 byte (= 1)
//	flags          1 byte: bit0 Retain, bit1 PayloadFormat present, bit2 MessageExpiry present
//	time           8 bytes, Unix nanoseconds, big-endian two's complement
//	protocol       1 byte
//	qos            1 byte
//	payloadFormat  1 byte, only if flag bit1
//	messageExpiry  4 bytes big-endian, only if flag bit2
//	topic, source, clientID, contentType, responseTopic, correlationData:
//	               each uvarint length + bytes
//	userProps      uvarint count, then per property uvarint length + key, uvarint length + value
//	payload        uvarint length + bytes; must end the value exactly
//
// The topic comes right after the fixed header so that a query can test the
// topic and time of a record without decoding the rest.
const (
	codecVersion = 1

	flagRetain        = 1 << 0
	flagPayloadFormat = 1 << 1
	flagMessageExpiry = 1 << 2
	knownFlags        = flagRetain | flagPayloadFormat | flagMessageExpiry

	fixedHeaderLen = 1 + 1 + 8 + 1 + 1
)

// errCorruptRecord is wrapped by every decoding error.
var errCorruptRecord = errors.New("corrupt capture record")

// encodedLen returns the exact length appendRecord appends for r.
func encodedLen(r *message.Message) int {
	n := fixedHeaderLen
	if r.PayloadFormat != nil {
		n++
	}
	if r.MessageExpiry != nil {
		n += 4
	}
	n += lenPrefixed(len(r.Topic)) + lenPrefixed(len(r.Source)) + lenPrefixed(len(r.ClientID)) +
		lenPrefixed(len(r.ContentType)) + lenPrefixed(len(r.ResponseTopic)) +
		lenPrefixed(len(r.CorrelationData))
	n += uvarintLen(uint64(len(r.UserProps)))
	for _, p := range r.UserProps {
		n += lenPrefixed(len(p.Key)) + lenPrefixed(len(p.Value))
	}
	return n + lenPrefixed(len(r.Payload))
}

func lenPrefixed(n int) int { return uvarintLen(uint64(n)) + n }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// appendRecord appends the encoding of r (without Seq) to b.
func appendRecord(b []byte, r *message.Message) []byte {
	var flags byte
	if r.Retain {
		flags |= flagRetain
	}
	if r.PayloadFormat != nil {
		flags |= flagPayloadFormat
	}
	if r.MessageExpiry != nil {
		flags |= flagMessageExpiry
	}
	b = append(b, codecVersion, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(r.Time)))
	b = append(b, r.Protocol, r.QoS)
	if r.PayloadFormat != nil {
		b = append(b, *r.PayloadFormat)
	}
	if r.MessageExpiry != nil {
		b = binary.BigEndian.AppendUint32(b, *r.MessageExpiry)
	}
	b = appendString(b, r.Topic)
	b = appendString(b, r.Source)
	b = appendString(b, r.ClientID)
	b = appendString(b, r.ContentType)
	b = appendString(b, r.ResponseTopic)
	b = appendBytes(b, r.CorrelationData)
	b = binary.AppendUvarint(b, uint64(len(r.UserProps)))
	for _, p := range r.UserProps {
		b = appendString(b, p.Key)
		b = appendString(b, p.Value)
	}
	return appendBytes(b, r.Payload)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// unixNano is t.UnixNano clamped to the int64 range instead of undefined.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return minNano
	case t.After(maxTime):
		return maxNano
	}
	return t.UnixNano()
}

const (
	minNano = -1 << 63
	maxNano = 1<<63 - 1
)

var (
	minTime = time.Unix(0, minNano)
	maxTime = time.Unix(0, maxNano)
)

// recView is a decoded record whose variable-length fields alias the encoded
// bytes. Queries filter on views and copy only the records they return.
type recView struct {
	flags         byte
	timeNs        int64
	protocol      byte
	qos           byte
	payloadFormat byte
	messageExpiry uint32
	topic         []byte
	source        []byte
	clientID      []byte
	contentType   []byte
	responseTopic []byte
	correlation   []byte
	nProps        int
	props         []byte // nProps validated key/value pairs, still encoded
	payload       []byte
}

// reader consumes an encoded record, remembering the first error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d of %d", errCorruptRecord, what, r.off, len(r.b))
	}
}

func (r *reader) fixed(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b)-r.off < n {
		r.fail("truncated " + what)
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad length of " + what)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) bytes(what string) []byte {
	n := r.uvarint(what)
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail(what + " longer than the record")
		return nil
	}
	return r.fixed(int(n), what)
}

// parseRecord decodes b into a view that aliases b. It never panics; any
// malformed, truncated or over-long input is an error wrapping
// errCorruptRecord.
func parseRecord(b []byte) (recView, error) {
	var v recView
	r := reader{b: b}
	hdr := r.fixed(fixedHeaderLen, "header")
	if r.err != nil {
		return v, r.err
	}
	if hdr[0] != codecVersion {
		return v, fmt.Errorf("%w: unsupported version %d", errCorruptRecord, hdr[0])
	}
	v.flags = hdr[1]
	if v.flags&^knownFlags != 0 {
		return v, fmt.Errorf("%w: unknown flags %#02x", errCorruptRecord, v.flags)
	}
	v.timeNs = int64(binary.BigEndian.Uint64(hdr[2:10]))
	v.protocol, v.qos = hdr[10], hdr[11]
	if v.flags&flagPayloadFormat != 0 {
		if p := r.fixed(1, "payload format"); p != nil {
			v.payloadFormat = p[0]
		}
	}
	if v.flags&flagMessageExpiry != 0 {
		if p := r.fixed(4, "message expiry"); p != nil {
			v.messageExpiry = binary.BigEndian.Uint32(p)
		}
	}
	v.topic = r.bytes("topic")
	v.source = r.bytes("source")
	v.clientID = r.bytes("client ID")
	v.contentType = r.bytes("content type")
	v.responseTopic = r.bytes("response topic")
	v.correlation = r.bytes("correlation data")
	n := r.uvarint("user properties")
	if r.err != nil {
		return v, r.err
	}
	// Each property takes at least two bytes; this bounds n before any
	// allocation sized by it.
	if n > uint64(len(b)-r.off)/2 {
		return v, fmt.Errorf("%w: %d user properties cannot fit in %d bytes", errCorruptRecord, n, len(b)-r.off)
	}
	start := r.off
	for i := uint64(0); i < n && r.err == nil; i++ {
		r.bytes("user property key")
		r.bytes("user property value")
	}
	v.nProps = int(n)
	v.props = b[start:r.off:r.off]
	v.payload = r.bytes("payload")
	if r.err != nil {
		return v, r.err
	}
	if r.off != len(b) {
		return v, fmt.Errorf("%w: %d trailing bytes", errCorruptRecord, len(b)-r.off)
	}
	return v, nil
}

// peekTopic returns the topic of an encoded record without decoding the
// rest; ok is false if b is not a well-formed start of a record (then
// parseRecord reports why).
func peekTopic(b []byte) (topic []byte, ok bool) {
	if len(b) < fixedHeaderLen || b[0] != codecVersion {
		return nil, false
	}
	off := fixedHeaderLen
	if b[1]&flagPayloadFormat != 0 {
		off++
	}
	if b[1]&flagMessageExpiry != 0 {
		off += 4
	}
	if off > len(b) {
		return nil, false
	}
	n, k := binary.Uvarint(b[off:])
	if k <= 0 || n > uint64(len(b)-off-k) {
		return nil, false
	}
	return b[off+k : off+k+int(n)], true
}

// record copies the view into a Record that shares no memory with the
// encoded bytes. Empty byte fields decode as nil.
func (v *recView) record(seq uint64) message.Message {
	rec := message.Message{
		Seq:             seq,
		Time:            time.Unix(0, v.timeNs),
		Source:          string(v.source),
		ClientID:        string(v.clientID),
		Protocol:        v.protocol,
		Topic:           string(v.topic),
		Payload:         cloneBytes(v.payload),
		QoS:             v.qos,
		Retain:          v.flags&flagRetain != 0,
		ContentType:     string(v.contentType),
		ResponseTopic:   string(v.responseTopic),
		CorrelationData: cloneBytes(v.correlation),
	}
	if v.flags&flagPayloadFormat != 0 {
		pf := v.payloadFormat
		rec.PayloadFormat = &pf
	}
	if v.flags&flagMessageExpiry != 0 {
		me := v.messageExpiry
		rec.MessageExpiry = &me
	}
	if v.nProps > 0 {
		rec.UserProps = make([]message.UserProp, v.nProps)
		r := reader{b: v.props} // validated by parseRecord
		for i := range rec.UserProps {
			rec.UserProps[i].Key = string(r.bytes("key"))
			rec.UserProps[i].Value = string(r.bytes("value"))
		}
	}
	return rec
}

func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// decodeRecord decodes a complete record value; seq comes from its key.
func decodeRecord(seq uint64, b []byte) (message.Message, error) {
	v, err := parseRecord(b)
	if err != nil {
		return message.Message{}, err
	}
	return v.record(seq), nil
}
