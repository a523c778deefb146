package broker

import (
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/message"
)

// SourceBroker names the embedded broker as the source of its messages.
const SourceBroker = "broker"

// tapHook hands each published message to Config.Recorder. mochi reads
// every packet into a fresh buffer, so the message shares the payload
// rather than copying it.
type tapHook struct {
	mqtt.HookBase
	rec message.Sink
}

func (h *tapHook) ID() string { return "iotstudio-tap" }

// Provides is asked for every hook on every event, so it is a comparison.
func (h *tapHook) Provides(b byte) bool { return b == mqtt.OnPublished || b == mqtt.OnWillSent }

func (h *tapHook) OnPublished(cl *mqtt.Client, pk packets.Packet) {
	h.rec.Ingest(recordOf(cl, pk, time.Now()))
}

// OnWillSent records a will the broker published for a client that went
// away: mochi routes wills past OnPublished, and without this the
// capture and the Explorer would still say "online" for a dead device.
func (h *tapHook) OnWillSent(cl *mqtt.Client, pk packets.Packet) {
	h.rec.Ingest(recordOf(cl, pk, time.Now()))
}

func recordOf(cl *mqtt.Client, pk packets.Packet, at time.Time) message.Message {
	p := pk.Properties
	r := message.Message{
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
		r.UserProps = append(r.UserProps, message.UserProp{Key: u.Key, Value: u.Val})
	}
	return r
}
