package fleet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/client/transport"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// Devices is what a Runner runs: a fleet's devices, built on demand
// (engine/sim/device's Fleet is one; tests pass their own).
type Devices interface {
	Name() string
	Len() int
	Device(i int) sim.Behaviour
	Ramp() scenario.Ramp
}

// Target is the broker the devices connect to.
type Target struct {
	// URL as transport.ParseURL reads it: mqtt://, mqtts://, ws://, wss://.
	URL string
	// Protocol is 5 (MQTT 5, the default when 0) or 4 (MQTT 3.1.1).
	Protocol byte
	// Username and Password are sent when not empty.
	Username, Password string
	// TLS is used for mqtts:// and wss://; nil means the system's roots.
	TLS *tls.Config
}

// TargetFromProfile is the target of a saved connection: its URL,
// protocol, user, password (or Azure SAS token) and TLS settings, the
// secrets read from s.
func TargetFromProfile(p client.Profile, s *client.Secrets) (Target, error) {
	creds, err := s.Credentials(p)
	if err != nil {
		return Target{}, fmt.Errorf("devices on connection %q: %w", p.Name, err)
	}
	return TargetFor(p, creds)
}

// TargetFor is the target of a connection profile with its secrets
// already read (the CLI reads them from the environment).
func TargetFor(p client.Profile, creds client.Credentials) (Target, error) {
	tlsConf, err := p.TLSConfig(creds)
	if err != nil {
		return Target{}, fmt.Errorf("devices on connection %q: %w", p.Name, err)
	}
	pw, _, err := p.Password(creds, time.Now())
	if err != nil {
		return Target{}, fmt.Errorf("devices on connection %q: %w", p.Name, err)
	}
	return Target{URL: p.URL, Protocol: p.Protocol.Level(), Username: p.Username, Password: pw, TLS: tlsConf}, nil
}

// Options tune a Runner; zero values mean the defaults.
type Options struct {
	// ConnectTimeout bounds each connect attempt (default 10 s).
	ConnectTimeout time.Duration
	// StopTimeout bounds the graceful stop of all devices (default 5 s);
	// devices not stopped by then are dropped.
	StopTimeout time.Duration
	// Seed seeds stream phases, jitter, chaos and reconnect spreading.
	Seed uint64
	// Connectors is how many connects run at once (default 32).
	Connectors int
	// Senders is how many goroutines send the devices' messages (default
	// 4); each device always uses the same one, so its messages keep
	// their order.
	Senders int
	Logger  *slog.Logger
}

