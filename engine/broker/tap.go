package broker

import (
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/message"
)

// SourceBroker names the embedded broker as the source of its messages.
const SourceBroker = "broker"

// tap hands each published message to Config.Recorder (OnPublished). mochi
// reads every packet into a fresh buffer, so the message shares the
// payload rather than copying it.
type tap struct {
	rec message.Sink
}

func (t *tap) published(cl *mqtt.Client, pk *packets.Packet) {
	t.rec.Ingest(recordOf(cl, pk, time.Now()))
}

// willSent records a will the broker published for a client that went
// away (OnWillSent): mochi routes wills past OnPublished, and without this
// the capture and the Explorer would still say "online" for a dead device.
func (t *tap) willSent(cl *mqtt.Client, pk *packets.Packet) {
	t.rec.Ingest(recordOf(cl, pk, time.Now()))
}

func recordOf(cl *mqtt.Client, pk *packets.Packet, at time.Time) message.Message {
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
