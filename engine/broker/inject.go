package broker

import (
	"fmt"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/message"
)

// inlinePublishers are the named inline clients PublishFrom publishes as,
// made once per running server: mochi's one inline client ("inline") is
// the window's own, and a bridge must tell what it brought in itself from
// everything else the tap sees.
type inlinePublishers struct {
	mu  sync.Mutex
	srv *mqtt.Server
	cls map[string]*mqtt.Client
}

func (p *inlinePublishers) client(srv *mqtt.Server, id string) *mqtt.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != srv {
		p.srv, p.cls = srv, map[string]*mqtt.Client{}
	}
	cl, ok := p.cls[id]
	if !ok {
		cl = srv.NewClient(nil, mqtt.LocalListener, id, true)
		// MQTT 5, so that the message's properties reach MQTT 5 subscribers.
		cl.Properties.ProtocolVersion = 5
		p.cls[id] = cl
	}
	return cl
}

// PublishFrom publishes m into the broker as the inline client clientID:
// the tap records it with that client ID, which is how a bridge recognises
// (and does not send back) what it published. Like Publish it bypasses
// the ACL; subscribers receive it at up to m.QoS.
func (b *Broker) PublishFrom(clientID string, m message.Message) error {
	srv := b.server()
	if srv == nil {
		return fmt.Errorf("publish to %q: broker is not running", m.Topic)
	}
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: m.QoS, Retain: m.Retain},
		TopicName:   m.Topic,
		Payload:     m.Payload,
		// mochi ignores an inline client's packet ID but checks that QoS 1
		// and 2 have one.
		PacketID: uint16(m.QoS),
	}
	pr := &pk.Properties
	pr.ContentType, pr.ResponseTopic, pr.CorrelationData = m.ContentType, m.ResponseTopic, m.CorrelationData
	if m.PayloadFormat != nil {
		pr.PayloadFormat, pr.PayloadFormatFlag = *m.PayloadFormat, true
	}
	if m.MessageExpiry != nil {
		pr.MessageExpiryInterval = *m.MessageExpiry
	}
	for _, u := range m.UserProps {
		pr.User = append(pr.User, packets.UserProperty{Key: u.Key, Val: u.Value})
	}
	if err := srv.InjectPacket(b.inline.client(srv, clientID), pk); err != nil {
		return fmt.Errorf("publish to %q: %w", m.Topic, err)
	}
	return nil
}
