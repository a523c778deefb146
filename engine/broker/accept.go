package broker

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// Accept backoff after an error, as net/http does it.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// connSlots is the hard limit on open client sockets, shared by every
// listener because descriptors are the process's.
type connSlots struct {
	max  int64
	open atomic.Int64
	// full is set while sockets are being turned away, so that each episode
	// is logged once.
	full    atomic.Bool
	refused atomic.Int64
}

func (s *connSlots) acquire() bool {
	if s.open.Add(1) > s.max {
		s.open.Add(-1)
		s.refused.Add(1)
		return false
	}
	return true
}

// patientListener is a net.Listener whose Accept only fails once it is
// closed: accept errors (EMFILE when descriptors run out, ECONNABORTED, …)
// are logged once per episode with what to do, waited out with a backoff and
// retried. Sockets over the slot limit are closed at once. mochi's TCP
// listener instead returns on its first accept error and is dead for good.
type patientListener struct {
	net.Listener
	name  string
	slots *connSlots
	log   *slog.Logger
	done  chan struct{}
	once  sync.Once

	// accept-error episode, owned by Accept's caller
	failures    int
	lastFailure time.Time
	logged      bool // the episode's start was logged
	reported    bool // and its end
}

func newPatientListener(ln net.Listener, name string, slots *connSlots, log *slog.Logger) *patientListener {
	return &patientListener{Listener: ln, name: name, slots: slots, log: log, done: make(chan struct{})}
}

// Accept has one caller at a time (a listener's serve loop), which owns
// the episode fields.
func (l *patientListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if l.closed() || errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			l.failed(err)
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			select {
			case <-l.done:
				return nil, net.ErrClosed
			case <-time.After(delay):
			}
			continue
		}
		l.recovered()
		if !l.slots.acquire() {
			_ = c.Close()
			if !l.slots.full.Swap(true) {
				l.log.Warn(l.name+" listener: connection limit reached; closing new connections until some end",
					"sockets", l.slots.max, "what to do", "raise --max-connections (and ulimit -n) if this load is expected")
			}
			continue
		}
		l.slots.full.Store(false)
		return &slotConn{Conn: c, slots: l.slots}, nil
	}
}

// acceptQuiet is how long accept must have worked before a new failure is
// a new episode, logged again: while descriptors are being freed, accept
// may fail and succeed in turns.
const acceptQuiet = 10 * time.Second

func (l *patientListener) failed(err error) {
	if !l.logged {
		l.log.Error(l.name+" listener cannot accept connections; retrying", "error", err, "what to do", acceptAdvice(err))
		l.logged = true
	}
	l.failures++
	l.lastFailure = time.Now()
}

func (l *patientListener) recovered() {
	if l.failures > 0 && l.logged && !l.reported {
		l.log.Warn(l.name+" listener accepting connections again", "failed accepts", l.failures)
		l.reported = true
	}
	l.failures = 0
	if l.logged && time.Since(l.lastFailure) > acceptQuiet {
		l.logged, l.reported = false, false
	}
}

func acceptAdvice(err error) string {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return "too many open files: raise ulimit -n or lower --max-connections"
	}
	return "check the system log; the listener keeps retrying"
}

func (l *patientListener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *patientListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// slotConn gives its slot back when closed (once, however often it is
// closed: mochi, TLS and gorilla may each close it).
type slotConn struct {
	net.Conn
	slots *connSlots
	once  sync.Once
}

func (c *slotConn) Close() error {
	c.once.Do(func() { c.slots.open.Add(-1) })
	return c.Conn.Close()
}

// tcpListener is mochi's listener interface over a patientListener, for
// plain TCP and TLS. TLS handshakes happen on the connection's first read,
// inside the connect timeout.
type tcpListener struct {
	id      string
	addr    string
	tlsConf *tls.Config
	slots   *connSlots
	log     *slog.Logger
	bound   net.Listener // opened in advance by Reconfigure (handover.go), or nil

	mu sync.Mutex
	ln *patientListener
}

func newTCPListener(id, addr string, tlsConf *tls.Config, slots *connSlots, log *slog.Logger) *tcpListener {
	return &tcpListener{id: id, addr: addr, tlsConf: tlsConf, slots: slots, log: log}
}

func (l *tcpListener) ID() string       { return l.id }
func (l *tcpListener) Protocol() string { return "tcp" }

func (l *tcpListener) Address() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return l.ln.Addr().String()
	}
	return l.addr
}

func (l *tcpListener) Init(*slog.Logger) error {
	ln, err := listenOn(l.bound, l.addr)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.ln = newPatientListener(ln, l.id, l.slots, l.log)
	l.mu.Unlock()
	return nil
}

// Serve runs until Close; each connection is served on its own goroutine,
// which ends with the connection.
func (l *tcpListener) Serve(establish listeners.EstablishFn) {
	l.mu.Lock()
	ln := l.ln
	l.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if l.tlsConf != nil {
			c = tls.Server(c, l.tlsConf)
		}
		go func() {
			if err := establish(l.id, c); err != nil {
				l.log.Debug("client connection ended", "listener", l.id, "error", err)
			}
		}()
	}
}

func (l *tcpListener) Close(closeClients listeners.CloseFn) {
	l.mu.Lock()
	ln := l.ln
	l.mu.Unlock()
	closeClients(l.id)
	if ln != nil {
		_ = ln.Close()
	}
}
