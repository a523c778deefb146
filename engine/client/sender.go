package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.golang/paho/session"
	"github.com/eclipse/paho.golang/paho/session/state"

	"github.com/iotstudio/iotstudio/engine/client/transport"
)

// SenderOptions say where and how a Sender connects.
type SenderOptions struct {
	// URL of the broker, see transport.ParseURL.
	URL string
	// Username and Password log in; both optional. The password is never
	// logged or put in an error.
	Username string
	Password []byte
	// CAFile is a PEM file of the CA certificates to trust instead of the
	// system's, for mqtts:// and wss://.
	CAFile string
	// TLS, if set, is used for mqtts:// and wss:// instead of a config
	// built from CAFile (e.g. the embedded broker's dev CA pool).
	TLS *tls.Config
	// ClientID defaults to "iotstudio-replay-" and a random suffix.
	ClientID string
	// InFlight bounds the QoS 1 and 2 messages awaiting acknowledgement
	// (default 64; the broker's Receive Maximum also applies).
	InFlight int
	// Timeout bounds connecting and each acknowledgement (default 10 s).
	Timeout time.Duration
}

// Sender publishes a stream of messages to a broker over MQTT 5 with a
// clean session and without reconnecting, unlike a Manager's connections:
// capture replay sends through it, and its errors speak to the replay's
// user (flags such as --user, --ca, --no-retain). QoS 0 messages are
// written and forgotten; QoS 1 and 2 messages are pipelined, up to
// InFlight awaiting acknowledgement, in order. A message the broker
// refuses (e.g. not authorized) or a lost connection fails the next
// Publish or Flush. Publish and Flush must not be called concurrently;
// Close may be called at any time.
type Sender struct {
	target   transport.Target
	conn     net.Conn // its write deadline unblocks stuck writes
	pc       *paho.Client
	slots    chan struct{} // one token per unacknowledged QoS 1/2 message
	acks     sync.WaitGroup
	timeout  time.Duration
	maxQoS   byte
	retainOK bool
	closing  atomic.Bool
	once     sync.Once

	mu  sync.Mutex
	err error // the first asynchronous failure
}

// DialSender connects to the broker at o.URL. Its errors say what failed,
// where, and what to try: a malformed URL (wrapping transport.ErrBadURL),
// no broker listening, no answer, a certificate not trusted, a refused
// login.
func DialSender(ctx context.Context, o SenderOptions) (*Sender, error) {
	t, err := transport.ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.InFlight <= 0 {
		o.InFlight = 64
	}
	if o.ClientID == "" {
		o.ClientID = randomClientID("iotstudio-replay-")
	}
	tlsConf, err := senderTLS(t, o)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	conn, err := transport.Dial(dctx, t, tlsConf, o.Timeout)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to %s: %w", t, ctx.Err())
		}
		return nil, senderDialError(t, err, o.Timeout)
	}

	c := &Sender{target: t, conn: conn, slots: make(chan struct{}, o.InFlight), timeout: o.Timeout, maxQoS: 2, retainOK: true}
	c.pc = paho.NewClient(paho.ClientConfig{
		Conn:          packets.NewThreadSafeConn(conn),
		Session:       &ackSession{State: state.NewInMemory(), c: c},
		PacketTimeout: o.Timeout,
		OnClientError: func(err error) {
			c.fail(fmt.Errorf("connection to %s lost: %w", t, err))
		},
		OnServerDisconnect: func(d *paho.Disconnect) {
			c.fail(fmt.Errorf("the broker at %s closed the connection: %s", t, disconnectReason(d)))
		},
	})
	cp := &paho.Connect{ClientID: o.ClientID, CleanStart: true, KeepAlive: 30}
	if o.Username != "" {
		cp.Username, cp.UsernameFlag = o.Username, true
	}
	if len(o.Password) > 0 {
		cp.Password, cp.PasswordFlag = o.Password, true
	}
	ack, err := c.pc.Connect(dctx, cp)
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to %s: %w", t, ctx.Err())
		}
		return nil, senderConnackError(t, ack, err, o.Username, o.Timeout)
	}
	if p := ack.Properties; p != nil {
		if p.MaximumQoS != nil {
			c.maxQoS = *p.MaximumQoS
		}
		c.retainOK = p.RetainAvailable
	}
	return c, nil
}

