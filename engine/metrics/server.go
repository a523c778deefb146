package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/broker"
)

// Path is where the metrics are served.
const Path = "/metrics"

// DefaultAddr is the port the Prometheus exporter registry suggests for
// an application's own exporter, on loopback.
const DefaultAddr = "127.0.0.1:9464"

// shutdownTimeout bounds how long Run waits for a scrape in progress.
const shutdownTimeout = 5 * time.Second

// Options say where to serve and who may scrape.
type Options struct {
	Addr string
	// Users are the broker's users. An Addr reachable from other machines
	// needs at least one, as the broker's listeners do, and every scrape
	// then logs in as one of them with HTTP basic auth; on loopback
	// scrapes need no login.
	Users  *auth.Users
	Logger *slog.Logger
}

// Server serves a registry's metrics over HTTP.
type Server struct {
	ln   net.Listener
	http *http.Server
	log  *slog.Logger
}

// ListenError says why the metrics address could not be opened.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return fmt.Sprintf("metrics listener: address %s is already in use (is another iotstudio serving metrics?); "+
			"choose another port, or port 0 to pick a free one (e.g. --metrics 127.0.0.1:0)", e.Addr)
	}
	if errors.Is(e.Err, syscall.EACCES) {
		return fmt.Sprintf("metrics listener: not allowed to bind %s (ports below 1024 need privileges); choose a port above 1024", e.Addr)
	}
	return fmt.Sprintf("metrics listener on %s: %v", e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Listen checks opts and opens the address; Run serves it.
func Listen(reg prometheus.Gatherer, opts Options) (*Server, error) {
	if err := checkAddr(opts.Addr); err != nil {
		return nil, err
	}
	exposed := !broker.IsLoopback(opts.Addr)
	if exposed && (opts.Users == nil || len(opts.Users.List) == 0) {
		return nil, fmt.Errorf("metrics address %s is reachable from other machines, but the broker has no users: "+
			"add one with `iotstudio users add NAME` (password on stdin) and give it to Prometheus as basic_auth, "+
			"or serve metrics on loopback (e.g. --metrics %s)", opts.Addr, DefaultAddr)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, &ListenError{Addr: opts.Addr, Err: err}
	}
	return &Server{
		ln:  ln,
		log: log,
		http: &http.Server{
			Handler:           newHandler(reg, opts.Users, exposed, log),
			ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
	}, nil
}

// newHandler serves reg at Path; exposed, to the broker's users only.
func newHandler(reg prometheus.Gatherer, users *auth.Users, exposed bool, log *slog.Logger) http.Handler {
	var handler http.Handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes come every few seconds; more at once is a mistake or
		// an attack, and each one walks every client.
		MaxRequestsInFlight: 4,
	})
	if exposed {
		handler = &basicAuth{users: users, next: handler, log: log}
	}
	mux := http.NewServeMux()
	mux.Handle(Path, handler)
	return mux
}

// Addr is the address bound (port 0 resolved).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx is done, then waits (a while) for scrapes in
// progress. It returns nil after ctx, or why serving stopped before.
func (s *Server) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(s.ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("metrics listener on %s stopped: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(stopCtx); err != nil {
		s.log.Warn("metrics listener: a scrape was cut short at shutdown", "error", err)
		_ = s.http.Close()
	}
	<-served
	return nil
}

// basicAuth admits scrapes that log in as one of the broker's users.
// Checks take turns: each is a bcrypt comparison, so a flood of wrong
// passwords costs at most one core.
type basicAuth struct {
	users *auth.Users
	next  http.Handler
	log   *slog.Logger
	mu    sync.Mutex
}

func (a *basicAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, password, ok := r.BasicAuth()
	if ok {
		a.mu.Lock()
		ok = a.users.Authenticate(name, []byte(password))
		a.mu.Unlock()
	}
	if !ok {
		a.log.Debug("metrics scrape refused: no or wrong credentials", "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Basic realm="iotstudio metrics"`)
		http.Error(w, "log in as one of the broker's users", http.StatusUnauthorized)
		return
	}
	a.next.ServeHTTP(w, r)
}

func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("metrics address %q is not HOST:PORT (for example %s): %v", addr, DefaultAddr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("metrics address %q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}
