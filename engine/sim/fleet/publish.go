package fleet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/mqttwire"
)

// stamp is what a stream's reading carries so that whoever receives it
// can measure loss and latency: the device's sequence number, the send
// time and the device's client ID, as the MQTT 5 user properties PropSeq,
// PropTime and PropClient.
type stamp struct {
	seq    uint64
	at     int64 // unix ns
	client string
}

// withStamp is m with st's user properties after its own, for a library
// that takes them as strings.
func withStamp(m message.Message, st stamp) message.Message {
	ups := make([]message.UserProp, 0, len(m.UserProps)+3) // a fresh slice: the behaviour may reuse its own
	ups = append(ups, m.UserProps...)
	m.UserProps = append(ups,
		message.UserProp{Key: PropSeq, Value: strconv.FormatUint(st.seq, 10)},
		message.UserProp{Key: PropTime, Value: strconv.FormatInt(st.at, 10)},
		message.UserProp{Key: PropClient, Value: st.client})
	return m
}

// MQTT 5 property identifiers a device's PUBLISH may carry.
const (
	propPayloadFormat   = 0x01
	propMessageExpiry   = 0x02
	propContentType     = 0x03
	propResponseTopic   = 0x08
	propCorrelationData = 0x09
	propUser            = 0x26
)

// maxString is the longest string or binary field an MQTT packet can hold.
const maxString = 0xFFFF

// maxRemaining is the largest remaining length a fixed header can give.
const maxRemaining = 268_435_455

var errNoTopic = errors.New("cannot send a publish with no topic")

// badPublishError is a message that MQTT cannot carry: nothing of it was
// sent, so the connection is still good.
type badPublishError struct{ error }

func (e badPublishError) Unwrap() error { return e.error }

// appendPublish5 appends a QoS 0 MQTT 5 PUBLISH of m, stamped with st
// when st.client is set, to dst; props is scratch space for its
// properties. It is the one packet a fleet sends thousands of times a
// second: paho.golang allocates about 1 KB per PUBLISH to encode it
// (packet structs, property slices, a buffer per header), which was a
// third of the simulator's garbage at 10,000 devices. This writes into
// buffers the connection reuses.
func appendPublish5(dst, props []byte, m *message.Message, st stamp) (packet, scratch []byte, err error) {
	if err := carriable(m, st); err != nil {
		return dst, props, err
	}
	props = appendProps5(props[:0], m, st)
	remaining := 2 + len(m.Topic) + mqttwire.VarintLen(len(props)) + len(props) + len(m.Payload)
	if remaining > maxRemaining {
		return dst, props, fmt.Errorf("publish to %s is %d bytes; MQTT allows %d", m.Topic, remaining, maxRemaining)
	}
	flags := byte(0x30)
	if m.Retain {
		flags |= 1
	}
	dst = append(dst, flags)
	dst = mqttwire.AppendVarint(dst, remaining)
	dst = mqttwire.AppendString(dst, m.Topic)
	dst = mqttwire.AppendVarint(dst, len(props))
	dst = append(dst, props...)
	return append(dst, m.Payload...), props, nil
}

// carriable says what of m (and st) MQTT cannot carry, before anything
// is encoded.
func carriable(m *message.Message, st stamp) error {
	switch {
	case m.Topic == "":
		return errNoTopic
	case len(m.Topic) > maxString:
		return fmt.Errorf("topic %.40q… is %d bytes; MQTT allows %d", m.Topic, len(m.Topic), maxString)
	case !fits(m) || len(st.client) > maxString:
		return fmt.Errorf("a property of the publish to %s is over %d bytes, the most MQTT allows", m.Topic, maxString)
	}
	return nil
}

func appendProps5(b []byte, m *message.Message, st stamp) []byte {
	if m.PayloadFormat != nil {
		b = append(b, propPayloadFormat, *m.PayloadFormat)
	}
	if m.MessageExpiry != nil {
		b = append(b, propMessageExpiry)
		b = binary.BigEndian.AppendUint32(b, *m.MessageExpiry)
	}
	if m.ContentType != "" {
		b = append(b, propContentType)
		b = mqttwire.AppendString(b, m.ContentType)
	}
	if m.ResponseTopic != "" {
		b = append(b, propResponseTopic)
		b = mqttwire.AppendString(b, m.ResponseTopic)
	}
	if m.CorrelationData != nil {
		b = append(b, propCorrelationData)
		b = mqttwire.AppendString(b, string(m.CorrelationData))
	}
	for _, u := range m.UserProps {
		b = append(b, propUser)
		b = mqttwire.AppendString(b, u.Key)
		b = mqttwire.AppendString(b, u.Value)
	}
	if st.client != "" {
		b = append(b, propUser)
		b = mqttwire.AppendString(b, PropSeq)
		b = appendDecimal(b, strconv.AppendUint(make([]byte, 0, 20), st.seq, 10))
		b = append(b, propUser)
		b = mqttwire.AppendString(b, PropTime)
		b = appendDecimal(b, strconv.AppendInt(make([]byte, 0, 20), st.at, 10))
		b = append(b, propUser)
		b = mqttwire.AppendString(b, PropClient)
		b = mqttwire.AppendString(b, st.client)
	}
	return b
}

// fits says whether every string property of m fits MQTT's 2-byte length.
func fits(m *message.Message) bool {
	if len(m.ContentType) > maxString || len(m.ResponseTopic) > maxString || len(m.CorrelationData) > maxString {
		return false
	}
	for _, u := range m.UserProps {
		if len(u.Key) > maxString || len(u.Value) > maxString {
			return false
		}
	}
	return true
}

// appendDecimal appends a number's digits as an MQTT string. (The
// callers' make([]byte, 0, 20) stays on the stack.)
func appendDecimal(b, digits []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(digits)))
	return append(b, digits...)
}
