package broker

import (
	"fmt"
	"net"
	"strings"
)

// Settings changes (Reconfigure) are transactional: every socket the new
// broker will listen on is open before the old broker stops. An address
// the old broker already listens on is handed over (its socket duplicated,
// so connections waiting in its backlog are not refused and a port 0 keeps
// its port); a new one is bound while the old broker still serves, so a
// busy port is found before any client is dropped.

// socketHolder is a listener of ours whose socket can be handed over.
type socketHolder interface {
	// socket is the bound socket, nil before Init.
	socket() net.Listener
}

// openListener is a listener of the running broker: its name, the address
// it was configured with (maybe port 0) and the listener itself.
type openListener struct {
	name, addr string
	l          socketHolder
}

func (l *tcpListener) socket() net.Listener {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln == nil {
		return nil
	}
	return l.ln.Listener
}

func (l *wsListener) socket() net.Listener {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln == nil {
		return nil
	}
	return l.ln.(*patientListener).Listener
}

// listenOn is how a listener's Init gets its socket: the one opened for it
// in advance if any, else a new one.
func listenOn(bound net.Listener, addr string) (net.Listener, error) {
	if bound != nil {
		return bound, nil
	}
	return net.Listen("tcp", addr)
}

// sockets are listening sockets by listener name, owned by whoever holds
// the map until handed to a server (which then closes them).
type sockets map[string]net.Listener

func (s sockets) close() {
	for _, ln := range s {
		_ = ln.Close() // some may be closed already by a server that failed: harmless
	}
}

// dupSocket opens a second handle on ln's socket, which stays open while
// either handle is. Where the platform cannot (Windows), the caller binds
// the address again after the old listener has closed.
func dupSocket(ln net.Listener) (net.Listener, error) {
	f, err := socketFile(ln)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return net.FileListener(f)
}

// current returns the running listener that already serves addr: the one
// of that name configured with exactly addr (port 0 included), or any one
// bound to that address.
func (b *Broker) current(name, addr string) (openListener, bool) {
	for _, o := range b.open {
		if o.name == name && o.addr == addr {
			return o, true
		}
	}
	for _, o := range b.open {
		if ln := o.l.socket(); ln != nil && sameEndpoint(ln.Addr().String(), addr) {
			return o, true
		}
	}
	return openListener{}, false
}

// prepareSockets opens, while the old broker still serves, a socket for
// every listener of cfg: a duplicate of the old one where the address is
// unchanged, a new binding where it changed. On error none stays open.
func (b *Broker) prepareSockets(cfg Config) (sockets, error) {
	out := sockets{}
	takenBy := map[string]string{} // old listener → the new one its socket goes to
	for _, l := range cfg.listenerAddrs() {
		ln, err := b.socketFor(l, takenBy)
		if err != nil {
			out.close()
			return nil, err
		}
		if ln != nil {
			out[l.name] = ln
		}
	}
	return out, nil
}

// socketFor is the socket listener l will serve on, or nil when its
// unchanged address must be bound again once the old broker has let go
// of it (no duplicates on this platform).
func (b *Broker) socketFor(l namedAddr, takenBy map[string]string) (net.Listener, error) {
	o, ok := b.current(l.name, l.addr)
	if !ok {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return nil, &ListenError{Listener: l.name, Addr: l.addr, Err: err}
		}
		return ln, nil
	}
	if other, taken := takenBy[o.name]; taken {
		return nil, fmt.Errorf("The %s and %s listeners are both set to the address the %s listener has now (%s); give each its own port.",
			listenerTitle(other), listenerTitle(l.name), listenerTitle(o.name), o.l.socket().Addr())
	}
	takenBy[o.name] = l.name
	if ln, err := dupSocket(o.l.socket()); err == nil {
		return ln, nil
	}
	return nil, nil
}

// keepSockets duplicates the running broker's sockets, so that it can be
// brought back on them if its replacement fails to start.
func (b *Broker) keepSockets() sockets {
	out := sockets{}
	for _, o := range b.open {
		if ln := o.l.socket(); ln != nil {
			if dup, err := dupSocket(ln); err == nil {
				out[o.name] = dup
			}
		}
	}
	return out
}

// CanListen reports whether the broker could listen on addr: the answer
// for a settings dialog as the user types. An address the broker listens
// on already is fine (Reconfigure hands the socket over), as is port 0.
// Otherwise it binds addr and lets go at once; a host name other than
// localhost is not looked up (that could block), Reconfigure tells. The
// error is a *ListenError.
func (b *Broker) CanListen(name, addr string) error {
	if err := checkAddr(name, addr); err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(addr)
	if port == "0" || host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return nil
	}
	b.mu.Lock()
	_, ours := b.current(name, addr)
	b.mu.Unlock()
	if ours {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &ListenError{Listener: name, Addr: addr, Err: err}
	}
	return ln.Close()
}

// sameEndpoint reports whether two HOST:PORT strings name one socket
// address: localhost is 127.0.0.1, an empty host is [::] (as Go binds it).
func sameEndpoint(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	ia, ib := endpointIP(ha), endpointIP(hb)
	if ia == nil || ib == nil {
		return strings.EqualFold(ha, hb)
	}
	return ia.Equal(ib)
}

func endpointIP(host string) net.IP {
	switch host {
	case "":
		return net.IPv6unspecified
	case "localhost":
		return net.IPv4(127, 0, 0, 1)
	}
	return net.ParseIP(host)
}

// sharedAddr returns an error when two listeners of cfg are given one
// address: they would fight over (or, handed over, share) one socket.
func sharedAddr(cfg Config) error {
	ls := cfg.listenerAddrs()
	for i, a := range ls {
		for _, c := range ls[i+1:] {
			if a.addr == c.addr && !strings.HasSuffix(a.addr, ":0") || sameEndpoint(a.addr, c.addr) {
				return fmt.Errorf("The %s and %s listeners are both set to %s; give each its own port.",
					listenerTitle(a.name), listenerTitle(c.name), a.addr)
			}
		}
	}
	return nil
}
