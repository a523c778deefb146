package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotstudio/iotstudio/engine/client/transport"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
)

// conn is one device's MQTT connection, whichever library drives it. The
// runtime owns reconnecting: a conn connects once and, when lost, calls
// the lost function it was dialled with and is dropped.
type conn interface {
	// publish sends m without waiting for an acknowledgement.
	publish(m message.Message) error
	// publishStamped is publish with st's user properties added (MQTT 5).
	publishStamped(m message.Message, st stamp) error
	// publishAcked sends m and, at QoS 1 and 2, waits for the broker's
	// acknowledgement until ctx ends: a DISCONNECT right behind an
	// unacknowledged PUBLISH can lose it (a device's last "offline").
	publishAcked(ctx context.Context, m message.Message) error
	subscribe(ctx context.Context, subs []sim.Subscription) error
	// disconnect says goodbye with DISCONNECT: the broker drops the will.
	disconnect()
	// kill closes the socket without DISCONNECT: the broker fires the will.
	kill()
}

// handlers are what a conn calls back: a received message, and the end
// of the connection that the runtime did not ask for.
type handlers struct {
	recv func(message.Message)
	lost func(c conn, err error)
}

// receiveMaximum bounds the commands in flight to a device. paho.golang
// sizes a channel per client by it (65,535 pointers, 512 KiB, when unset),
// which alone would take 5 GB for 10,000 devices.
const receiveMaximum = 16

const defaultKeepAlive = 60 * time.Second

// dialV5 connects a device over MQTT 5 with paho.golang's bare Client (no
// autopaho, whose manager goroutines per connection cost more, and which
// would reconnect by itself).
func (r *Runner) dialV5(ctx context.Context, d *device, h handlers) (conn, error) {
	nc, err := transport.Dial(ctx, r.addr, r.target.TLS, r.opt.ConnectTimeout)
	if err != nil {
		return nil, err
	}
	pconn := &packetConn{Conn: nc, writeTimeout: r.opt.ConnectTimeout}
	c := &v5conn{nc: nc, pconn: pconn, pinger: paho.NewDefaultPinger()}
	c.pc = paho.NewClient(paho.ClientConfig{
		Conn:          pconn,
		PacketTimeout: r.opt.ConnectTimeout,
		PingHandler:   c.pinger,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			h.recv(fromV5(pr.Packet))
			return true, nil
		}},
		OnClientError: func(err error) {
			if se := pconn.stuck.Load(); se != nil {
				err = se
			}
			h.lost(c, err)
		},
		OnServerDisconnect: func(dp *paho.Disconnect) { h.lost(c, serverDisconnect(d.clientID, dp)) },
	})
	conf := d.b.Connect()
	rm := uint16(receiveMaximum)
	cp := &paho.Connect{
		ClientID:   d.clientID,
		CleanStart: conf.CleanStart,
		KeepAlive:  keepAliveSecs(conf.KeepAlive),
		Properties: &paho.ConnectProperties{ReceiveMaximum: &rm},
	}
	if conf.SessionExpiry > 0 {
		se := uint32(min(conf.SessionExpiry/time.Second, 0xFFFFFFFF))
		cp.Properties.SessionExpiryInterval = &se
	}
	if r.target.Username != "" {
		cp.Username, cp.UsernameFlag = r.target.Username, true
	}
	if r.target.Password != "" {
		cp.Password, cp.PasswordFlag = []byte(r.target.Password), true
	}
	if w := conf.Will; w != nil {
		cp.WillMessage = &paho.WillMessage{Topic: w.Topic, Payload: w.Payload, QoS: w.QoS, Retain: w.Retain}
		cp.WillProperties = &paho.WillProperties{
			PayloadFormat: w.PayloadFormat, MessageExpiry: w.MessageExpiry, ContentType: w.ContentType,
			ResponseTopic: w.ResponseTopic, CorrelationData: w.CorrelationData, User: userProps(w.UserProps),
		}
	}
	ack, err := c.pc.Connect(ctx, cp) // closes nc when it fails
	if err != nil {
		if ack != nil && ack.ReasonCode >= 0x80 {
			return nil, autopaho.NewConnackError(err, ack)
		}
		return nil, err
	}
	return c, nil
}

