package broker

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/devca"
)

// Status is where the broker is in its life.
type Status int

const (
	Stopped Status = iota
	Running
	Failed // the last Start failed; State.Err says why
)

func (s Status) String() string {
	return [...]string{"stopped", "running", "error"}[s]
}

// State is what a status line shows.
type State struct {
	Status    Status
	Err       error
	Listeners []Listener
	Since     time.Time
}

// DefaultWritesPending sizes each client's outbound queue (mochi allocates
// it up front: 8 bytes a slot per client). With flow control holding
// publishers at flowLimit, mochi's own 8,192 measured best; bigger queues
// only cost memory (docs/PERFORMANCE.md).
const DefaultWritesPending = 8192

// flowLimit is the queue depth at which publishers are made to wait.
const flowLimit = 1024

// shutdownWriteTimeout bounds how long Stop waits on a client that does not
// read what the broker writes.
const shutdownWriteTimeout = 2 * time.Second

// writeBufferSize lets a busy subscriber's writes coalesce into few
// syscalls (ackConn), and is what mochi reads a connection with.
const writeBufferSize = 64 * 1024

// writeThrough makes mochi write every packet straight to the connection
// (its write buffer is used only for a packet smaller than this): ackConn
// coalesces them instead.
const writeThrough = 1

// Broker owns one embedded mochi server at a time; mochi servers cannot be
// restarted after Close, so each Start builds a new one.
type Broker struct {
	cfg Config
	log *slog.Logger

	mu sync.Mutex
	// view is what readers need of the fields below, published under mu
	// whenever they change, so that State, Stats, Counters and the retained
	// messages never wait for mu: the window polls them on its UI
	// goroutine, and Stop holds mu for up to shutdownWriteTimeout.
	view atomic.Pointer[brokerView]
	srv  *mqtt.Server
	gate *connGate
	flow *flowHook // flow control and the queue byte budget
	// encode fixes CONNACKs and counts those refusing a busy broker.
	encode *encoder
	// order keeps a subscribe from getting a retained message twice
	order *retainOrder
	// sysRetained is how many of the retained messages are mochi's own $SYS
	// topics: a fixed set, all published by Serve. (mochi's Info.Retained
	// counts them only after the first client retains something, and
	// TopicsIndex.Messages races with the $SYS ticker inside mochi.)
	sysRetained int64
	state       State
	stats       *stateHook
	authz       *auth.Hook
	devCA       *devca.Authority
	sessions    SessionStore   // nil without persistence
	slots       *connSlots     // open client sockets, all listeners
	open        []openListener // the running server's listeners, for Reconfigure's handover
	// restored says what mochi does not restore of the retained messages
	// read from the data dir at Start: their publishers' protocol.
	restored map[string]RetainedOrigin

	inline inlinePublishers // PublishFrom's clients (issue 16, bridges)
}

// brokerView is a consistent reading of the running server's parts.
type brokerView struct {
	srv         *mqtt.Server
	stats       *stateHook
	authz       *auth.Hook
	flow        *flowHook
	encode      *encoder
	gate        *connGate
	slots       *connSlots
	sessions    SessionStore
	sysRetained int64
	restored    map[string]RetainedOrigin
	state       State
}

// showView publishes the fields readers use; b.mu is held.
func (b *Broker) showView() {
	b.view.Store(&brokerView{srv: b.srv, stats: b.stats, authz: b.authz, flow: b.flow, encode: b.encode, gate: b.gate, slots: b.slots,
		sessions: b.sessions, sysRetained: b.sysRetained, restored: b.restored, state: b.state})
}

// viewed is the last published view (zero: never started).
func (b *Broker) viewed() brokerView {
	if v := b.view.Load(); v != nil {
		return *v
	}
	return brokerView{}
}

// New checks the configuration; it opens nothing until Start.
func New(cfg Config) (*Broker, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.WritesPending <= 0 {
		cfg.WritesPending = DefaultWritesPending
	}
	return &Broker{cfg: cfg, log: cfg.Logger}, nil
}

// Config returns the configuration the broker was made with.
func (b *Broker) Config() Config {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg
}

