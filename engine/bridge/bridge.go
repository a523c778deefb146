package bridge

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
)

// Local is the embedded broker as a bridge sees it (*broker.Broker).
type Local interface {
	// PublishFrom publishes m as the inline client clientID, whose ID the
	// broker's tap then reports with it.
	PublishFrom(clientID string, m message.Message) error
}

// Options are what a Bridge needs besides its Config.
type Options struct {
	// Profile is the saved connection the bridge uses, and Credentials
	// its secrets (from client.Secrets).
	Profile     client.Profile
	Credentials client.Credentials
	// Local is the embedded broker.
	Local Local
	// QueueDir is where the outgoing queue is kept.
	QueueDir string
	// Client tunes the remote connection (back-off, timeouts).
	Client client.Options
	Logger *slog.Logger
}

// QueueDir is where a bridge named name keeps its queue in the data dir
// (Check keeps names from leaving it).
func QueueDir(dataDir, name string) string {
	return filepath.Join(dataDir, "bridges", name)
}

// State is where the remote side of a bridge is.
type State string

const (
	StateConnected  State = "connected"
	StateConnecting State = "connecting" // the first attempt is under way
	StateDown       State = "down"       // an attempt failed or the link was lost; retrying
	StateStopped    State = "stopped"
)

// Stats is a snapshot of a bridge.
type Stats struct {
	Name  string
	State State
	// LastError is why the remote is down, in plain words; empty when up.
	LastError string
	// ForwardedOut and ForwardedIn count messages delivered to the remote
	// (acknowledged at QoS 1 and 2) and published locally.
	ForwardedOut, ForwardedIn int64
	// Queued is how many outgoing messages wait or are being sent.
	Queued int
	// Dropped counts outgoing messages dropped: the oldest when the queue
	// was full, and those the remote refused outright.
	Dropped int64
}

// compiled is a rule with its mappings.
type compiled struct {
	Rule
	out, in mapping
}

// Bridge forwards between the embedded broker and one remote broker. It
// is a message.Sink for the broker's tap.
type Bridge struct {
	cfg      Config
	opts     Options
	log      *slog.Logger
	clientID string // the local inline client it publishes as
	outRules []compiled
	inRules  []compiled
	seed     maphash.Seed

	q    *queue
	mgr  *client.Manager
	conn *client.Connection

	forwardedOut, forwardedIn atomic.Int64

	// ctx ends the pump's taking; sendCtx, later, the publishes under way.
	ctx, sendCtx       context.Context
	cancel, cancelSend context.CancelFunc
	wg                 sync.WaitGroup
	once               sync.Once
}

// LocalClientID is the client ID a bridge's messages carry in the embedded
// broker (the capture and the Explorer show it).
func LocalClientID(name string) string { return "iotstudio-bridge/" + name }

// Open checks cfg against the profile's protocol, opens the queue and
// starts connecting; it returns at once (watch Stats). Close stops it.
func Open(cfg Config, opts Options) (*Bridge, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if ps := cfg.Check(opts.Profile.Protocol); len(ps) > 0 {
		errs := make([]error, len(ps))
		for i, p := range ps {
			errs[i] = p
		}
		return nil, fmt.Errorf("bridge %q: %w", cfg.Name, errors.Join(errs...))
	}
	b := &Bridge{cfg: cfg, opts: opts, clientID: LocalClientID(cfg.Name), seed: maphash.MakeSeed(),
		log: opts.Logger.With("bridge", cfg.Name)}
	for _, r := range cfg.Rules {
		c := compiled{Rule: r, out: mappingOf(r.Local, r.Remote), in: mappingOf(r.Remote, r.Local)}
		if r.Direction.out() {
			b.outRules = append(b.outRules, c)
		}
		if r.Direction.in() {
			b.inRules = append(b.inRules, c)
		}
	}
	q, err := openQueue(opts.QueueDir, cfg.queueSize(), b.log)
	if err != nil {
		return nil, fmt.Errorf("bridge %q: %w", cfg.Name, err)
	}
	b.q = q
	p := b.remoteProfile()
	b.mgr = client.NewManager(inbound{b}, opts.Client)
	conn, err := b.mgr.Open(p, opts.Credentials)
	if err != nil {
		_ = q.close()
		return nil, fmt.Errorf("bridge %q: connection %q: %w", cfg.Name, p.Name, err)
	}
	b.conn = conn
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.sendCtx, b.cancelSend = context.WithCancel(context.Background())
	b.wg.Go(b.pump)
	return b, nil
}