// serverDisconnect words the broker's DISCONNECT.
func serverDisconnect(clientID string, dp *paho.Disconnect) error {
	if dp.ReasonCode == 0x8E {
		return fmt.Errorf("another client connected with client ID %s, so the broker dropped this device; give every device, and every fleet, its own client IDs", clientID)
	}
	why := (&packets.Disconnect{ReasonCode: dp.ReasonCode}).Reason()
	if dp.Properties != nil && dp.Properties.ReasonString != "" {
		why += " (the broker says: " + dp.Properties.ReasonString + ")"
	}
	return fmt.Errorf("the broker closed the connection: %s (reason 0x%02x)", why, dp.ReasonCode)
}

type v5conn struct {
	nc     net.Conn
	pconn  *packetConn
	pinger *paho.DefaultPinger
	pc     *paho.Client
}

func (c *v5conn) publish(m message.Message) error { return c.publishStamped(m, stamp{}) }

// publishStamped sends a QoS 0 message that is not retained, the bulk of
// a fleet's traffic, with its own encoder (see appendPublish5); the rest
// go through paho.golang, which tracks QoS 1 and 2 and checks that the
// broker allows retained messages.
func (c *v5conn) publishStamped(m message.Message, st stamp) error {
	if m.QoS > 0 || m.Retain {
		if st.client != "" {
			m = withStamp(m, st)
		}
		_, err := c.pc.PublishWithOptions(context.Background(), v5Publish(m), paho.PublishOptions{Method: paho.PublishMethod_AsyncSend})
		return err
	}
	if err := c.pconn.publish(&m, st); err != nil {
		if !errors.As(err, new(badPublishError)) {
			// A write that failed may have left part of a packet on the
			// wire: end the connection, as paho does, so that its reader
			// reports the loss (lost) and the device reconnects.
			_ = c.nc.Close()
		}
		return err
	}
	c.pinger.PacketSent()
	return nil
}

func (c *v5conn) publishAcked(ctx context.Context, m message.Message) error {
	_, err := c.pc.Publish(ctx, v5Publish(m))
	return err
}

// v5Publish is m as paho.golang sends it. QoS 1 and 2 stream messages go
// out without waiting for the acknowledgement: a device whose broker is
// slow to answer must not hold up the others.
func v5Publish(m message.Message) *paho.Publish {
	p := &paho.Publish{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain}
	if m.ContentType != "" || m.PayloadFormat != nil || m.MessageExpiry != nil || m.ResponseTopic != "" || m.CorrelationData != nil || len(m.UserProps) > 0 {
		p.Properties = &paho.PublishProperties{
			ContentType: m.ContentType, PayloadFormat: m.PayloadFormat, MessageExpiry: m.MessageExpiry,
			ResponseTopic: m.ResponseTopic, CorrelationData: m.CorrelationData, User: userProps(m.UserProps),
		}
	}
	return p
}

