package broker

import (
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// Recorder receives every message the broker accepts. Ingest is called on
// the publisher's goroutine, so it must not block; it reports false when it
// had to drop the record (and counts that itself).
type Recorder interface {
	Ingest(capture.Record) bool
}

// SourceBroker names the embedded broker as the source of captured records.
const SourceBroker = "broker"

// tapHook hands each published message to the Recorder. mochi reads every
// packet into a fresh buffer, so the record shares the payload rather than
// copying it.
type tapHook struct {
	mqtt.HookBase
	rec Recorder
}

func (h *tapHook) ID() string { return "iotstudio-tap" }

// Provides is asked for every hook on every event, so it is a comparison.
func (h *tapHook) Provides(b byte) bool { return b == mqtt.OnPublished }

func (h *tapHook) OnPublished(cl *mqtt.Client, pk packets.Packet) {
	h.rec.Ingest(recordOf(cl, pk, time.Now()))
}

func recordOf(cl *mqtt.Client, pk packets.Packet, at time.Time) capture.Record {
	p := pk.Properties
	r := capture.Record{
		Time:            at,
		Source:          SourceBroker,
		ClientID:        cl.ID,
		Protocol:        cl.Properties.ProtocolVersion,
		Topic:           pk.TopicName,
		Payload:         pk.Payload,
		QoS:             pk.FixedHeader.Qos,
		Retain:          pk.FixedHeader.Retain,
		ContentType:     p.ContentType,
		ResponseTopic:   p.ResponseTopic,
		CorrelationData: p.CorrelationData,
	}
	if p.PayloadFormatFlag {
		f := p.PayloadFormat
		r.PayloadFormat = &f
	}
	if p.MessageExpiryInterval > 0 {
		e := p.MessageExpiryInterval
		r.MessageExpiry = &e
	}
	for _, u := range p.User {
		r.UserProps = append(r.UserProps, capture.UserProp{Key: u.Key, Value: u.Val})
	}
	return r
}