// Publish sends r with its MQTT 5 properties. A QoS above the broker's
// maximum is lowered to it.
func (c *Sender) Publish(ctx context.Context, r Message) error {
	if err := c.failed(); err != nil {
		return err
	}
	if r.Retain && !c.retainOK {
		return fmt.Errorf("the broker at %s does not accept retained messages; replay with the retain flag cleared (--no-retain)", c.target)
	}
	p := pahoPublish(r)
	p.QoS = min(r.QoS, c.maxQoS)
	// A broker that stops reading blocks the write once the socket buffers
	// are full; when ctx ends, give the write a moment and then fail it.
	stop := context.AfterFunc(ctx, c.limitWrites)
	_, err := c.pc.PublishWithOptions(ctx, p, paho.PublishOptions{Method: paho.PublishMethod_AsyncSend})
	stop()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if ferr := c.failed(); ferr != nil {
		return ferr // the cause, rather than its echo
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the broker at %s acknowledged nothing for %s while %d messages waited", c.target, c.timeout, cap(c.slots))
	}
	if errors.Is(err, paho.ErrNetworkErrorAfterStored) || errors.Is(err, session.ErrNoConnection) {
		return fmt.Errorf("connection to %s lost", c.target)
	}
	return fmt.Errorf("publish to %s: %w", c.target, err)
}

// Flush waits until every QoS 1 and 2 message sent so far is acknowledged
// (or the connection is lost) and returns the first failure, if any.
func (c *Sender) Flush(ctx context.Context) error {
	n := 0
	defer func() {
		for range n {
			<-c.slots
		}
	}()
	for n < cap(c.slots) {
		select {
		case c.slots <- struct{}{}:
			n++
		case <-ctx.Done():
			if err := c.failed(); err != nil {
				return err
			}
			return fmt.Errorf("waiting for %s to acknowledge %d messages: %w", c.target, cap(c.slots)-n, ctx.Err())
		}
	}
	return c.failed()
}

// Close disconnects and waits until nothing of c is left running.
func (c *Sender) Close() error {
	var err error
	c.once.Do(func() {
		c.closing.Store(true)
		c.limitWrites()
		err = c.pc.Disconnect(&paho.Disconnect{ReasonCode: 0})
		c.acks.Wait()
	})
	if err != nil && !errors.Is(err, net.ErrClosed) && c.failed() == nil {
		return fmt.Errorf("disconnect from %s: %w", c.target, err)
	}
	return nil // a connection already lost was reported by Publish or Flush
}

// limitWrites lets a write that is blocked now, or blocks later, fail
// after stuckWriteGrace, for a broker that stopped reading.
func (c *Sender) limitWrites() {
	at := time.Now().Add(stuckWriteGrace)
	_ = c.conn.SetWriteDeadline(at)
}

func (c *Sender) fail(err error) {
	if c.closing.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

func (c *Sender) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// checkAck records the broker's refusal of the message on topic.
func (c *Sender) checkAck(topic string, cp packets.ControlPacket) {
	var code byte
	var reason string
	switch p := cp.Content.(type) {
	case *packets.Puback:
		code, reason = p.ReasonCode, p.Reason()
	case *packets.Pubrec:
		code, reason = p.ReasonCode, p.Reason()
	case *packets.Pubcomp:
		code, reason = p.ReasonCode, fmt.Sprintf("reason code 0x%02x", p.ReasonCode)
	default:
		c.fail(fmt.Errorf("connection to %s lost before the broker acknowledged the message on %q", c.target, topic))
		return
	}
	if code >= 0x80 {
		c.fail(fmt.Errorf("the broker at %s refused the message on %q: %s (reason 0x%02x)", c.target, topic, reasonName(reason), code))
	}
}

var errFailed = errors.New("an earlier message failed")

// stuckWriteGrace is how long a write may still block once the replay is
// cancelled or the Sender closed.
const stuckWriteGrace = time.Second

// ackSession is paho's in-memory session with a window: it holds a slot of
// Sender.slots for each QoS 1/2 PUBLISH from the moment it is added until
// its acknowledgement, so that Publish can send without waiting for the
// acknowledgement (keeping order) while Flush and the window still see it.
type ackSession struct {
	*state.State
	c *Sender
}

func (s *ackSession) AddToSession(ctx context.Context, p session.Packet, resp chan<- packets.ControlPacket) error {
	pub, ok := p.(*packets.Publish)
	if !ok {
		return s.State.AddToSession(ctx, p, resp)
	}
	c := s.c
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.pc.Done():
		return session.ErrNoConnection
	}
	if c.failed() != nil { // the broker refused an earlier message: send no more
		<-c.slots
		return errFailed
	}
	mine := make(chan packets.ControlPacket, 1)
	if err := s.State.AddToSession(ctx, p, mine); err != nil {
		<-c.slots
		return err
	}
	topic := pub.Topic
	c.acks.Add(1)
	go func() {
		defer c.acks.Done()
		defer func() { <-c.slots }()
		var cp packets.ControlPacket
		select {
		case cp = <-mine:
		case <-c.pc.Done():
			// The session is cleaned without answering when the connection
			// goes; an acknowledgement that raced the shutdown still counts.
			select {
			case cp = <-mine:
			default:
			}
		}
		select {
		case resp <- cp:
		default:
		}
		c.checkAck(topic, cp)
	}()
	return nil
}

