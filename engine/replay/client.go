package replay

import (
	"context"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/client/transport"
	"github.com/iotstudio/iotstudio/engine/message"
)

// The broker URLs a replay goes to are engine/client's; these names keep
// the replay command and the capture panel's dialog reading as before.
type (
	// Target is where a Client connects, read from a URL.
	Target = transport.Target
	// ClientOptions say where and how a Client connects.
	ClientOptions = client.SenderOptions
)

// ErrBadURL is wrapped by every error about the form of a broker URL.
var ErrBadURL = transport.ErrBadURL

// ParseURL reads a broker URL such as mqtt://127.0.0.1:1883; see
// transport.ParseURL.
func ParseURL(raw string) (Target, error) { return transport.ParseURL(raw) }

// Client is the Publisher that sends a replay to a broker, through
// engine/client's Sender (MQTT 5, so message properties survive).
type Client struct{ s *client.Sender }

// Dial connects to the broker at o.URL; see client.DialSender for what
// its errors say.
func Dial(ctx context.Context, o ClientOptions) (*Client, error) {
	s, err := client.DialSender(ctx, o)
	if err != nil {
		return nil, err
	}
	return &Client{s: s}, nil
}

// Publish sends r's topic, payload, QoS, retain flag and MQTT 5
// properties; see client.Sender.Publish.
func (c *Client) Publish(ctx context.Context, r message.Message) error {
	return c.s.Publish(ctx, client.Message{
		Topic: r.Topic, Payload: r.Payload, QoS: r.QoS, Retain: r.Retain,
		ContentType: r.ContentType, PayloadFormat: r.PayloadFormat, MessageExpiry: r.MessageExpiry,
		ResponseTopic: r.ResponseTopic, CorrelationData: r.CorrelationData, UserProps: r.UserProps,
	})
}

// Flush waits until every QoS 1 and 2 message sent so far is acknowledged.
func (c *Client) Flush(ctx context.Context) error { return c.s.Flush(ctx) }

// Close disconnects and waits until nothing of c is left running.
func (c *Client) Close() error { return c.s.Close() }
