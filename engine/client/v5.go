package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/message"
)

// v5 drives an MQTT 5 connection with autopaho, which owns the reconnect
// loop; its goroutines stop when the connection's context ends.
type v5 struct {
	c  *Connection
	cm *autopaho.ConnectionManager
	// last is the most recent network connection, for the reason behind a
	// failure the library reports vaguely.
	last atomic.Pointer[watchConn]
	// retired: an automatic protocol moved to 3.1.1; late callbacks of
	// this backend must not change the connection.
	retired atomic.Bool
}

func startV5(c *Connection, creds Credentials) (backend, error) {
	p := c.profile
	var tlsConf *tls.Config
	if c.target.TLS() {
		conf, err := tlsConfig(p, c.target.Addr, creds)
		if err != nil {
			return nil, err
		}
		tlsConf = conf
	}
	u, err := url.Parse(c.target.String())
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", p.Name, err)
	}
	b := &v5{c: c}
	cfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     p.KeepAlive,
		CleanStartOnInitialConnection: p.CleanStart,
		SessionExpiryInterval:         p.SessionExpiry,
		ReconnectBackoff:              c.opts.backoff,
		ConnectTimeout:                connackWait(p, c.opts.Timeout),
		AttemptConnection: func(ctx context.Context, _ autopaho.ClientConfig, _ *url.URL) (net.Conn, error) {
			wc, err := dial(ctx, c.target, tlsConf, c.opts.Timeout)
			if err != nil {
				b.last.Store(nil)
				return nil, err
			}
			b.last.Store(wc)
			return packets.NewThreadSafeConn(wc), nil
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, ack *paho.Connack) {
			if b.retired.Load() {
				return
			}
			c.log.Debug("connected", "connection", p.Name, "session_present", ack.SessionPresent)
			c.setState(StateConnected, nil)
			if !ack.SessionPresent {
				c.resubscribe()
			}
		},
		OnConnectionDown: func() bool {
			if !b.retired.Load() {
				c.failed(nil, nil)
			}
			return true
		},
		OnConnectError: func(err error) {
			if !b.retired.Load() {
				c.failed(err, b.last.Load())
			}
		},
		ConnectUsername: p.Username,
		ClientConfig: paho.ClientConfig{
			ClientID:      p.ClientID,
			PacketTimeout: c.opts.Timeout,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					c.ingest(recordV5(c.profile.Name, pr.Packet, c.opts.Now()))
					return true, nil
				},
			},
			OnClientError: func(err error) { c.noteError(err, b.last.Load()) },
			OnServerDisconnect: func(d *paho.Disconnect) {
				c.noteError(disconnectError(d), nil)
			},
		},
	}
	// The password goes in per attempt: an Azure SAS token is made fresh
	// each time, since an old one may have expired.
	cfg.ConnectPacketBuilder = func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
		pw, ok, err := password(p, creds, c.opts.Now())
		if err != nil {
			return nil, err
		}
		if ok {
			cp.Password, cp.PasswordFlag = []byte(pw), true
		}
		// autopaho resumes the session on reconnects. Without a session
		// expiry there is none to resume, but a reconnect that comes
		// before the broker has ended the old one (mochi after a kick)
		// is told "session present" and then loses its subscriptions
		// with it: start clean every time instead.
		if p.CleanStart && p.SessionExpiry == 0 {
			cp.CleanStart = true
		}
		return cp, nil
	}
	if w := p.Will; w != nil {
		cfg.WillMessage = &paho.WillMessage{Topic: w.Topic, Payload: w.Payload, QoS: w.QoS, Retain: w.Retain}
	}
	cm, err := autopaho.NewConnection(c.ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", p.Name, err)
	}
	b.cm = cm
	return b, nil
}

// autoConnackWait bounds the wait for the CONNACK of an automatic
// protocol's MQTT 5 attempts: a broker that ignores an MQTT 5 CONNECT
// (ActiveMQ Classic) is tried with 3.1.1 after it, not after the whole
// connect timeout.
const autoConnackWait = 5 * time.Second