// Start opens the listeners and begins serving. Starting a running broker
// does nothing. After a start it hands Config.RetainedAtStart the retained
// messages the broker holds.
func (b *Broker) Start() error {
	started, err := b.start()
	b.mu.Lock()
	tell := b.cfg.RetainedAtStart
	b.mu.Unlock()
	if started && tell != nil {
		tell(b.RetainedMessages())
	}
	return err
}

func (b *Broker) start() (started bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		return false, nil
	}
	return b.startLocked(nil)
}

// startLocked builds and serves a server on b.cfg, its listeners on the
// sockets in bound where given (the server then owns those). b.mu is held.
func (b *Broker) startLocked(bound sockets) (started bool, err error) {
	srv, err := b.build(bound)
	if err != nil {
		b.open = nil
		b.state = State{Status: Failed, Err: err, Since: time.Now()}
		b.showView()
		return false, err
	}
	b.srv = srv
	b.restored = nil
	if b.sessions != nil {
		if b.restored, err = b.sessions.RetainedOrigins(); err != nil {
			b.log.Warn("cannot read the protocol of restored retained messages; they show as not recorded", "error", err)
		}
	}
	b.sysRetained = 0
	for topic := range srv.Topics.Retained.GetAll() {
		if strings.HasPrefix(topic, mqtt.SysPrefix+"/") {
			b.sysRetained++
		}
	}
	b.state = State{Status: Running, Listeners: b.listeners(srv), Since: time.Now()}
	b.showView()
	return true, nil
}

func (b *Broker) build(bound sockets) (*mqtt.Server, error) {
	// Nothing from a previous run may leak into this one's state.
	b.flow, b.devCA, b.sessions = nil, nil, nil
	if err := b.prepareDataDir(); err != nil {
		return nil, err
	}
	users, err := b.loadUsers()
	if err != nil {
		return nil, err
	}
	exposed := b.cfg.exposedAddrs()
	if len(exposed) > 0 && (users == nil || len(users.List) == 0) {
		return nil, fmt.Errorf("%s listener on %s is reachable from other machines, but no users are configured: "+
			"add one with `iotstudio users add NAME` (password on stdin), or bind to 127.0.0.1", exposed[0].name, exposed[0].addr)
	}
	if users == nil {
		users = &auth.Users{}
	}
	tlsConf, err := b.tlsConfig()
	if err != nil {
		return nil, err
	}

	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumMessageExpiryInterval = b.cfg.MaxMessageExpiry
	caps.MaximumClientWritesPending = b.cfg.WritesPending
	caps.Compatibilities.NoInheritedPropertiesOnAck = true
	b.applyLimits(caps)
	srv := mqtt.New(&mqtt.Options{
		Capabilities:             caps,
		ClientNetWriteBufferSize: writeThrough,
		ClientNetReadBufferSize:  writeBufferSize,
		InlineClient:             true,
		Logger:                   mochiLogger(b.log),
	})

	b.authz = auth.NewHook(users, allowAnonymous(users, len(exposed) > 0))
	b.stats = &stateHook{keepAliveCap: b.cfg.KeepAliveCap}
	perClient, total := b.cfg.queueBudgets()
	b.flow = newFlowHook(srv, b.log, !b.cfg.NoFlowControl, perClient, total)
	var jr *journalHook
	var authHook mqtt.Hook = budgetedAuth{Hook: b.authz, flow: b.flow}
	if b.cfg.Journal != nil {
		jr = &journalHook{sink: b.cfg.Journal}
		authHook = journaledAuth{budgetedAuth: authHook.(budgetedAuth), j: jr}
	}
	hooks := []mqtt.Hook{authHook, b.stats, &reconnectHook{srv: srv}}
	if jr != nil {
		hooks = append(hooks, jr)
	}
	for _, h := range hooks {
		if err := srv.AddHook(h, nil); err != nil {
			return nil, fmt.Errorf("add %s hook: %w", h.ID(), err)
		}
	}
	b.order = newRetainOrder(b.log)
	ids := newPacketIDs()
	b.encode = &encoder{maxPacketSize: caps.MaximumPacketSize, ids: ids, journal: jr}
	parts := packetHooks{flow: b.flow, order: b.order, ids: ids, encode: b.encode, journal: jr}
	if b.cfg.Recorder != nil {
		parts.tap = &tap{rec: b.cfg.Recorder}
	}
	if !b.cfg.NoPersistence {
		store, err := b.cfg.Sessions()
		if err != nil {
			return nil, err
		}
		if err := srv.AddHook(store, nil); err != nil {
			_ = store.Stop()
			return nil, fmt.Errorf("add session store: %w", err)
		}
		b.sessions = store
		parts.durable = newDurableAcks(srv, store, b.log)
	}
	// After the store: it must see a delivery before durableAcks asks it to flush.
	if err := srv.AddHook(newPacketHooks(parts), nil); err != nil {
		if b.sessions != nil {
			_ = b.sessions.Stop()
		}
		return nil, fmt.Errorf("add packet hooks: %w", err)
	}
	b.gate = newConnGate(srv, b.cfg)
	if err := b.addListeners(srv, tlsConf, bound); err != nil {
		_ = srv.Close()
		return nil, err
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("start broker: %w", err)
	}
	return srv, nil
}