// remoteProfile is the saved connection as the bridge uses it: subscribed
// to the incoming rules' remote filters (no-local on MQTT 5, retain flag
// as published when kept), with a client ID of its own so that it never
// takes over the window's connection with the same profile.
func (b *Bridge) remoteProfile() client.Profile {
	p := b.opts.Profile
	v5 := p.Protocol == client.MQTT5
	p.Subscribe = nil
	for _, r := range b.inRules {
		s := client.Subscription{Filter: r.Remote, QoS: r.QoS}
		if v5 {
			s.NoLocal = true
			s.RetainAsPublished = r.Retain != RetainDrop
		}
		p.Subscribe = append(p.Subscribe, s)
	}
	p.ClientID = "iotstudio-bridge-" + b.cfg.Name
	p.ConnectAtStart = false
	return p
}

// Name is the bridge's name.
func (b *Bridge) Name() string { return b.cfg.Name }

// Stats returns a snapshot.
func (b *Bridge) Stats() Stats {
	st := b.conn.Status()
	s := Stats{Name: b.cfg.Name, ForwardedOut: b.forwardedOut.Load(), ForwardedIn: b.forwardedIn.Load()}
	s.Queued, s.Dropped = b.q.counts()
	switch {
	case st.State == client.StateConnected:
		s.State = StateConnected
	case st.State == client.StateDisconnected:
		s.State = StateStopped
	case st.State == client.StateConnecting && st.LastError == nil:
		s.State = StateConnecting
	default:
		s.State = StateDown
	}
	if st.LastError != nil && s.State != StateConnected {
		s.LastError = st.LastError.Error()
	}
	return s
}

// Ingest takes what the embedded broker accepted: messages matching an
// outgoing rule join the queue. It never blocks. What the bridge
// published itself is not sent back.
func (b *Bridge) Ingest(m message.Message) bool {
	if m.ClientID == b.clientID {
		return true
	}
	topic := []byte(m.Topic)
	for _, r := range b.outRules {
		if !message.MatchTopic(r.Local, topic) {
			continue
		}
		out, ok := r.out.apply(m.Topic)
		if !ok {
			continue
		}
		fm := m
		fm.Topic = out
		fm.QoS = min(m.QoS, r.QoS)
		fm.Retain = m.Retain && r.Retain != RetainDrop
		b.q.push(fm)
	}
	return true
}

// inbound takes what the remote sends and publishes it locally.
type inbound struct{ b *Bridge }

func (in inbound) Ingest(m message.Message) bool {
	b := in.b
	topic := []byte(m.Topic)
	ok := true
	for _, r := range b.inRules {
		if !message.MatchTopic(r.Remote, topic) {
			continue
		}
		local, mapped := r.in.apply(m.Topic)
		if !mapped {
			continue
		}
		fm := m
		fm.Topic = local
		fm.QoS = min(m.QoS, r.QoS)
		fm.Retain = m.Retain && r.Retain != RetainDrop
		fm.ClientID = b.clientID
		if err := b.opts.Local.PublishFrom(b.clientID, fm); err != nil {
			b.log.Warn("a message from the remote could not be published locally", "topic", local, "error", err)
			ok = false
			continue
		}
		b.forwardedIn.Add(1)
	}
	return ok
}

const (
	batchSize = 512
	// lanes is how many publishes are in flight at once. A topic always
	// goes through the same lane, one message after another, so messages
	// of one topic keep their order (the order MQTT promises).
	lanes = 32
	// retryWait bounds the wait before sending again after a failure that
	// did not change the connection's state.
	retryWait = time.Second
)

// pump sends the queue to the remote while it is up, and writes the
// queue's durable messages to disk.
func (b *Bridge) pump() {
	changed, stopWatch := b.mgr.Watch()
	defer stopWatch()
	var wait <-chan time.Time
	var reported int64 // drops logged so far
	var reportedAt time.Time
	for {
		if err := b.q.flush(); err != nil {
			b.log.Error("bridge queue not written; its messages are only in memory", "error", err)
		}
		reported, reportedAt = b.reportDrops(reported, reportedAt)
		if wait == nil && b.ctx.Err() == nil && b.conn.Status().State == client.StateConnected {
			if es := b.q.take(batchSize); len(es) > 0 {
				if !b.send(es) {
					wait = time.After(retryWait)
				}
				continue
			}
		}
		select {
		case <-b.ctx.Done():
			return
		case <-b.q.wake:
		case <-changed:
			wait = nil
		case <-wait:
			wait = nil
		}
	}
}