func (o *Options) defaults() {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 5 * time.Second
	}
	if o.Connectors <= 0 {
		o.Connectors = 32
	}
	if o.Senders <= 0 {
		o.Senders = 4
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// DefaultRamp is how fast devices connect when the fleet does not say.
const DefaultRamp = 100 // connections per second

// User properties every MQTT 5 stream message carries, so a receiver can
// tell loss (gaps in sim-seq, per device) and latency (now − sim-ts), and
// which device sent it when the broker does not say (a subscription on
// another broker sees no publisher client ID).
const (
	PropSeq    = "sim-seq"
	PropTime   = "sim-ts" // unix ns
	PropClient = "sim-client"
)

// Runner runs a fleet of devices as MQTT clients. Its methods are safe for
// concurrent use; Run is called once.
type Runner struct {
	src    Devices
	target Target
	opt    Options
	log    *slog.Logger

	devs []*device
	byID map[string]*device
	obs  *Observer

	sched    *sched
	senders  []chan job
	connectQ chan *device
	dial     func(ctx context.Context, d *device, h handlers) (conn, error)
	addr     transport.Target

	running  atomic.Bool
	stopping atomic.Bool
	paused   atomic.Bool
	runCtx   context.Context // the senders' and connectors' life, set by Run

	// teardowns are MQTT 3.1.1 clients being torn down after a kill.
	teardowns sync.WaitGroup

	counters
}

// device is one simulated device and its connection.
type device struct {
	idx      int
	b        sim.Behaviour
	id       string
	clientID string
	streams  []sim.Stream
	subs     []sim.Subscription
	conf     sim.Connect

	sent atomic.Uint64
	seq  atomic.Uint64 // the next sim-seq
	rnd  *devRand

	mu         sync.Mutex
	state      State
	conn       conn
	epoch      uint32
	attempt    int
	everOnline bool
	queued     bool
	lastErr    string
}

// State is where a device is in its life.
type State uint8

const (
	Waiting      State = iota // its turn in the ramp has not come
	Connecting                // first connect under way
	Online                    // connected
	Offline                   // away on purpose (chaos, a handler, Kill), coming back
	Reconnecting              // lost or refused; trying again after a back-off
	Stopped                   // the fleet stopped
)

func (s State) String() string {
	return [...]string{"waiting", "connecting", "online", "offline", "reconnecting", "stopped"}[s]
}

// job is work for a sender goroutine: a stream message due at at, or a
// handler's effects (kept in order with the device's stream messages).
type job struct {
	d       *device
	at      int64
	stream  int32
	epoch   uint32
	effects []sim.Effect
}

// New prepares a runner for src's devices on target; Run starts them.
func New(src Devices, target Target, opt Options) *Runner {
	opt.defaults()
	r := &Runner{
		src: src, target: target, opt: opt,
		log:   opt.Logger.With("fleet", src.Name()),
		byID:  map[string]*device{},
		sched: newSched(),
	}
	n := src.Len()
	r.devs = make([]*device, n)
	clientIDs := make([]string, n)
	for i := range n {
		b := src.Device(i)
		id, cid := b.Identity()
		d := &device{idx: i, b: b, id: id, clientID: cid, streams: b.Streams(), subs: b.Subscriptions(), conf: b.Connect(), rnd: newDevRand(opt.Seed, i)}
		r.devs[i] = d
		r.byID[id] = d
		clientIDs[i] = cid
	}
	r.obs = NewObserver(clientIDs)
	return r
}

// Run connects the devices at the fleet's ramp and runs them until ctx
// ends; then it stops them gracefully (Offline messages, DISCONNECT, so
// no will fires), giving up after Options.StopTimeout. It returns an error
// for a target it cannot use, or naming how many devices were not stopped
// cleanly.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("the fleet runs already")
	}
	t, err := transport.ParseURL(r.target.URL)
	if err != nil {
		return fmt.Errorf("fleet %s: %w", r.src.Name(), err)
	}
	r.addr = t
	switch r.target.Protocol {
	case 0, 5:
		r.dial = r.dialV5
	case 4:
		r.dial = r.dialV3
	default:
		return fmt.Errorf("fleet %s: protocol %d: use 5 (MQTT 5) or 4 (MQTT 3.1.1)", r.src.Name(), r.target.Protocol)
	}

	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	r.runCtx = work
	var wg sync.WaitGroup
	r.senders = make([]chan job, r.opt.Senders)
	for i := range r.senders {
		ch := make(chan job, 1024)
		r.senders[i] = ch
		wg.Go(func() { r.send(work, ch) })
	}
	// Connect attempts end first at a stop, so that a slow or silent
	// target does not hold up the graceful stop of the connected devices.
	connecting, stopConnecting := context.WithCancel(work)
	defer stopConnecting()
	r.connectQ = make(chan *device, len(r.devs))
	for range min(r.opt.Connectors, max(len(r.devs), 1)) {
		wg.Go(func() { r.connectLoop(connecting) })
	}
	schedCtx, stopSched := context.WithCancel(context.Background())
	defer stopSched()
	var schedDone sync.WaitGroup
	schedDone.Go(func() { r.sched.run(schedCtx, r.fire) })

	now := time.Now()
	r.startedAt = now
	r.sched.add(event{at: now.UnixNano(), kind: evTick})
	if len(r.devs) > 0 {
		r.sched.add(event{at: now.UnixNano(), kind: evRamp, dev: 0})
	}
	<-ctx.Done()

	r.stopping.Store(true)
	stopSched()
	schedDone.Wait()
	stopConnecting()
	err = r.stopAll()
	stopWork()
	wg.Wait()
	r.teardowns.Wait()
	return err
}

// rampEvery is the time between two devices' connects.
func (r *Runner) rampEvery() time.Duration {
	rp := r.src.Ramp()
	switch {
	case rp.PerSecond > 0:
		return time.Duration(float64(time.Second) / rp.PerSecond)
	case rp.Over > 0 && len(r.devs) > 1:
		return rp.Over / time.Duration(len(r.devs)-1)
	case rp.Over > 0:
		return 0
	}
	return time.Second / DefaultRamp
}