// allowAnonymous: with no users, loopback-only brokers are open (the default
// developer setup). Once users exist, clients must log in unless the users
// file says "anonymous: true", like mosquitto with a password file; beyond
// loopback anonymous clients are never allowed.
func allowAnonymous(users *auth.Users, exposed bool) bool {
	return !exposed && (len(users.List) == 0 || users.Anonymous)
}

func (b *Broker) addListeners(srv *mqtt.Server, tlsConf *tls.Config, bound sockets) error {
	slots := b.slots
	b.open = nil
	for _, l := range b.cfg.listenerAddrs() {
		var ml listeners.Listener
		switch l.name {
		case "mqtt", "tls":
			conf := tlsConf
			if l.name == "mqtt" {
				conf = nil
			}
			tl := newTCPListener(l.name, l.addr, conf, slots, b.log)
			tl.bound = bound[l.name]
			ml = tl
		case "ws":
			wl := newWSListener(l.name, l.addr, b.cfg.AllowedOrigins, slots, b.cfg.connectTimeout(), b.log)
			wl.bound = bound[l.name]
			ml = wl
		}
		b.open = append(b.open, openListener{name: l.name, addr: l.addr, l: ml.(socketHolder)})
		ml = ackListener{Listener: gatedListener{Listener: ml, gate: b.gate}, flow: b.flow}
		if err := srv.AddListener(ml); err != nil {
			return &ListenError{Listener: l.name, Addr: l.addr, Err: err}
		}
	}
	return nil
}

func (b *Broker) listeners(srv *mqtt.Server) []Listener {
	var out []Listener
	for _, l := range b.cfg.listenerAddrs() {
		ml, ok := srv.Listeners.Get(l.name)
		if !ok {
			continue
		}
		addr := ml.Address()
		scheme := map[string]string{"mqtt": "mqtt://", "ws": "ws://", "tls": "mqtts://"}[l.name]
		u := scheme + addr
		if l.name == "ws" {
			u += WSPath
		}
		out = append(out, Listener{Name: l.name, Address: addr, URL: u})
	}
	return out
}