func senderTLS(t transport.Target, o SenderOptions) (*tls.Config, error) {
	if !t.TLS() {
		if o.CAFile != "" {
			return nil, fmt.Errorf("%w %q: a CA file applies to mqtts:// and wss:// URLs only", transport.ErrBadURL, t.String())
		}
		return nil, nil
	}
	var conf *tls.Config
	if o.TLS != nil {
		conf = o.TLS.Clone()
	} else {
		conf = &tls.Config{MinVersion: tls.VersionTLS12}
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("read the CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
			}
			conf.RootCAs = pool
		}
	}
	if conf.ServerName == "" {
		host, _, _ := net.SplitHostPort(t.Addr)
		conf.ServerName = host
	}
	return conf, nil
}

// senderDialError explains a failure to reach the broker.
func senderDialError(t transport.Target, err error, timeout time.Duration) error {
	var (
		dnsErr   *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		hsErr    *transport.HandshakeError
		netErr   net.Error
		certPath = "give the CA certificate that signed it (--ca FILE; for an IoT Studio broker, iotstudio ca export writes it)"
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("connect to %s: connection refused: no broker is listening on %s; check the host and port and that the broker runs", t, t.Addr)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("connect to %s: cannot find the host %q (%v); check its spelling and your DNS", t, dnsErr.Name, dnsErr.Err)
	case errors.As(err, &unknown):
		return fmt.Errorf("connect to %s: the broker's certificate is signed by an authority this machine does not trust; %s", t, certPath)
	case errors.As(err, &hostErr):
		return fmt.Errorf("connect to %s: the broker's certificate is not valid for this host (%v); connect with a name the certificate lists", t, hostErr)
	case errors.As(err, &invalid):
		return fmt.Errorf("connect to %s: the broker's certificate is not valid (%v)", t, invalid)
	case errors.As(err, &recErr):
		return fmt.Errorf("connect to %s: the server did not answer with TLS; is this a plain mqtt:// or ws:// port?", t)
	case t.TLS() && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
		return fmt.Errorf("connect to %s: the server closed the connection during the TLS handshake; is this a plain mqtt:// or ws:// port?", t)
	case errors.As(err, &hsErr):
		return fmt.Errorf("connect to %s: %v; check the path (IoT Studio serves MQTT at %s)", t, hsErr, "/mqtt")
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("connect to %s: no answer within %s; check the host, the port and any firewall in between", t, timeout)
	}
	return fmt.Errorf("connect to %s: %w", t, err)
}

// senderConnackError explains a refused or failed MQTT connect.
func senderConnackError(t transport.Target, ack *paho.Connack, err error, user string, timeout time.Duration) error {
	if ack == nil || ack.ReasonCode == 0 {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("connect to %s: no MQTT answer within %s; is this an MQTT port?", t, timeout)
		}
		return fmt.Errorf("connect to %s: no MQTT 5 answer (%v); is this an MQTT port, and does the broker speak MQTT 5?", t, err)
	}
	code := ack.ReasonCode
	why := ""
	if ack.Properties != nil && ack.Properties.ReasonString != "" {
		why = " (" + ack.Properties.ReasonString + ")"
	}
	switch code {
	case 0x86, 0x04: // bad user name or password (MQTT 5, 3.1.1)
		if user == "" {
			return fmt.Errorf("connect to %s: the broker wants a user name and password; give --user NAME and the password in IOTSTUDIO_MQTT_PASSWORD", t)
		}
		return fmt.Errorf("connect to %s: the broker refused user %q: bad user name or password%s; check --user and IOTSTUDIO_MQTT_PASSWORD", t, user, why)
	case 0x87, 0x05:
		if user == "" {
			return fmt.Errorf("connect to %s: not authorized%s; the broker may want a user: give --user NAME and the password in IOTSTUDIO_MQTT_PASSWORD", t, why)
		}
		return fmt.Errorf("connect to %s: user %q is not authorized to connect%s", t, user, why)
	case 0x84, 0x01:
		return fmt.Errorf("connect to %s: the broker does not support MQTT 5, which replay needs to keep message properties", t)
	case 0x88, 0x89, 0x03:
		return fmt.Errorf("connect to %s: the broker is unavailable or busy%s; try again later", t, why)
	}
	return fmt.Errorf("connect to %s: the broker refused the connection: %s (reason 0x%02x)%s", t, reasonName(connackReason(code)), code, why)
}

func connackReason(code byte) string {
	return (&packets.Connack{ReasonCode: code}).Reason()
}

func disconnectReason(d *paho.Disconnect) string {
	s := reasonName((&packets.Disconnect{ReasonCode: d.ReasonCode}).Reason())
	if s == "" {
		s = "no reason given"
	}
	s += fmt.Sprintf(" (reason 0x%02x)", d.ReasonCode)
	if d.Properties != nil && d.Properties.ReasonString != "" {
		s += ": " + d.Properties.ReasonString
	}
	return s
}