// fire runs an event on the scheduler's goroutine; it must not block on
// the network.
func (r *Runner) fire(e event) {
	switch e.kind {
	case evTick:
		r.sampleRate(time.Now())
		r.sched.add(event{at: e.at + int64(time.Second), kind: evTick})
	case evRamp:
		r.queueConnect(r.devs[e.dev])
		if next := int(e.dev) + 1; next < len(r.devs) {
			at := r.startedAt.Add(time.Duration(next) * r.rampEvery()).UnixNano()
			r.sched.add(event{at: at, kind: evRamp, dev: int32(next)})
		}
	case evReconnect:
		r.queueConnect(r.devs[e.dev])
	case evStream:
		d := r.devs[e.dev]
		d.mu.Lock()
		live := d.conn != nil && d.epoch == e.epoch
		d.mu.Unlock()
		if !live {
			return // the connection it was scheduled for is gone; a new one schedules its own
		}
		if !r.paused.Load() {
			r.enqueue(job{d: d, at: e.at, stream: e.stream, epoch: e.epoch})
		}
		s := d.streams[e.stream]
		next := e.at + int64(s.Every)
		if s.Jitter > 0 {
			next += d.rnd.int64N(d.rnd.phase, 2*int64(s.Jitter)+1) - int64(s.Jitter)
		}
		r.sched.add(event{at: max(next, e.at+int64(time.Millisecond)), kind: evStream, dev: e.dev, stream: e.stream, epoch: e.epoch})
	case evChaos:
		d := r.devs[e.dev]
		d.mu.Lock()
		live := d.conn != nil && d.epoch == e.epoch
		d.mu.Unlock()
		if live && r.drop(d, Offline, d.conf.Downtime) {
			r.chaosDisconnects.Add(1)
		}
	case evEffects:
		r.enqueue(job{d: r.devs[e.dev], effects: e.effects})
	}
}

func (r *Runner) queueConnect(d *device) {
	if r.stopping.Load() {
		return
	}
	d.mu.Lock()
	if d.queued || d.conn != nil || d.state == Stopped {
		d.mu.Unlock()
		return
	}
	d.queued = true
	if d.state == Waiting {
		d.state = Connecting
	}
	d.mu.Unlock()
	r.connectQ <- d // never blocks: it holds every device, each at most once
}

func (r *Runner) enqueue(j job) {
	select {
	case r.senders[j.d.idx%len(r.senders)] <- j:
	case <-r.runCtx.Done():
	}
}

func (r *Runner) connectLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-r.connectQ:
			r.connect(ctx, d)
		}
	}
}

// connect makes one attempt for d and, once connected, publishes its
// Online messages, subscribes, and schedules its streams and chaos.
func (r *Runner) connect(ctx context.Context, d *device) {
	d.mu.Lock()
	d.queued = false
	d.mu.Unlock()
	if r.stopping.Load() {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, r.opt.ConnectTimeout)
	defer cancel()
	h := handlers{
		recv: func(m message.Message) { r.received(d, m) },
		lost: func(lc conn, err error) { r.lost(d, lc, err) },
	}
	c, err := r.dial(cctx, d, h)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		r.failed(d, r.explain(err))
		return
	}
	now := time.Now()
	d.mu.Lock()
	if r.stopping.Load() {
		d.mu.Unlock()
		c.disconnect()
		return
	}
	d.conn, d.state, d.attempt, d.lastErr = c, Online, 0, ""
	d.epoch++
	epoch := d.epoch
	again := d.everOnline
	d.everOnline = true
	d.mu.Unlock()
	r.connected.Add(1)
	if again {
		r.reconnects.Add(1)
	}
	for _, m := range d.b.Online(now) {
		if err := c.publish(m); err != nil {
			r.noteErr(d, fmt.Errorf("publish the online message to %q: %w", m.Topic, err))
		}
	}
	if len(d.subs) > 0 {
		if err := c.subscribe(cctx, d.subs); err != nil {
			r.noteErr(d, err)
		}
	}
	for i, s := range d.streams {
		if s.Every <= 0 {
			continue
		}
		// A random phase spreads the fleet's messages over the interval
		// instead of sending them in bursts at the ramp's pace.
		at := now.UnixNano() + d.rnd.int64N(d.rnd.phase, int64(s.Every))
		r.sched.add(event{at: at, kind: evStream, dev: int32(d.idx), stream: int32(i), epoch: epoch})
	}
	if d.conf.MTBF > 0 {
		r.sched.add(event{at: now.Add(d.rnd.exp(d.conf.MTBF)).UnixNano(), kind: evChaos, dev: int32(d.idx), epoch: epoch})
	}
}

