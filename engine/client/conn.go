package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/client/transport"
	"github.com/iotstudio/iotstudio/engine/message"
)

// State is where a connection is in its life.
type State int

const (
	StateConnecting   State = iota // first attempt under way
	StateConnected                 // CONNACK accepted
	StateReconnecting              // an attempt failed or the link was lost; retrying after a back-off
	StateDisconnected              // closed by the user; no more attempts
)

func (s State) String() string {
	return [...]string{"connecting", "connected", "reconnecting", "disconnected"}[s]
}

// Status is a snapshot of one connection, cheap to take.
type Status struct {
	Name string
	URL  string
	// Protocol is the MQTT version the connection speaks (or tries), never
	// ProtocolAuto: with that profile setting it is 5 until the broker
	// turns out to speak only 3.1.1, and AutoProtocol is set.
	Protocol     Protocol
	AutoProtocol bool
	ClientID     string
	State        State
	// LastError is why the last attempt failed or the link was lost
	// (a *ConnError); kept while reconnecting, cleared on connect.
	LastError error
	// LostReason is why the link that was up broke (a *ConnError), when
	// known; unlike LastError, the attempts after it do not replace it.
	// Cleared on connect.
	LostReason error
	Since      time.Time // when State was entered
	Attempts   int       // failed attempts since the last success
	Received   int64     // messages received
	Dropped    int64     // received messages the Sink refused
}

// Subscription asks for messages matching Filter. NoLocal,
// RetainAsPublished and RetainHandling are MQTT 5 options.
type Subscription struct {
	Filter            string `json:"filter"`
	QoS               byte   `json:"qos,omitempty"`
	NoLocal           bool   `json:"no_local,omitempty"`
	RetainAsPublished bool   `json:"retain_as_published,omitempty"`
	// RetainHandling: 0 send retained messages at subscribe, 1 only for a
	// new subscription, 2 never.
	RetainHandling byte `json:"retain_handling,omitempty"`
}

func (s Subscription) hasV5Options() bool {
	return s.NoLocal || s.RetainAsPublished || s.RetainHandling != 0
}

// SubResult is the broker's answer to one filter of a SUBSCRIBE.
type SubResult struct {
	Filter  string
	Granted byte   // the QoS granted, when not Refused
	Refused bool   // the broker refused the subscription
	Reason  string // why, in words, when Refused
}

// Message is what Publish sends. The properties other than Topic, Payload,
// QoS and Retain are MQTT 5 only.
type Message struct {
	Topic           string
	Payload         []byte
	QoS             byte
	Retain          bool
	ContentType     string
	PayloadFormat   *byte
	MessageExpiry   *uint32
	ResponseTopic   string
	CorrelationData []byte
	UserProps       []message.UserProp
}

func (m Message) hasV5Props() bool {
	return m.ContentType != "" || m.PayloadFormat != nil || m.MessageExpiry != nil || m.ResponseTopic != "" || m.CorrelationData != nil || len(m.UserProps) > 0
}

// ErrNotConnected is returned by Subscribe, Unsubscribe and Publish while
// the connection is not up.
var ErrNotConnected = errors.New("not connected")

// Options tune every connection of a Manager.
type Options struct {
	// Backoff bounds the wait between attempts: it starts at MinBackoff and
	// doubles up to MaxBackoff. Defaults 1 s and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds each connect attempt and each acknowledgement
	// (default 10 s).
	Timeout time.Duration
	Logger  *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// OnState, when set, is told each change of a connection's State,
	// and each failed attempt while reconnecting (the session journal):
	// the Status just after it, LastError saying why. Called on the
	// library's goroutines; it must not block.
	OnState func(Status)
}