func connackWait(p Profile, timeout time.Duration) time.Duration {
	if p.Protocol == ProtocolAuto {
		return min(timeout, autoConnackWait)
	}
	return timeout
}

// password is the password to send, if any.
func password(p Profile, creds Credentials, now time.Time) (string, bool, error) {
	if p.Azure != nil {
		tok, err := p.Azure.Password(creds.AzureDeviceKey, now)
		return tok, err == nil, err
	}
	return creds.Password, p.HasPassword, nil
}

func (b *v5) subscribe(ctx context.Context, subs []Subscription) ([]SubResult, error) {
	s := &paho.Subscribe{}
	for _, x := range subs {
		s.Subscriptions = append(s.Subscriptions, paho.SubscribeOptions{
			Topic: x.Filter, QoS: x.QoS, NoLocal: x.NoLocal, RetainAsPublished: x.RetainAsPublished, RetainHandling: x.RetainHandling,
		})
	}
	ctx, cancel := context.WithTimeout(ctx, b.c.opts.Timeout)
	defer cancel()
	ack, err := b.cm.Subscribe(ctx, s)
	if ack == nil {
		if err == nil {
			err = errors.New("no SUBACK")
		}
		return nil, plainRequestErr(err)
	}
	if len(ack.Reasons) != len(subs) {
		return nil, fmt.Errorf("the broker answered %d subscriptions with %d results", len(subs), len(ack.Reasons))
	}
	why := ""
	if ack.Properties != nil {
		why = ack.Properties.ReasonString
	}
	res := make([]SubResult, len(subs))
	for i, code := range ack.Reasons {
		res[i] = SubResult{Filter: subs[i].Filter, Granted: code}
		if code >= 0x80 {
			res[i] = SubResult{Filter: subs[i].Filter, Refused: true, Reason: subackReason(code, why)}
		}
	}
	return res, nil // a refusal is an answer, not an error: see SubResult
}

func (b *v5) unsubscribe(ctx context.Context, filters []string) error {
	ctx, cancel := context.WithTimeout(ctx, b.c.opts.Timeout)
	defer cancel()
	ack, err := b.cm.Unsubscribe(ctx, &paho.Unsubscribe{Topics: filters})
	if err != nil && ack == nil {
		return plainRequestErr(err)
	}
	for i, code := range ack.Reasons {
		if code >= 0x80 && i < len(filters) {
			return fmt.Errorf("the broker refused to unsubscribe %q: %s", filters[i], shortReason((&packets.Unsuback{Reasons: []byte{code}}).Reason(0), code))
		}
	}
	return nil
}

// pahoPublish is m as paho sends it. Without properties it has none: on
// the wire that is the same as empty ones.
func pahoPublish(m Message) *paho.Publish {
	p := &paho.Publish{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain}
	if m.hasV5Props() {
		p.Properties = &paho.PublishProperties{
			ContentType: m.ContentType, PayloadFormat: m.PayloadFormat, MessageExpiry: m.MessageExpiry,
			ResponseTopic: m.ResponseTopic, CorrelationData: m.CorrelationData,
		}
		for _, u := range m.UserProps {
			p.Properties.User = append(p.Properties.User, paho.UserProperty{Key: u.Key, Value: u.Value})
		}
	}
	return p
}

func (b *v5) publish(ctx context.Context, m Message) error {
	p := pahoPublish(m)
	ctx, cancel := context.WithTimeout(ctx, b.c.opts.Timeout)
	defer cancel()
	resp, err := b.cm.Publish(ctx, p)
	if resp != nil && resp.ReasonCode >= 0x80 {
		why := ""
		if resp.Properties != nil && resp.Properties.ReasonString != "" {
			why = " (" + resp.Properties.ReasonString + ")"
		}
		return fmt.Errorf("the broker refused the message: %s%s", pubackReason(resp.ReasonCode), why)
	}
	if err != nil {
		return plainRequestErr(err)
	}
	return nil
}

