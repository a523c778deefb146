package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/iotstudio/iotstudio/engine/client/transport"
)

// ListenError says which listener could not open its address and why.
type ListenError struct {
	Listener string // mqtt, ws or tls
	Addr     string
	Err      error
}

func (e *ListenError) Error() string {
	if e.InUse() {
		return fmt.Sprintf("%s listener: address %s is already in use (is another broker running?); "+
			"choose another port, or port 0 to pick a free one (e.g. --%s 127.0.0.1:0)", e.Listener, e.Addr, e.Listener)
	}
	if errors.Is(e.Err, syscall.EACCES) {
		return fmt.Sprintf("%s listener: not allowed to bind %s (ports below 1024 need privileges); choose a port above 1024", e.Listener, e.Addr)
	}
	return fmt.Sprintf("%s listener on %s: %v", e.Listener, e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// InUse reports whether the address was taken by another program.
func (e *ListenError) InUse() bool { return errors.Is(e.Err, syscall.EADDRINUSE) }

// Listener describes an open listener.
type Listener struct {
	Name    string // mqtt, ws, tls
	Address string // host:port actually bound (port 0 resolved)
	URL     string // what a client connects to
}

// wsListener is mochi's listener interface served by our own HTTP server:
// mochi's Websocket listener binds only inside Serve (so a busy port or a
// port 0 cannot be reported at start) and accepts every browser Origin, which
// would let any web page read a developer's local traffic.
type wsListener struct {
	id      string
	addr    string
	origins map[string]bool
	log     *slog.Logger

	slots   *connSlots
	timeout time.Duration // for the HTTP request; the gate bounds the rest
	plog    *slog.Logger  // for the patient listener, not mochi's quieted one

	mu          sync.Mutex
	ln          net.Listener
	srv         *http.Server
	upgrader    websocket.Upgrader
	establishFn listeners.EstablishFn
}

func newWSListener(id, addr string, allowed []string, slots *connSlots, timeout time.Duration, log *slog.Logger) *wsListener {
	l := &wsListener{id: id, addr: addr, origins: map[string]bool{}, slots: slots, timeout: timeout, plog: log}
	for _, o := range allowed {
		l.origins[strings.TrimRight(strings.ToLower(o), "/")] = true
	}
	l.upgrader = websocket.Upgrader{
		Subprotocols: []string{"mqtt", "mqttv3.1"},
		CheckOrigin:  l.originAllowed,
	}
	return l
}

func (l *wsListener) ID() string       { return l.id }
func (l *wsListener) Protocol() string { return "ws" }

func (l *wsListener) Address() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return l.ln.Addr().String()
	}
	return l.addr
}

func (l *wsListener) Init(log *slog.Logger) error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.ln, l.log = newPatientListener(ln, l.id, l.slots, l.plog), log
	mux := http.NewServeMux()
	mux.HandleFunc(WSPath, l.handle)
	// An idle keep-alive HTTP connection would hold a socket slot forever.
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: l.timeout, IdleTimeout: l.timeout}
	l.mu.Unlock()
	return nil
}

// originAllowed accepts clients that send no Origin (devices, CLI tools) and
// pages served from this machine; other web pages must be listed explicitly.
func (l *wsListener) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if isLoopback(net.JoinHostPort(u.Hostname(), "0")) {
		return true
	}
	return l.origins[strings.TrimRight(strings.ToLower(origin), "/")]
}

func (l *wsListener) handle(w http.ResponseWriter, r *http.Request) {
	if !l.originAllowed(r) {
		l.log.Warn("websocket origin refused; allow it in settings if it is yours", "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	c, err := l.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	if err := l.establish(l.id, transport.NewWSConn(c)); err != nil {
		l.log.Debug("websocket client ended", "error", err)
	}
}

// establish is set by Serve; guarded by mu because handlers read it.
func (l *wsListener) establish(id string, c net.Conn) error {
	l.mu.Lock()
	fn := l.establishFn
	l.mu.Unlock()
	return fn(id, c)
}

func (l *wsListener) Serve(establish listeners.EstablishFn) {
	l.mu.Lock()
	l.establishFn = establish
	srv, ln := l.srv, l.ln
	l.mu.Unlock()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		l.log.Error("websocket listener stopped", "error", err)
	}
}

func (l *wsListener) Close(closeClients listeners.CloseFn) {
	l.mu.Lock()
	srv := l.srv
	l.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	closeClients(l.id)
}