func (o *Options) defaults() {
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(30*time.Second, o.MinBackoff)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// backoff is the wait before attempt n (n = 1 after the first failure):
// doubling from min up to max, less up to a fifth at random so that many
// clients of one broker do not retry in step.
func (o Options) backoff(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := o.MinBackoff
	for i := 1; i < n && d < o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// backend is one MQTT library driving a Connection.
type backend interface {
	subscribe(ctx context.Context, subs []Subscription) ([]SubResult, error)
	unsubscribe(ctx context.Context, filters []string) error
	publish(ctx context.Context, m Message) error
	// stop ends the connection and waits for everything it started.
	stop(ctx context.Context) error
}

// Connection is one open profile. Its methods are safe for concurrent use.
type Connection struct {
	profile Profile
	creds   Credentials // for the 3.1.1 backend an automatic protocol may fall back to
	target  transport.Target
	rec     message.Sink
	opts    Options
	log     *slog.Logger
	notify  func()

	received, dropped atomic.Int64

	mu sync.Mutex
	// refusedAtConnect: the last failure came before a CONNACK (not a
	// broken link), for explain.
	refusedAtConnect bool
	// decided: an automatic protocol has made its choice (a CONNACK on
	// MQTT 5, or the fallback to 3.1.1), which holds for the reconnects.
	decided bool
	// lossReason: why the broker is ending a live link, heard before the
	// library reports the link down (a DISCONNECT, a read error); it
	// becomes the LastError and LostReason of that loss.
	lossReason *ConnError
	st         Status
	subs       []Subscription // what to hold, in the order asked; renewed after a reconnect without session
	be         backend
	// ready is closed once be is set: the libraries can report the first
	// connect (and its subscribe-on-connect) before Open has be.
	ready chan struct{}

	wg     sync.WaitGroup // goroutines this package starts for the connection
	ctx    context.Context
	cancel context.CancelFunc
}

// Status returns a snapshot.
func (c *Connection) Status() Status {
	c.mu.Lock()
	s := c.st
	c.mu.Unlock()
	s.Received, s.Dropped = c.received.Load(), c.dropped.Load()
	return s
}

// Profile is the profile the connection was opened with.
func (c *Connection) Profile() Profile { return c.profile }

// Subscriptions lists the filters the connection holds.
func (c *Connection) Subscriptions() []Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.subs)
}

func (c *Connection) setState(s State, err error) {
	c.mu.Lock()
	if c.st.State == StateDisconnected {
		c.mu.Unlock()
		return // closed: late callbacks from the library change nothing
	}
	changed := c.st.State != s
	switch s {
	case StateConnected:
		c.st.Attempts = 0
		c.st.LastError, c.st.LostReason = nil, nil
		c.lossReason = nil
		c.decided = true
	case StateReconnecting:
		if err != nil {
			c.st.LastError = err
		}
		if changed || err != nil {
			c.st.Attempts++
		}
	}
	if changed {
		c.st.Since = c.opts.Now()
	}
	c.st.State = s
	st := c.st
	c.mu.Unlock()
	if (changed || err != nil) && c.opts.OnState != nil {
		c.opts.OnState(st)
	}
	if changed {
		c.log.Info("connection state", "connection", c.profile.Name, "state", s.String(), "error", err)
	} else if err != nil {
		c.log.Debug("connection attempt failed", "connection", c.profile.Name, "error", err)
	}
	c.notify()
}

// failed records an attempt that failed or a link that broke; err is nil
// when the library says only that the link is down.
func (c *Connection) failed(err error, wc *watchConn) {
	c.mu.Lock()
	wasUp := c.st.State == StateConnected
	c.refusedAtConnect = !wasUp
	why := c.lossReason
	c.lossReason = nil
	c.mu.Unlock()
	if err != nil {
		why = c.explain(err, wc)
		if c.fallBack(why) {
			return
		}
	}
	if why == nil {
		c.setState(StateReconnecting, nil)
		return
	}
	if wasUp {
		c.mu.Lock()
		c.st.LostReason = why
		c.mu.Unlock()
	}
	c.setState(StateReconnecting, why)
}

// fallBack moves a connection with the automatic protocol to MQTT 3.1.1
// when the broker refused its MQTT 5 CONNECT before any MQTT 5 CONNACK
// (see refusesMQTT5), and reports whether it did. The attempt is not a failure the person sees:
// the state stays as it was and the 3.1.1 attempt follows at once.
func (c *Connection) fallBack(ce *ConnError) bool {
	c.mu.Lock()
	ok := c.profile.Protocol == ProtocolAuto && !c.decided && c.refusedAtConnect && c.st.Protocol == MQTT5 && refusesMQTT5(ce)
	if ok {
		c.decided = true
		c.st.Protocol = MQTT311
	}
	c.mu.Unlock()
	if !ok {
		return false
	}
	c.log.Info("the broker refused MQTT 5; trying MQTT 3.1.1", "connection", c.profile.Name, "why", ce.Msg)
	// The library calls this from its own goroutine, which stopping it
	// waits for: the switch runs on one of the connection's.
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.switchTo311()
	}()
	c.notify()
	return true
}

// refusesMQTT5: the broker answered an MQTT 5 CONNECT by closing
// the connection (RabbitMQ before 3.13), with bytes that are no MQTT 5
// CONNACK (such as a 3.1.1 CONNACK refusing the protocol version), with
// nothing at all (ActiveMQ Classic), or refused the version in an MQTT 5
// CONNACK.
func refusesMQTT5(ce *ConnError) bool {
	return ce.Kind == ErrConnectionLost || ce.Kind == ErrBadProtocol || ce.Kind == ErrNotMQTT || ce.Kind == ErrNoConnack
}

