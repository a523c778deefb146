package broker

import (
	"net"
	"sync"

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
type connGate struct {
	srv    *mqtt.Server
	wg     *sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

func newConnGate(srv *mqtt.Server) *connGate {
	return &connGate{srv: srv, wg: &srv.Listeners.ClientsWg}
}

func (g *connGate) wrap(establish listeners.EstablishFn) listeners.EstablishFn {
	return func(id string, c net.Conn) error {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return c.Close()
		}
		g.wg.Add(1)
		g.mu.Unlock()
		defer g.wg.Done()
		return establish(id, c)
	}
}

// close stops admitting connections; call it before Server.Close.
func (g *connGate) close() {
	g.mu.Lock()
	g.closed = true
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