// failed records a connect attempt that failed and schedules the next.
func (r *Runner) failed(d *device, err error) {
	d.mu.Lock()
	d.attempt++
	d.state = Reconnecting
	d.lastErr = err.Error()
	wait := backoff(d, d.attempt)
	d.mu.Unlock()
	r.errors.Add(1)
	r.setLastErr(err)
	r.log.Debug("device connect failed", "device", d.id, "error", err)
	r.sched.add(event{at: time.Now().Add(wait).UnixNano(), kind: evReconnect, dev: int32(d.idx)})
}

// lost is a connection's end the runtime did not ask for.
func (r *Runner) lost(d *device, c conn, err error) {
	d.mu.Lock()
	if d.conn != c {
		d.mu.Unlock()
		return // dropped or stopped on purpose: handled there
	}
	d.conn = nil
	d.epoch++
	d.state = Reconnecting
	d.attempt = 1
	e := r.explain(err)
	d.lastErr = e.Error()
	wait := backoff(d, d.attempt)
	d.mu.Unlock()
	r.connected.Add(-1)
	if r.stopping.Load() {
		return
	}
	r.errors.Add(1)
	r.setLastErr(e)
	r.sched.add(event{at: time.Now().Add(wait).UnixNano(), kind: evReconnect, dev: int32(d.idx)})
}

// drop closes d's connection without DISCONNECT (the broker fires its
// will), puts it in state st and brings it back after away.
func (r *Runner) drop(d *device, st State, away time.Duration) bool {
	d.mu.Lock()
	c := d.conn
	if c == nil {
		d.mu.Unlock()
		return false
	}
	d.conn = nil
	d.epoch++
	d.state = st
	d.mu.Unlock()
	r.connected.Add(-1)
	c.kill()
	r.sched.add(event{at: time.Now().Add(away).UnixNano(), kind: evReconnect, dev: int32(d.idx)})
	return true
}

// backoff is the wait before attempt n: from ReconnectMin doubling up to
// ReconnectMax, less up to a fifth at random so that a fleet whose broker
// restarts does not come back in one burst.
// backoff is d's wait before its n-th attempt: from ReconnectMin, doubling
// up to ReconnectMax, less up to a fifth at random so that devices
// dropped together do not come back together.
func backoff(d *device, n int) time.Duration {
	lo, hi := d.conf.ReconnectMin, d.conf.ReconnectMax
	if lo <= 0 {
		lo = time.Second
	}
	if hi < lo {
		hi = max(30*time.Second, lo)
	}
	w := lo
	for i := 1; i < n && w < hi; i++ {
		w *= 2
	}
	w = min(w, hi)
	return w - time.Duration(d.rnd.int64N(d.rnd.spreadBy, int64(w)/5+1))
}

// send runs the jobs of one sender goroutine.
func (r *Runner) send(ctx context.Context, ch chan job) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-ch:
			if j.effects != nil {
				r.runEffects(j.d, j.effects)
			} else {
				r.sendStream(j)
			}
		}
	}
}

func (r *Runner) sendStream(j job) {
	d := j.d
	d.mu.Lock()
	c := d.conn
	live := c != nil && d.epoch == j.epoch
	d.mu.Unlock()
	if !live {
		return
	}
	now := time.Now()
	m, ok := d.b.Next(int(j.stream), now)
	if !ok {
		return
	}
	if p := d.conf.DropPercent; p > 0 && d.rnd.dropped(p) {
		r.dropped.Add(1) // the value was made (the device's signal moves on) but never sent
		return
	}
	// Counted sent before it is written, and taken back if the write
	// fails: the broker's tap can see a message before the write returns,
	// and Delivered must never run ahead of Sent.
	d.sent.Add(1)
	r.sent.Add(1)
	var err error
	if r.target.Protocol != 4 {
		err = c.publishStamped(m, stamp{seq: d.seq.Add(1) - 1, at: now.UnixNano(), client: d.clientID})
	} else {
		err = c.publish(m)
	}
	r.lag.observe(time.Since(time.Unix(0, j.at)))
	if err != nil {
		d.sent.Add(^uint64(0))
		r.sent.Add(^uint64(0))
		r.publishFailed(d, m.Topic, err)
	}
}

// publishFailed records a failed publish, unless the connection broke:
// then the library reports why (lost), and "use of closed network
// connection" from the messages still queued would hide it.
func (r *Runner) publishFailed(d *device, topic string, err error) {
	var stuck *stuckError
	if errors.Is(err, net.ErrClosed) || errors.As(err, &stuck) {
		return
	}
	r.noteErr(d, fmt.Errorf("publish to %q: %w", topic, err))
}