// switchTo311 stops the MQTT 5 backend and starts the 3.1.1 one in its
// place, unless the connection is closed meanwhile.
func (c *Connection) switchTo311() {
	if c.awaitReady() != nil {
		return
	}
	c.mu.Lock()
	old := c.be
	c.mu.Unlock()
	if v, ok := old.(*v5); ok {
		v.retired.Store(true)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	if err := old.stop(ctx); err != nil {
		c.log.Warn("stop the MQTT 5 attempts", "connection", c.profile.Name, "error", err)
	}
	// Under the lock, so that close either sees the new backend or has
	// cancelled the context before it could start.
	c.mu.Lock()
	if c.ctx.Err() != nil {
		c.mu.Unlock()
		return
	}
	be, err := startV3(c, c.creds)
	if err == nil {
		c.be = be
	}
	c.mu.Unlock()
	if err != nil {
		c.setState(StateReconnecting, explain(c.target.String(), err, nil, c.profile.Username))
	}
}

// protocol is what the connection speaks now (see Status.Protocol).
func (c *Connection) protocol() Protocol {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.Protocol
}

// explain words err for this connection. A broker that speaks only MQTT
// 3.1.1 (RabbitMQ before 3.13, ActiveMQ Classic) hangs up on an MQTT 5
// CONNECT without a CONNACK, which on its own reads as a vague "closed the
// connection".
func (c *Connection) explain(err error, wc *watchConn) *ConnError {
	ce := explain(c.target.String(), err, wc, c.profile.Username)
	c.mu.Lock()
	atConnect := c.refusedAtConnect
	c.mu.Unlock()
	v5Advice := ""
	if c.profile.Protocol == MQTT5 {
		v5Advice = "; if it speaks only MQTT 3.1.1 (RabbitMQ before 3.13, ActiveMQ Classic), set the connection's protocol to automatic or MQTT 3.1.1"
	}
	switch {
	case atConnect && wc != nil && c.protocol() == MQTT5 && answered311(wc.received()):
		ce.Kind = ErrBadProtocol
		ce.Msg = "the broker answered in MQTT 3.1.1, refusing MQTT 5: it speaks only 3.1.1 (as ActiveMQ Classic does); set the connection's protocol to automatic or MQTT 3.1.1"
	case ce.Kind == ErrConnectionLost && atConnect && v5Advice != "":
		ce.Msg = "the broker closed the connection without accepting it" + v5Advice + "; otherwise check that the port speaks MQTT and the broker's log"
	case ce.Kind == ErrTimeout && atConnect && wc != nil && len(wc.received()) == 0:
		// The network connection was made; the CONNECT got no answer, as
		// ActiveMQ Classic does with an MQTT 5 one.
		ce.Kind = ErrNoConnack
		ce.Msg = "the broker took the connection but did not answer the CONNECT in time"
		if v5Advice != "" {
			ce.Msg += v5Advice + "; otherwise"
		} else {
			ce.Msg += ";"
		}
		ce.Msg += " check that the port speaks MQTT and the broker's log"
	}
	return ce
}

// answered311 says the broker's first bytes are an MQTT 3.1.1 CONNACK (an
// MQTT 5 one is longer: it has properties).
func answered311(head []byte) bool {
	return len(head) >= 2 && head[0] == 0x20 && head[1] == 0x02
}

// noteError keeps a later, more precise error for the current failure
// without counting another attempt (autopaho often reports why a link
// broke after it reports that it broke, and sometimes before: then the
// reason waits in lossReason).
func (c *Connection) noteError(err error, wc *watchConn) {
	ce := c.explain(err, wc)
	c.mu.Lock()
	ok := c.st.State == StateReconnecting
	if ok {
		c.st.LastError = ce
		// The libraries report this only about a link that was up.
		if c.st.LostReason == nil {
			c.st.LostReason = ce
		}
	} else if c.st.State == StateConnected && c.lossReason == nil {
		c.lossReason = ce
	}
	st := c.st
	c.mu.Unlock()
	if ok {
		if c.opts.OnState != nil {
			c.opts.OnState(st) // why the link broke, told after it broke
		}
		c.notify()
	}
}

// ingest hands a received message to the Sink.
func (c *Connection) ingest(r message.Message) {
	c.received.Add(1)
	if c.rec != nil && !c.rec.Ingest(r) {
		c.dropped.Add(1)
	}
}

// Subscribe asks the broker for the filters and returns its answer per
// filter. The subscriptions the broker grants are renewed after reconnects
// that lose the session.
func (c *Connection) Subscribe(ctx context.Context, subs ...Subscription) ([]SubResult, error) {
	if len(subs) == 0 {
		return nil, nil
	}
	// A filter the broker must reject can close the whole connection
	// (a protocol error), so nothing invalid goes out.
	for _, s := range subs {
		if err := CheckSubscription(s, c.protocol()); err != nil {
			return nil, fmt.Errorf("subscribe on %s: %w", c.profile.Name, err)
		}
	}
	be, err := c.backend()
	if err != nil {
		return nil, err
	}
	res, err := be.subscribe(ctx, subs)
	if err != nil {
		return res, fmt.Errorf("subscribe on %s: %w", c.profile.Name, err)
	}
	c.mu.Lock()
	for i, r := range res {
		if r.Refused {
			continue
		}
		c.subs = slices.DeleteFunc(c.subs, func(s Subscription) bool { return s.Filter == r.Filter })
		c.subs = append(c.subs, subs[i])
	}
	c.mu.Unlock()
	c.notify()
	return res, nil
}

// Unsubscribe drops filters.
func (c *Connection) Unsubscribe(ctx context.Context, filters ...string) error {
	c.mu.Lock()
	c.subs = slices.DeleteFunc(c.subs, func(s Subscription) bool { return slices.Contains(filters, s.Filter) })
	c.mu.Unlock()
	c.notify()
	be, err := c.backend()
	if err != nil {
		return err
	}
	if err := be.unsubscribe(ctx, filters); err != nil {
		return fmt.Errorf("unsubscribe on %s: %w", c.profile.Name, err)
	}
	return nil
}

// Publish sends m. QoS 1 and 2 wait for the broker's acknowledgement.
func (c *Connection) Publish(ctx context.Context, m Message) error {
	if m.QoS > 2 {
		return fmt.Errorf("publish on %s: QoS %d; use 0, 1 or 2", c.profile.Name, m.QoS)
	}
	if c.protocol() == MQTT311 && m.hasV5Props() {
		return fmt.Errorf("publish on %s: message properties (content type, expiry, response topic, correlation data, user properties) need MQTT 5; this connection speaks MQTT 3.1.1", c.profile.Name)
	}
	be, err := c.backend()
	if err != nil {
		return err
	}
	if err := be.publish(ctx, m); err != nil {
		return fmt.Errorf("publish to %q on %s: %w", m.Topic, c.profile.Name, err)
	}
	return nil
}

func (c *Connection) backend() (backend, error) {
	if err := c.awaitReady(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.State == StateDisconnected {
		return nil, fmt.Errorf("connection %s is closed", c.profile.Name)
	}
	if c.st.State != StateConnected {
		return nil, fmt.Errorf("connection %s: %w (%s)", c.profile.Name, ErrNotConnected, c.st.State)
	}
	return c.be, nil
}

// awaitReady waits until Open has set be, which follows the start of the
// library by microseconds, or the connection is closed.
func (c *Connection) awaitReady() error {
	select {
	case <-c.ready:
		return nil
	case <-c.ctx.Done():
		return fmt.Errorf("connection %s is closed", c.profile.Name)
	}
}

// resubscribe renews the subscriptions on a new session. It runs on its
// own goroutine (the libraries' connect callbacks must not block), owned
// by the connection.
func (c *Connection) resubscribe() {
	subs := c.Subscriptions()
	if len(subs) == 0 {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.Timeout)
		defer cancel()
		if c.awaitReady() != nil {
			return
		}
		c.mu.Lock()
		be := c.be
		c.mu.Unlock()
		res, err := be.subscribe(ctx, subs)
		if err != nil {
			c.log.Warn("renew subscriptions after reconnect", "connection", c.profile.Name, "error", err)
			return
		}
		for _, r := range res {
			if r.Refused {
				c.log.Warn("subscription refused after reconnect", "connection", c.profile.Name, "filter", r.Filter, "reason", r.Reason)
			}
		}
	}()
}

// close stops the connection and waits for its goroutines.
func (c *Connection) close(ctx context.Context) error {
	c.cancel()
	select {
	case <-c.ready: // an Open under way finishes first
	case <-ctx.Done():
		return fmt.Errorf("close connection %s: %w", c.profile.Name, ctx.Err())
	}
	c.mu.Lock()
	be := c.be
	already := c.st.State == StateDisconnected
	c.mu.Unlock()
	if already {
		return nil
	}
	err := be.stop(ctx)
	c.mu.Lock()
	c.st.State, c.st.Since = StateDisconnected, c.opts.Now()
	st := c.st
	c.mu.Unlock()
	if c.opts.OnState != nil {
		c.opts.OnState(st)
	}
	c.wg.Wait()
	c.notify()
	if err != nil {
		return fmt.Errorf("close connection %s: %w", c.profile.Name, err)
	}
	return nil
}

// Manager holds the open connections. Its methods are safe for concurrent
// use.
type Manager struct {
	rec  message.Sink
	opts Options

	mu       sync.Mutex
	conns    map[string]*Connection // by profile name
	order    []string
	watchers map[chan struct{}]struct{}
}

// NewManager makes a Manager whose connections feed rec (may be nil).
func NewManager(rec message.Sink, opts Options) *Manager {
	opts.defaults()
	return &Manager{rec: rec, opts: opts, conns: map[string]*Connection{}, watchers: map[chan struct{}]struct{}{}}
}

// Open starts connecting p in the background and returns at once; watch
// Status for the outcome. A profile that is open already is an error.
func (m *Manager) Open(p Profile, creds Credentials) (*Connection, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	t, err := transport.ParseURL(p.URL)
	if err != nil {
		return nil, err
	}
	if p.ClientID == "" {
		p.ClientID = UniqueClientID()
	}
	if p.KeepAlive == 0 {
		p.KeepAlive = DefaultKeepAlive
	}
	m.mu.Lock()
	if _, ok := m.conns[p.Name]; ok {
		m.mu.Unlock()
		return nil, fmt.Errorf("connection %q is open already", p.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	speaks := p.Protocol
	if speaks == ProtocolAuto {
		speaks = MQTT5 // first; see fallBack
	}
	c := &Connection{
		profile: p, creds: creds, target: t, rec: m.rec, opts: m.opts, notify: m.notify, ctx: ctx, cancel: cancel,
		// Made at the first connect like renewed ones after a reconnect.
		subs:  slices.Clone(p.Subscribe),
		ready: make(chan struct{}),
		log:   m.opts.Logger.With("url", t.String()),
		st: Status{Name: p.Name, URL: t.String(), Protocol: speaks, AutoProtocol: p.Protocol == ProtocolAuto,
			ClientID: p.ClientID, State: StateConnecting, Since: m.opts.Now()},
	}
	m.conns[p.Name] = c
	m.order = append(m.order, p.Name)
	m.mu.Unlock()

	var be backend
	if p.Protocol == MQTT311 {
		be, err = startV3(c, creds)
	} else {
		be, err = startV5(c, creds)
	}
	if err != nil {
		cancel()
		m.remove(p.Name)
		return nil, err
	}
	c.mu.Lock()
	c.be = be
	c.mu.Unlock()
	close(c.ready)
	m.notify()
	return c, nil
}

// Get returns the open connection named name, or nil.
func (m *Manager) Get(name string) *Connection {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conns[name]
}

// Close disconnects the named connection and forgets it.
func (m *Manager) Close(ctx context.Context, name string) error {
	m.mu.Lock()
	c := m.conns[name]
	m.mu.Unlock()
	if c == nil {
		return fmt.Errorf("no open connection %q", name)
	}
	err := c.close(ctx)
	m.remove(name)
	m.notify()
	return err
}

// CloseAll closes every connection (at shutdown).
func (m *Manager) CloseAll(ctx context.Context) error {
	m.mu.Lock()
	names := slices.Clone(m.order)
	m.mu.Unlock()
	var errs []error
	for _, n := range names {
		if err := m.Close(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) remove(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.conns, name)
	m.order = slices.DeleteFunc(m.order, func(n string) bool { return n == name })
}

// Snapshot returns every open connection's status, in the order opened.
func (m *Manager) Snapshot() []Status {
	m.mu.Lock()
	conns := make([]*Connection, 0, len(m.order))
	for _, n := range m.order {
		conns = append(conns, m.conns[n])
	}
	m.mu.Unlock()
	out := make([]Status, len(conns))
	for i, c := range conns {
		out[i] = c.Status()
	}
	return out
}

// Watch returns a channel that receives a value soon after any connection
// changes (state, error, subscriptions). Changes coalesce: a slow reader
// gets one wake-up for many and then reads Snapshot. Nothing ever blocks on
// a watcher. Call stop when done.
func (m *Manager) Watch() (changed <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	m.mu.Lock()
	m.watchers[ch] = struct{}{}
	m.mu.Unlock()
	return ch, func() {
		m.mu.Lock()
		delete(m.watchers, ch)
		m.mu.Unlock()
	}
}

func (m *Manager) notify() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ch := range m.watchers {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}