func (c *v5conn) subscribe(ctx context.Context, subs []sim.Subscription) error {
	s := &paho.Subscribe{}
	for _, x := range subs {
		s.Subscriptions = append(s.Subscriptions, paho.SubscribeOptions{Topic: x.Filter, QoS: x.QoS})
	}
	ack, err := c.pc.Subscribe(ctx, s)
	if ack != nil {
		for i, code := range ack.Reasons {
			if code >= 0x80 && i < len(subs) {
				return fmt.Errorf("the broker refused the subscription to %q (reason 0x%02x); check the user's ACL", subs[i].Filter, code)
			}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("subscribe to %q: no answer from the broker: %w", subs[0].Filter, err)
	}
	if err != nil {
		return fmt.Errorf("subscribe to %q: %w", subs[0].Filter, err)
	}
	return nil
}

func (c *v5conn) disconnect() { _ = c.pc.Disconnect(&paho.Disconnect{ReasonCode: 0}) }

func (c *v5conn) kill() { _ = c.nc.Close() }

func userProps(ups []message.UserProp) paho.UserProperties {
	if len(ups) == 0 {
		return nil
	}
	out := make(paho.UserProperties, len(ups))
	for i, u := range ups {
		out[i] = paho.UserProperty{Key: u.Key, Value: u.Value}
	}
	return out
}

func fromV5(p *paho.Publish) message.Message {
	m := message.Message{Time: time.Now(), Protocol: 5, Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain}
	if pr := p.Properties; pr != nil {
		m.ContentType, m.ResponseTopic, m.CorrelationData = pr.ContentType, pr.ResponseTopic, pr.CorrelationData
		m.PayloadFormat, m.MessageExpiry = pr.PayloadFormat, pr.MessageExpiry
		for _, u := range pr.User {
			m.UserProps = append(m.UserProps, message.UserProp{Key: u.Key, Value: u.Value})
		}
	}
	return m
}

func keepAliveSecs(d time.Duration) uint16 {
	if d <= 0 {
		d = defaultKeepAlive
	}
	return uint16(min(max(d/time.Second, 1), 0xFFFF))
}

// dialV3 connects a device over MQTT 3.1.1 with paho.mqtt.golang, which
// connects once (its retry and reconnect loops, which sleep unstoppably,
// are off).
func (r *Runner) dialV3(ctx context.Context, d *device, h handlers) (conn, error) {
	conf := d.b.Connect()
	c := &v3conn{teardowns: &r.teardowns}
	o := mqtt.NewClientOptions()
	o.AddBroker("tcp://" + r.addr.Addr) // the scheme is not used: the opener below dials
	o.SetClientID(d.clientID)
	o.SetProtocolVersion(4)
	o.SetCleanSession(conf.CleanStart)
	o.SetKeepAlive(time.Duration(keepAliveSecs(conf.KeepAlive)) * time.Second)
	o.SetConnectTimeout(r.opt.ConnectTimeout)
	o.SetWriteTimeout(r.opt.ConnectTimeout)
	o.SetPingTimeout(r.opt.ConnectTimeout)
	o.SetAutoReconnect(false)
	o.SetConnectRetry(false)
	o.SetUsername(r.target.Username)
	o.SetPassword(r.target.Password)
	if w := conf.Will; w != nil {
		o.SetBinaryWill(w.Topic, w.Payload, w.QoS, w.Retain)
	}
	o.SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) {
		nc, err := transport.Dial(ctx, r.addr, r.target.TLS, r.opt.ConnectTimeout)
		if err != nil {
			return nil, err
		}
		c.nc.Store(&nc)
		return nc, nil
	})
	o.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
		h.recv(message.Message{Time: time.Now(), Protocol: 4, Topic: m.Topic(), Payload: m.Payload(), QoS: m.Qos(), Retain: m.Retained()})
	})
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) { h.lost(c, err) })
	c.cl = mqtt.NewClient(o)
	tok := c.cl.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		// The library waits for CONNACK until its own timeout; closing the
		// socket ends the wait now (again, if the dial was finishing).
		for done := false; !done; {
			c.closeSocket()
			select {
			case <-tok.Done():
				done = true
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	return c, nil
}

type v3conn struct {
	cl        mqtt.Client
	nc        atomic.Pointer[net.Conn]
	teardowns *sync.WaitGroup // the Runner's: Run waits for them
}

func (c *v3conn) publish(m message.Message) error {
	tok := c.cl.Publish(m.Topic, m.QoS, m.Retain, m.Payload)
	select {
	case <-tok.Done():
		return tok.Error()
	default:
		return nil // queued; a failure shows as a lost connection
	}
}

func (c *v3conn) publishAcked(ctx context.Context, m message.Message) error {
	tok := c.cl.Publish(m.Topic, m.QoS, m.Retain, m.Payload)
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return fmt.Errorf("publish %s: no acknowledgement: %w", m.Topic, ctx.Err())
	}
}

func (c *v3conn) subscribe(ctx context.Context, subs []sim.Subscription) error {
	filters := map[string]byte{}
	for _, s := range subs {
		filters[s.Filter] = s.QoS
	}
	tok := c.cl.SubscribeMultiple(filters, nil)
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return fmt.Errorf("subscribe to %q: no answer from the broker: %w", subs[0].Filter, ctx.Err())
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("subscribe to %q: %w", subs[0].Filter, err)
	}
	for f, code := range tok.(*mqtt.SubscribeToken).Result() {
		if code >= 0x80 {
			return fmt.Errorf("the broker refused the subscription to %q (MQTT 3.1.1 gives no reason; often the user's ACL)", f)
		}
	}
	return nil
}

func (c *v3conn) disconnect() { c.cl.Disconnect(250) }

// kill closes the socket, then tears the client down: paho.mqtt.golang
// reads a socket closed under it as a clean end and stops nothing, which
// would leave six goroutines per kill running for good. The DISCONNECT
// the teardown sends cannot pass the closed socket, so the will fires.
func (c *v3conn) kill() {
	c.closeSocket()
	c.teardowns.Go(func() { c.cl.Disconnect(0) })
}

func (c *v3conn) closeSocket() {
	if p := c.nc.Load(); p != nil {
		_ = (*p).Close()
	}
}

// publishStamped sends m alone: MQTT 3.1.1 has no user properties to
// carry a stamp in.
func (c *v3conn) publishStamped(m message.Message, _ stamp) error { return c.publish(m) }
