package message

import "time"

// Message is one PUBLISH IoT Studio received, from the embedded broker or
// a client connection.
type Message struct {
	Seq      uint64    // the capture's sequence number; 0 unless read from a capture
	Time     time.Time // receive time (ns precision); zero means "now" at capture Ingest
	Source   string    // "broker" for the embedded broker, else a connection name
	ClientID string    // publisher client ID
	Protocol byte      // CONNECT protocol level: 3, 4 or 5 (see ProtocolName)
	Topic    string
	Payload  []byte // full, never truncated
	QoS      byte
	Retain   bool

	// MQTT 5 properties.
	PayloadFormat   *byte
	ContentType     string
	MessageExpiry   *uint32
	ResponseTopic   string
	CorrelationData []byte
	UserProps       []UserProp // order preserved
}

// UserProp is one MQTT 5 user property.
type UserProp struct {
	Key, Value string
}

// Sink receives messages: the capture, the live topic model, the
// subscribe panel. Ingest is called on the producer's goroutine (a
// publishing client's, a connection's), so it must not block; it reports
// false when it had to drop the message (and counts that itself). A sink
// must not modify the message or keep its slices without copying them:
// other sinks see the same ones.
type Sink interface {
	Ingest(Message) bool
}

// Tee is a Sink that hands every message to each of its sinks in turn, so
// that one broker feeds both the capture and the live topic model. Ingest
// reports false if any sink dropped the message (each counts its own
// drops); it still offers the message to the rest, since one full queue
// must not blind the others.
type Tee []Sink

// NewTee returns a Tee of the sinks that are not nil, or the only one
// itself, or nil (nothing to feed, so no tap at all) when none is left.
// Only nil interfaces are left out: a caller holding an optional sink as
// a pointer (a capture store that is nil when capture is off) passes it
// only when it is set, since a typed nil pointer is a sink that panics on
// the first message.
func NewTee(sinks ...Sink) Sink {
	var t Tee
	for _, s := range sinks {
		if s != nil {
			t = append(t, s)
		}
	}
	switch len(t) {
	case 0:
		return nil
	case 1:
		return t[0]
	}
	return t
}

// Ingest implements Sink.
func (t Tee) Ingest(m Message) bool {
	ok := true
	for _, s := range t {
		if !s.Ingest(m) {
			ok = false
		}
	}
	return ok
}