// received runs d's handlers on a command from the broker.
func (r *Runner) received(d *device, m message.Message) {
	r.runEffects(d, d.b.Handle(m, time.Now()))
}

// runEffects carries out a handler's effects in order; a Delay hands the
// rest to the scheduler, so no goroutine waits.
func (r *Runner) runEffects(d *device, effs []sim.Effect) {
	for i, e := range effs {
		switch {
		case e.Publish != nil:
			d.mu.Lock()
			c := d.conn
			d.mu.Unlock()
			if c == nil {
				continue // offline: what it would have said is lost, as with a real device
			}
			if err := c.publish(*e.Publish); err != nil {
				r.publishFailed(d, e.Publish.Topic, err)
			}
		case e.Delay > 0:
			if rest := effs[i+1:]; len(rest) > 0 {
				r.sched.add(event{at: time.Now().Add(e.Delay).UnixNano(), kind: evEffects, dev: int32(d.idx), effects: rest})
			}
			return
		case e.Offline > 0:
			r.drop(d, Offline, e.Offline)
		}
	}
}

// stopAll stops every connected device gracefully, in parallel, within
// StopTimeout; what is left then is dropped.
func (r *Runner) stopAll() error {
	deadline := time.NewTimer(r.opt.StopTimeout)
	defer deadline.Stop()
	var wg sync.WaitGroup
	var clean atomic.Int64
	var gaveUp atomic.Bool // past StopTimeout: what finishes now was cut short
	pending := make(chan *device, len(r.devs))
	var open []conn
	want := 0
	for _, d := range r.devs {
		d.mu.Lock()
		c := d.conn
		d.conn = nil
		d.state = Stopped
		d.epoch++
		d.mu.Unlock()
		if c == nil {
			continue
		}
		r.connected.Add(-1)
		want++
		open = append(open, c)
		pending <- &device{b: d.b, conn: c, id: d.id}
	}
	close(pending)
	ctx, cancel := context.WithTimeout(context.Background(), r.opt.StopTimeout)
	defer cancel()
	for range min(64, want) {
		wg.Go(func() {
			for d := range pending {
				ok := true
				for _, m := range d.b.Offline(time.Now()) {
					if err := d.conn.publishAcked(ctx, m); err != nil {
						ok = false
					}
				}
				d.conn.disconnect()
				if ok && !gaveUp.Load() {
					clean.Add(1)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-deadline.C:
		gaveUp.Store(true)
		// Closing the sockets unblocks the writes that are stuck.
		for _, c := range open {
			c.kill()
		}
		<-done
	}
	notClean := want - int(clean.Load())
	r.notStopped.Store(int64(notClean))
	if notClean > 0 {
		return fmt.Errorf("fleet %s: %d of %d devices were not stopped cleanly within %s (their wills may fire)", r.src.Name(), notClean, want, r.opt.StopTimeout)
	}
	return nil
}

// Pause stops the streams without disconnecting; Resume restarts them on
// their schedule.
func (r *Runner) Pause()  { r.paused.Store(true) }
func (r *Runner) Resume() { r.paused.Store(false) }

// Kill drops device id's connection without DISCONNECT, so the broker
// publishes its will; the device comes back after its reconnect back-off.
func (r *Runner) Kill(id string) error {
	d, err := r.device(id)
	if err != nil {
		return err
	}
	if !r.drop(d, Offline, backoff(d, 1)) {
		return fmt.Errorf("device %s is not connected (%s)", id, r.stateOf(d))
	}
	return nil
}

// Command runs device id's handlers on m as if the broker had delivered it.
func (r *Runner) Command(id string, m message.Message) error {
	d, err := r.device(id)
	if err != nil {
		return err
	}
	if !r.running.Load() || r.stopping.Load() {
		return fmt.Errorf("fleet %s is not running: start it first", r.src.Name())
	}
	r.received(d, m)
	return nil
}

func (r *Runner) device(id string) (*device, error) {
	d := r.byID[id]
	if d == nil {
		return nil, fmt.Errorf("fleet %s has no device %q", r.src.Name(), id)
	}
	return d, nil
}

func (r *Runner) stateOf(d *device) State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// explain words a connect failure or lost link for people.
func (r *Runner) explain(err error) error {
	var stuck *stuckError
	if errors.As(err, &stuck) {
		return stuck
	}
	if ce := client.Explain(r.addr.String(), err, r.target.Username); ce != nil {
		return ce
	}
	return err
}
