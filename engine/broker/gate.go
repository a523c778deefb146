package broker

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// connGate makes mochi's shutdown race-free. mochi calls
// Listeners.ClientsWg.Add(1) inside each new connection's goroutine, which
// can run concurrently with the ClientsWg.Wait() in Server.Close — a misuse
// of sync.WaitGroup the race detector reports. The gate holds its own Add
// for every connection it lets through, taken under a lock before mochi sees
// the connection, and refuses connections once closed; so every Add mochi
// makes happens while the counter is above zero, and before Close waits.
//
// The gate is also where every connection's first packet is read and
// judged (connguard.go) before mochi allocates anything for it.
type connGate struct {
	srv     *mqtt.Server
	wg      *sync.WaitGroup
	log     *slog.Logger
	timeout time.Duration
	limit   int // first packet's largest size
	budget  *byteBudget
	refused atomic.Int64

	mu      sync.Mutex
	closed  bool
	pending map[net.Conn]struct{} // still before CONNECT; closed by close
}

func newConnGate(srv *mqtt.Server, cfg Config) *connGate {
	return &connGate{
		srv: srv, wg: &srv.Listeners.ClientsWg, log: cfg.Logger,
		timeout: cfg.connectTimeout(), limit: cfg.connectLimit(),
		budget:  &byteBudget{max: connectBudgetBytes},
		pending: map[net.Conn]struct{}{},
	}
}

func (g *connGate) wrap(establish listeners.EstablishFn) listeners.EstablishFn {
	return func(id string, c net.Conn) error {
		if !g.hold(c) {
			return c.Close()
		}
		gc, err := admitConnect(c, g.timeout, g.limit, g.budget)
		g.release(c)
		if err != nil {
			g.refused.Add(1)
			g.log.Debug("connection refused before CONNECT", "listener", id, "remote", c.RemoteAddr().String(), "reason", err.Error())
			return nil
		}
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return gc.Close()
		}
		g.wg.Add(1)
		g.mu.Unlock()
		defer g.wg.Done()
		return establish(id, gc)
	}
}

// hold registers a connection still reading its CONNECT, so that close can
// end it; false once the gate is closed.
func (g *connGate) hold(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.pending[c] = struct{}{}
	return true
}

func (g *connGate) release(c net.Conn) {
	g.mu.Lock()
	delete(g.pending, c)
	g.mu.Unlock()
}

// close stops admitting connections and ends those still before CONNECT;
// call it before Server.Close.
func (g *connGate) close() {
	g.mu.Lock()
	g.closed = true
	for c := range g.pending {
		_ = c.Close()
	}
	g.mu.Unlock()
}

// gatedListener is any mochi listener whose new connections pass the gate.
type gatedListener struct {
	listeners.Listener
	gate *connGate
}

func (l gatedListener) Serve(establish listeners.EstablishFn) {
	l.Listener.Serve(l.gate.wrap(establish))
}

// Close replaces mochi's client-closing callback: its
// Clients.GetByListener takes the clients read lock twice, which deadlocks
// Server.Close if a client disconnecting at that moment asks for the write
// lock in between (mochi issue #488). GetAll takes it once.
func (l gatedListener) Close(_ listeners.CloseFn) {
	l.Listener.Close(l.gate.closeClients)
}

func (g *connGate) closeClients(listener string) {
	for _, cl := range g.srv.Clients.GetAll() {
		if cl.Net.Listener == listener && !cl.Closed() {
			_ = kick(g.srv, cl, packets.ErrServerShuttingDown)
		}
	}
}