func (b *v5) stop(ctx context.Context) error {
	// Disconnect cancels autopaho's context, sends DISCONNECT and waits for
	// its goroutines.
	if err := b.cm.Disconnect(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	<-b.cm.Done()
	return nil
}

// recordV5 turns a received PUBLISH into a capture record. The publisher's
// client ID is not part of MQTT, so it stays empty.
func recordV5(source string, p *paho.Publish, at time.Time) message.Message {
	r := message.Message{Time: at, Source: source, Protocol: 5, Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain}
	if pr := p.Properties; pr != nil {
		r.ContentType, r.ResponseTopic, r.CorrelationData = pr.ContentType, pr.ResponseTopic, pr.CorrelationData
		if pr.PayloadFormat != nil {
			f := *pr.PayloadFormat
			r.PayloadFormat = &f
		}
		if pr.MessageExpiry != nil {
			e := *pr.MessageExpiry
			r.MessageExpiry = &e
		}
		for _, u := range pr.User {
			r.UserProps = append(r.UserProps, message.UserProp{Key: u.Key, Value: u.Value})
		}
	}
	return r
}

// plainRequestErr words a failed request.
func plainRequestErr(err error) error {
	switch {
	case errors.Is(err, autopaho.ConnectionDownError), errors.Is(err, paho.ErrConnectionLost):
		return fmt.Errorf("%w: the connection is down; IoT Studio is reconnecting, try again when it is connected", ErrNotConnected)
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("the broker did not answer in time")
	}
	return err
}

func disconnectError(d *paho.Disconnect) error {
	why := shortReason((&packets.Disconnect{ReasonCode: d.ReasonCode}).Reason(), d.ReasonCode)
	// Brokers often repeat the reason code's name as the reason string.
	if d.Properties != nil && d.Properties.ReasonString != "" && !strings.EqualFold(d.Properties.ReasonString, why) {
		why += ": " + d.Properties.ReasonString
	}
	return &ConnError{Kind: ErrConnectionLost, Msg: "the broker closed the connection: " + why}
}

// subackReason words a SUBACK failure code (MQTT 5 §3.9.3; 0x80 is also
// MQTT 3.1.1's only failure).
func subackReason(code byte, why string) string {
	s := map[byte]string{
		0x80: "refused (unspecified error)",
		0x83: "refused by the broker's implementation",
		0x87: "not authorized",
		0x8F: "the topic filter is invalid",
		0x91: "packet identifier in use",
		0x97: "quota exceeded",
		0x9E: "shared subscriptions not supported",
		0xA1: "subscription identifiers not supported",
		0xA2: "wildcard subscriptions not supported",
	}[code]
	if s == "" {
		s = fmt.Sprintf("refused (reason code 0x%02x)", code)
	}
	if why != "" {
		s += " (" + why + ")"
	}
	return s
}

func pubackReason(code byte) string {
	s := map[byte]string{
		0x80: "unspecified error", 0x83: "refused by the broker's implementation", 0x87: "not authorized",
		0x90: "the topic name is invalid", 0x91: "packet identifier in use", 0x97: "quota exceeded", 0x99: "the payload format is invalid",
	}[code]
	if s == "" {
		s = fmt.Sprintf("reason code 0x%02x", code)
	}
	return s
}

// shortReason is reasonName, or the code when paho has no text for it.
func shortReason(s string, code byte) string {
	if name := reasonName(s); name != "" {
		return name
	}
	return fmt.Sprintf("reason code 0x%02x", code)
}

// reasonName keeps the name of a paho reason text ("Not authorized - The
// PUBLISH is not authorized." becomes "not authorized").
func reasonName(s string) string {
	name, _, _ := strings.Cut(s, " - ")
	return strings.ToLower(strings.TrimSpace(name))
}
