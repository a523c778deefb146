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

// Error is a sentence for a person, in a window as on the command line:
// which port, which listener at which address, why, and what to do.
func (e *ListenError) Error() string {
	title := listenerTitle(e.Listener)
	switch {
	case e.InUse():
		return fmt.Sprintf("Port %s is already in use by another program, so the %s listener cannot open %s; choose another port or stop that program.",
			e.port(), title, e.Addr)
	case errors.Is(e.Err, syscall.EACCES):
		return fmt.Sprintf("Port %s needs administrator rights (ports below 1024 do), so the %s listener cannot open %s; choose a port above 1023.",
			e.port(), title, e.Addr)
	case errors.Is(e.Err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("The %s listener cannot open %s: %s is not an address of this computer; use 127.0.0.1, or 0.0.0.0 for every interface.",
			title, e.Addr, e.host())
	}
	return fmt.Sprintf("The %s listener cannot open %s: %v.", title, e.Addr, e.Err)
}

// CommandLineHint is what to pass on the command line instead, for the
// serve command's message; the window has its own way to change the port.
func (e *ListenError) CommandLineHint() string {
	host := e.host()
	if host == "" {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("--%s %s picks a free port", e.Listener, net.JoinHostPort(host, "0"))
}

func (e *ListenError) port() string {
	if _, port, err := net.SplitHostPort(e.Addr); err == nil {
		return port
	}
	return e.Addr
}

func (e *ListenError) host() string {
	host, _, _ := net.SplitHostPort(e.Addr)
	return host
}

// listenerTitle is a listener's name as people read it.
func listenerTitle(name string) string {
	if t, ok := map[string]string{"mqtt": "MQTT", "ws": "WebSocket", "tls": "TLS"}[name]; ok {
		return t
	}
	return name
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
	bound   net.Listener  // opened in advance by Reconfigure (handover.go), or nil
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
	ln, err := listenOn(l.bound, l.addr)
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
	if IsLoopback(net.JoinHostPort(u.Hostname(), "0")) {
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