// reportDrops logs new drops, at most every dropReportEvery, so that a
// full queue is never silent in the log either.
func (b *Bridge) reportDrops(reported int64, at time.Time) (int64, time.Time) {
	queued, dropped := b.q.counts()
	if dropped == reported || time.Since(at) < dropReportEvery {
		return reported, at
	}
	b.log.Warn("bridge queue full: the oldest outgoing messages were dropped", "dropped", dropped-reported, "dropped_total", dropped, "queued", queued)
	return dropped, time.Now()
}

const dropReportEvery = 10 * time.Second

// send publishes es and settles them; it reports false when some could
// not be sent because the remote is not up. QoS 0 messages go one after
// another from here (a write each, nothing to wait for); QoS 1 and 2 ones
// wait for their acknowledgements in lanes, many at once.
func (b *Bridge) send(es []entry) bool {
	v311 := b.conn.Status().Protocol == client.MQTT311
	var byLane [lanes][]entry
	var fireAndForget []entry
	for _, e := range es {
		if !e.durable() {
			fireAndForget = append(fireAndForget, e)
			continue
		}
		i := maphash.String(b.seed, e.m.Topic) % lanes
		byLane[i] = append(byLane[i], e)
	}
	var mu sync.Mutex
	var sent, unsent, refused []entry
	settle := func(s, u, r []entry) {
		mu.Lock()
		sent, unsent, refused = append(sent, s...), append(unsent, u...), append(refused, r...)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, lane := range byLane {
		if len(lane) > 0 {
			wg.Go(func() { settle(b.sendInOrder(lane, v311)) })
		}
	}
	settle(b.sendInOrder(fireAndForget, v311))
	wg.Wait()
	b.forwardedOut.Add(int64(len(sent)))
	b.q.drop(refused)
	b.q.done(sent, unsent)
	return len(unsent) == 0
}

// sendInOrder publishes es one after another until one cannot go because
// the remote is not up: that one and the rest are unsent.
func (b *Bridge) sendInOrder(es []entry, v311 bool) (sent, unsent, refused []entry) {
	for i, e := range es {
		err := b.conn.Publish(b.sendCtx, remoteMessage(e.m, v311))
		switch {
		case err == nil:
			sent = append(sent, e)
		case b.sendCtx.Err() == nil && refusedMessage(err):
			// Up, yet refused: this message will never go.
			b.log.Warn("the remote refused a forwarded message; dropped", "topic", e.m.Topic, "error", err)
			refused = append(refused, e)
		default:
			return sent, es[i:], refused
		}
	}
	return sent, nil, refused
}

// refusedMessage: the remote answered this message with a failure reason
// code (MQTT 5), so sending it again would fail again. Every other error
// (not connected, a lost link, a timeout) leaves it queued.
func refusedMessage(err error) bool {
	return strings.Contains(err.Error(), "the broker refused the message")
}

// remoteMessage is m as sent to the remote; MQTT 3.1.1 carries no
// properties, so they stay behind.
func remoteMessage(m message.Message, v311 bool) client.Message {
	cm := client.Message{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain}
	if !v311 {
		cm.ContentType, cm.PayloadFormat, cm.MessageExpiry = m.ContentType, m.PayloadFormat, m.MessageExpiry
		cm.ResponseTopic, cm.CorrelationData, cm.UserProps = m.ResponseTopic, m.CorrelationData, m.UserProps
	}
	return cm
}

// Close stops the bridge: it takes no more from the queue, lets the
// publishes under way finish until ctx is done (so their acknowledgements
// count), closes the remote connection, then the queue, whose unsent
// messages (QoS 1 and 2) wait on disk for the next Open.
func (b *Bridge) Close(ctx context.Context) error {
	var err error
	b.once.Do(func() {
		b.cancel()
		stopped := make(chan struct{})
		go func() { b.wg.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-ctx.Done():
			b.cancelSend()
			<-stopped
		}
		b.cancelSend()
		err = errors.Join(b.mgr.CloseAll(ctx), b.q.close())
	})
	return err
}

// OpenPlanned opens a bridge of a checked file with its saved
// connection's secrets from secrets, its queue in dataDir.
func OpenPlanned(p Planned, secrets *client.Secrets, local Local, dataDir string, copts client.Options, log *slog.Logger) (*Bridge, error) {
	creds, err := secrets.Credentials(p.Profile)
	if err != nil {
		return nil, fmt.Errorf("bridge %q: connection %q: %w; save it with the connection in the window's Connections panel", p.Config.Name, p.Profile.Name, err)
	}
	return Open(p.Config, Options{Profile: p.Profile, Credentials: creds, Local: local,
		QueueDir: QueueDir(dataDir, p.Config.Name), Client: copts, Logger: log})
}