func (b *Broker) prepareDataDir() error {
	if b.cfg.DataDir == "" {
		return nil
	}
	if err := os.MkdirAll(b.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir %s cannot be created: %w; pass --data with a writable folder", b.cfg.DataDir, err)
	}
	probe, err := os.CreateTemp(b.cfg.DataDir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("data dir %s is not writable: %w; pass --data with a writable folder", b.cfg.DataDir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// loadUsers reads the users file. A missing default file means no users; a
// missing file the user named explicitly is an error.
func (b *Broker) loadUsers() (*auth.Users, error) {
	users, err := auth.Load(b.cfg.usersPath())
	if errors.Is(err, fs.ErrNotExist) && b.cfg.UsersFile == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return users, nil
}

func (b *Broker) tlsConfig() (*tls.Config, error) {
	if b.cfg.TLSAddr == "" {
		return nil, nil
	}
	if b.cfg.DevCA {
		ca, err := devca.Ensure(filepath.Join(b.cfg.DataDir, "devca"), devca.DefaultHosts())
		if err != nil {
			return nil, err
		}
		b.devCA = ca
		return ca.ServerTLSConfig(), nil
	}
	cert, err := tls.LoadX509KeyPair(b.cfg.CertFile, b.cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: cannot use certificate %s with key %s: %w", b.cfg.CertFile, b.cfg.KeyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// DevCA returns the development CA when the TLS listener uses it.
func (b *Broker) DevCA() *devca.Authority {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.devCA
}

// DevCACert returns the development CA certificate (PEM) devices must trust
// to reach the TLS listener, or nil when TLS does not use the dev CA.
func (b *Broker) DevCACert() []byte {
	if ca := b.DevCA(); ca != nil {
		return ca.CACertPEM()
	}
	return nil
}

// Stop disconnects every client, flushes persistence and frees the ports.
// Stopping a stopped broker does nothing.
func (b *Broker) Stop() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopLocked()
}

// stopLocked stops the running server, if any; b.mu is held.
func (b *Broker) stopLocked() error {
	if b.srv == nil {
		return nil
	}
	b.gate.close()
	// A client that stopped reading (a paused process, a full TCP window)
	// would block mochi's shutdown DISCONNECT write forever; bound every
	// pending and future write instead.
	deadline := time.Now().Add(shutdownWriteTimeout)
	for _, cl := range b.srv.Clients.GetAll() {
		if cl.Net.Inline || cl.Closed() {
			continue
		}
		if cl.Net.Conn != nil {
			_ = cl.Net.Conn.SetWriteDeadline(deadline)
		}
		drainAcks(cl) // mochi's Close writes a DISCONNECT after them, unless a publish is held
		if cl.Properties.ProtocolVersion < 5 {
			_ = kick(b.srv, cl, packets.ErrServerShuttingDown)
		}
	}
	err := b.srv.Close()
	b.srv, b.open = nil, nil
	b.state = State{Status: Stopped, Since: time.Now()}
	b.showView()
	if err != nil {
		return fmt.Errorf("stop broker: %w", err)
	}
	return nil
}

// State reports whether the broker runs, and where it listens.
func (b *Broker) State() State { return b.viewed().state }

// live returns the running server and its hooks, read together under the lock.
func (b *Broker) live() (*mqtt.Server, *stateHook, *auth.Hook, *flowHook) {
	v := b.viewed()
	return v.srv, v.stats, v.authz, v.flow
}

func (b *Broker) server() *mqtt.Server {
	srv, _, _, _ := b.live()
	return srv
}

// Stats reads the live counters; zero when stopped.
func (b *Broker) Stats() Stats {
	v := b.viewed()
	srv, stats, authz, flow := v.srv, v.stats, v.authz, v.flow
	sysRetained, gate, slots, sessions := v.sysRetained, v.gate, v.slots, v.sessions
	if srv == nil {
		return Stats{}
	}
	info := srv.Info.Clone()
	in, out := stats.rates()
	st := Stats{
		ClientsConnected: info.ClientsConnected,
		MessagesIn:       info.MessagesReceived,
		MessagesOut:      info.MessagesSent,
		BytesIn:          info.BytesReceived,
		BytesOut:         info.BytesSent,
		InPerSec:         in,
		OutPerSec:        out,
		Retained:         int64(srv.Topics.Retained.Len()) - sysRetained,
		Subscriptions:    info.Subscriptions,
		Inflight:         info.Inflight,
		Dropped:          info.MessagesDropped + info.InflightDropped,
		DeniedPublishes:  authz.DeniedPublishes(),
		Uptime:           time.Since(time.Unix(info.Started, 0)),
	}
	if flow != nil {
		st.PublishesHeld = flow.held.Load()
		st.DroppedOverBudget = flow.dropped.Load()
		st.Dropped += st.DroppedOverBudget
		st.QueuedBytes = flow.queued.Load()
	}
	st.ConnectionsRefused = gate.refused.Load() + slots.refused.Load()
	st.SessionStoreDiskFull = sessions != nil && sessions.DiskFull()
	for _, cl := range srv.Clients.GetAll() {
		if !cl.Net.Inline && cl.Closed() {
			st.SessionsOffline++
		}
	}
	return st
}

// Clients lists client sessions, connected ones first, then by ID.
func (b *Broker) Clients() []ClientInfo {
	srv, stats, _, _ := b.live()
	if srv == nil {
		return nil
	}
	var out []ClientInfo
	for _, cl := range srv.Clients.GetAll() {
		if cl.Net.Inline {
			continue
		}
		out = append(out, clientInfo(cl, stats.connectedSince(cl.ID)))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Connected != out[j].Connected {
			return out[i].Connected
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// ErrNoSuchClient is returned when disconnecting a client that is not connected.
var ErrNoSuchClient = errors.New("no such connected client")

// Disconnect closes a client's connection with reason "administrative
// action"; its will is published as for any abrupt loss.
func (b *Broker) Disconnect(id string) error {
	srv := b.server()
	if srv == nil {
		return fmt.Errorf("disconnect %q: broker is not running", id)
	}
	cl, ok := srv.Clients.Get(id)
	if !ok || cl.Closed() || cl.Net.Inline {
		return fmt.Errorf("disconnect %q: %w", id, ErrNoSuchClient)
	}
	return kick(srv, cl, packets.ErrAdministrativeAction)
}

// kick ends a client's connection. Only MQTT 5 has a server DISCONNECT;
// mochi sends one to 3.1.x clients too, which they report as a protocol
// error, so those are simply closed. Either way the acknowledgements the
// connection had deferred go first.
func kick(srv *mqtt.Server, cl *mqtt.Client, code packets.Code) error {
	drainAcks(cl)
	if cl.Properties.ProtocolVersion < 5 {
		cl.Stop(code)
		return nil
	}
	err := srv.DisconnectClient(cl, code)
	if errors.Is(err, code) {
		return nil
	}
	return err
}

// Publish sends a message from the app itself (the inline client).
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	srv := b.server()
	if srv == nil {
		return fmt.Errorf("publish to %q: broker is not running", topic)
	}
	return srv.Publish(topic, payload, retain, qos)
}

// mochiLogger quiets mochi's per-hook and per-listener start-up chatter.
func mochiLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{Handler: l.Handler(), min: slog.LevelWarn}).With("component", "mochi")
}

// Reconfigure replaces the configuration (for the settings dialog). A
// stopped broker just keeps it for its next Start. A running one moves to
// it only once every listener socket of the new configuration is open
// (handover.go): if one cannot be (a busy port), nothing changes, its
// clients stay connected, and the error is a *ListenError naming the
// listener and port. Then the old server stops and a new one starts on
// those sockets; should that fail for another reason, the old
// configuration is started again on its own sockets and the error says
// what failed.
func (b *Broker) Reconfigure(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := sharedAddr(cfg); err != nil {
		return err
	}
	if cfg.Logger == nil {
		cfg.Logger = b.log
	}
	if cfg.WritesPending <= 0 {
		cfg.WritesPending = DefaultWritesPending
	}
	b.mu.Lock()
	if b.srv == nil {
		b.cfg, b.log = cfg, cfg.Logger
		b.mu.Unlock()
		return nil
	}
	started, err := b.replace(cfg)
	tell := b.cfg.RetainedAtStart
	b.mu.Unlock()
	if started && tell != nil {
		tell(b.RetainedMessages())
	}
	return err
}

// replace moves the running server to cfg; b.mu is held. It reports
// whether a server (new or, on failure, old) was started.
func (b *Broker) replace(cfg Config) (started bool, err error) {
	next, err := b.prepareSockets(cfg)
	if err != nil {
		return false, err
	}
	kept := b.keepSockets()
	old := b.cfg
	if err := b.stopLocked(); err != nil {
		b.log.Warn("the broker did not stop cleanly before its settings changed", "error", err)
	}
	b.cfg, b.log = cfg, cfg.Logger
	_, err = b.startLocked(next)
	if err == nil {
		kept.close()
		return true, nil
	}
	next.close()
	b.cfg, b.log = old, old.Logger
	if _, rerr := b.startLocked(kept); rerr != nil {
		kept.close()
		return false, fmt.Errorf("The new broker settings failed (%w), and the broker could not start again with the previous ones: %w", err, rerr)
	}
	return true, fmt.Errorf("The broker keeps its previous settings; the new ones failed: %w", err)
}
