package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotstudio/iotstudio/engine/message"
)

// v3 drives an MQTT 3.1.1 connection with paho.mqtt.golang. The library's
// own retry loops sleep without a way to stop them, so v3 runs the
// reconnect loop itself (one goroutine, owned by the connection's context)
// and uses the library for single connects only.
type v3 struct {
	c    *Connection
	cl   mqtt.Client
	last atomic.Pointer[watchConn]
	lost chan error // the link broke; buffered, one pending at most
	done chan struct{}
	once sync.Once
}

func startV3(c *Connection, creds Credentials) (backend, error) {
	p := c.profile
	var tlsConf *tls.Config
	if c.target.TLS() {
		conf, err := tlsConfig(p, c.target.Addr, creds)
		if err != nil {
			return nil, err
		}
		tlsConf = conf
	}
	b := &v3{c: c, lost: make(chan error, 1), done: make(chan struct{})}
	o := mqtt.NewClientOptions()
	// The scheme is ignored: the custom opener below dials c.target.
	o.AddBroker("tcp://" + c.target.Addr)
	o.SetClientID(p.ClientID)
	o.SetProtocolVersion(4)
	o.SetCleanSession(p.CleanStart)
	o.SetKeepAlive(time.Duration(p.KeepAlive) * time.Second)
	o.SetPingTimeout(c.opts.Timeout)
	o.SetConnectTimeout(c.opts.Timeout)
	o.SetWriteTimeout(c.opts.Timeout)
	o.SetAutoReconnect(false)
	o.SetConnectRetry(false)
	o.SetUsername(p.Username)
	o.SetCredentialsProvider(func() (string, string) {
		// A fresh SAS token per attempt; errors surface below via check.
		pw, _, _ := password(p, creds, c.opts.Now())
		return p.Username, pw
	})
	if w := p.Will; w != nil {
		o.SetBinaryWill(w.Topic, w.Payload, w.QoS, w.Retain)
	}
	o.SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) {
		wc, err := dial(c.ctx, c.target, tlsConf, c.opts.Timeout)
		if err != nil {
			b.last.Store(nil)
			return nil, err
		}
		b.last.Store(wc)
		return wc, nil
	})
	o.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
		c.ingest(message.Message{Time: c.opts.Now(), Source: c.profile.Name, Protocol: 4, Topic: m.Topic(), Payload: m.Payload(), QoS: m.Qos(), Retain: m.Retained()})
	})
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		select {
		case b.lost <- err:
		default:
		}
	})
	if _, _, err := password(p, creds, c.opts.Now()); err != nil {
		return nil, fmt.Errorf("connection %s: %w", p.Name, err)
	}
	b.cl = mqtt.NewClient(o)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(b.done)
		b.run(c.ctx)
	}()
	return b, nil
}

// run connects, waits for the link to break, backs off and connects again,
// until ctx ends.
func (b *v3) run(ctx context.Context) {
	c := b.c
	attempt := 0
	first := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.opts.backoff(attempt)):
		}
		tok := b.cl.Connect()
		select {
		case <-tok.Done():
		case <-ctx.Done():
			// The attempt ends by the connect timeout; wait for it so that
			// no library goroutine outlives the connection.
			<-tok.Done()
			return
		}
		if err := tok.Error(); err != nil {
			attempt++
			c.failed(err, b.last.Load())
			continue
		}
		attempt = 0
		c.setState(StateConnected, nil)
		if !first || !tok.(*mqtt.ConnectToken).SessionPresent() {
			c.resubscribe()
		}
		first = false
		select {
		case err := <-b.lost:
			c.failed(err, b.last.Load())
			attempt = 1
		case <-ctx.Done():
			return
		}
	}
}

func (b *v3) wait(ctx context.Context, t mqtt.Token) error {
	ctx, cancel := context.WithTimeout(ctx, b.c.opts.Timeout)
	defer cancel()
	select {
	case <-t.Done():
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return errors.New("the broker did not answer in time")
		}
		return ctx.Err()
	}
	if err := t.Error(); err != nil {
		if errors.Is(err, mqtt.ErrNotConnected) {
			return fmt.Errorf("%w: the connection is down; IoT Studio is reconnecting, try again when it is connected", ErrNotConnected)
		}
		return err
	}
	return nil
}

func (b *v3) subscribe(ctx context.Context, subs []Subscription) ([]SubResult, error) {
	filters := map[string]byte{}
	for _, s := range subs {
		filters[s.Filter] = s.QoS
	}
	t := b.cl.SubscribeMultiple(filters, nil)
	if err := b.wait(ctx, t); err != nil {
		return nil, err
	}
	granted := t.(*mqtt.SubscribeToken).Result()
	res := make([]SubResult, len(subs))
	for i, s := range subs {
		code, ok := granted[s.Filter]
		switch {
		case !ok:
			res[i] = SubResult{Filter: s.Filter, Refused: true, Reason: "no answer for this filter"}
		case code >= 0x80:
			// MQTT 3.1.1 has a single failure code and no reason string.
			res[i] = SubResult{Filter: s.Filter, Refused: true, Reason: "refused by the broker (MQTT 3.1.1 gives no reason; often not authorized or an invalid filter)"}
		default:
			res[i] = SubResult{Filter: s.Filter, Granted: code}
		}
	}
	return res, nil
}

func (b *v3) unsubscribe(ctx context.Context, filters []string) error {
	return b.wait(ctx, b.cl.Unsubscribe(filters...))
}

func (b *v3) publish(ctx context.Context, m Message) error {
	return b.wait(ctx, b.cl.Publish(m.Topic, m.QoS, m.Retain, m.Payload))
}

func (b *v3) stop(ctx context.Context) error {
	b.c.cancel()
	select {
	case <-b.done:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the connect attempt to end: %w", ctx.Err())
	}
	if b.cl.IsConnectionOpen() {
		b.cl.Disconnect(250) // ms to let queued packets out; waits for the library's workers
	}
	return nil
}
