package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/engine/message"
)

// Badger lets one process at a time open a capture (or a session journal,
// journal_service.go, served on the same socket), and serve or the app
// keeps theirs open while they run. So that the headless capture commands
// still read it then (a script that runs serve and checks what devices
// sent), the holder answers stats, queries and flushes on a Unix socket in
// the data dir (or a loopback fallback, see captureAddrFile), and the read-only commands (stats, query, export, replay)
// use it when the store is locked. Writing commands (import, clear) are
// still refused: they need the capture to themselves.
//
// The socket is a file in the user's data dir, created 0600 where the OS
// has file modes: only that user can reach it.
const captureSocket = "capture.sock"

// Where a Unix socket cannot be made (Wine has no AF_UNIX; a data dir
// path longer than sun_path's 108 bytes), the holder listens on a
// loopback port instead and writes the port and a random token to this
// file, created 0600 (on Windows the data dir under %AppData% is the
// user's alone). Requests without the token are refused: any local user
// can reach a loopback port.
const captureAddrFile = "capture.addr"

type captureAddr struct {
	Addr  string `json:"addr"`
	Token string `json:"token"`
}

// serveCaptureQueries answers on dataDir's socket (or its loopback
// fallback) from the store current() returns (nil: the capture is not
// open). Call it only while holding the store: the socket file it replaces
// can then only be a dead instance's. stop closes the listener and waits
// for requests in progress.
func serveCaptureQueries(dataDir string, current func() *capture.Store, journal func() *journalstore.Store, log *slog.Logger) (stop func(), err error) {
	l, token, cleanup, err := listenCaptureQueries(dataDir)
	if err != nil {
		return nil, err
	}
	mux := captureHandler(current)
	journalHandler(mux, journal)
	var handler http.Handler = mux
	if token != "" {
		handler = requireToken(token, handler)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("capture queries listener stopped", "listener", l.Addr().String(), "error", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		cleanup()
	}, nil
}

// listenCaptureQueries listens on the socket, else on the loopback
// fallback; token is empty for the socket, whose file mode is the guard.
func listenCaptureQueries(dataDir string) (l net.Listener, token string, cleanup func(), err error) {
	path := filepath.Join(dataDir, captureSocket)
	addrFile := filepath.Join(dataDir, captureAddrFile)
	_ = os.Remove(path)
	_ = os.Remove(addrFile) // a dead fallback instance's; dialCapture prefers it
	l, unixErr := net.Listen("unix", path)
	if unixErr == nil {
		if runtime.GOOS != "windows" {
			if err := os.Chmod(path, 0o600); err != nil {
				l.Close()
				return nil, "", nil, fmt.Errorf("capture queries socket %s: %w", path, err)
			}
		}
		return l, "", func() { _ = os.Remove(path) }, nil
	}
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("capture queries: socket %s: %v; loopback port instead: %w", path, unixErr, err)
	}
	token = rand.Text()
	b, _ := json.Marshal(captureAddr{Addr: l.Addr().String(), Token: token}) // cannot fail: strings
	if err := writePrivateFile(addrFile, b); err != nil {
		l.Close()
		return nil, "", nil, fmt.Errorf("capture queries: socket %s: %v; loopback port instead: %w", path, unixErr, err)
	}
	return l, token, func() { _ = os.Remove(addrFile) }, nil
}

// writePrivateFile writes b to path whole or not at all, readable by this
// user only (CreateTemp makes it 0600), so a reader never sees half a token.
func writePrivateFile(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

const tokenHeader = "X-Capture-Token"

func requireToken(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(tokenHeader)), []byte(token)) != 1 {
			http.Error(w, "wrong or missing "+tokenHeader+": it is in "+captureAddrFile+" in the data dir", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func captureHandler(current func() *capture.Store) *http.ServeMux {
	mux := http.NewServeMux()
	withStore := func(h func(http.ResponseWriter, *http.Request, *capture.Store)) http.HandlerFunc {
		return withOpen(current, "the capture is not open in the process that holds it", h)
	}
	mux.HandleFunc("GET /v1/stats", withStore(func(w http.ResponseWriter, _ *http.Request, s *capture.Store) {
		st, err := s.Stats()
		writeJSON(w, st, err)
	}))
	mux.HandleFunc("POST /v1/flush", withStore(func(w http.ResponseWriter, r *http.Request, s *capture.Store) {
		if err := s.Flush(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	mux.HandleFunc("GET /v1/query", withStore(func(w http.ResponseWriter, r *http.Request, s *capture.Store) {
		q, err := queryFromURL(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var damage []capture.Damage
		q.OnDamage = func(d capture.Damage) {
			if len(damage) < maxRemoteDamage {
				damage = append(damage, d)
			}
		}
		recs, next, err := s.Query(r.Context(), q)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("X-Next-Cursor", next)
		if len(damage) > 0 {
			b, _ := json.Marshal(damage) // cannot fail: strings and numbers
			w.Header().Set(damageHeader, string(b))
		}
		out := capture.NewJSONLWriter(w)
		for _, rec := range recs {
			if err := out.Write(rec); err != nil {
				return
			}
		}
		_ = out.Flush()
	}))
	return mux
}

// maxRemotePage bounds one remote query's answer.
const maxRemotePage = 10_000

// A query's answer lists the damaged blocks it skipped (Query.OnDamage)
// in this header, as JSON, at most maxRemoteDamage of them.
const (
	damageHeader    = "X-Capture-Damage"
	maxRemoteDamage = 64
)

func queryToURL(q capture.Query) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("filter", q.Filter)
	set("contains", q.Contains)
	set("cursor", q.Cursor)
	if q.Where != nil {
		set("where", q.Where.String())
	}
	if !q.Since.IsZero() {
		set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		set("until", q.Until.Format(time.RFC3339Nano))
	}
	if q.Newest {
		set("newest", "1")
	}
	set("limit", strconv.Itoa(q.Limit))
	return v
}

func queryFromURL(v url.Values) (capture.Query, error) {
	q := capture.Query{Filter: v.Get("filter"), Contains: v.Get("contains"), Cursor: v.Get("cursor"), Newest: v.Get("newest") == "1"}
	var err error
	if w := v.Get("where"); w != "" {
		if q.Where, err = capture.CompileCondition(w); err != nil {
			return q, err
		}
	}
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(f.name); s != "" {
			if *f.t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return q, fmt.Errorf("%s: %w", f.name, err)
			}
		}
	}
	if q.Limit, err = strconv.Atoi(v.Get("limit")); err != nil || q.Limit < 0 {
		return q, fmt.Errorf("limit %q: want a number of records", v.Get("limit"))
	}
	if q.Limit == 0 || q.Limit > maxRemotePage {
		q.Limit = maxRemotePage
	}
	return q, nil
}

// remoteCapture reads a capture through the socket of the process that
// holds it. It answers like a Store: a query returns a page and a cursor,
// and a caller wanting more asks again.
type remoteCapture struct {
	socket string // where, for messages
	token  string // the loopback fallback's; empty on the socket
	hc     *http.Client
}

// dialCapture reports whether a process answers on dataDir's socket, or
// on the loopback port its fallback file names.
func dialCapture(dataDir string) (*remoteCapture, error) {
	where, token, hc, err := holderClient(dataDir)
	if err != nil {
		return nil, err
	}
	rc := &remoteCapture{socket: where, token: token, hc: hc}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := rc.stats(ctx); err != nil {
		hc.CloseIdleConnections()
		return nil, err
	}
	return rc, nil
}

// holderClient reaches the process holding dataDir's stores: on its
// socket, or on the loopback port and with the token its fallback file
// names. where says which, for messages.
func holderClient(dataDir string) (where, token string, hc *http.Client, err error) {
	network, addr := "unix", filepath.Join(dataDir, captureSocket)
	where = addr
	addrFile := filepath.Join(dataDir, captureAddrFile)
	if b, err := os.ReadFile(addrFile); err == nil {
		var fallback captureAddr
		if err := json.Unmarshal(b, &fallback); err != nil {
			return "", "", nil, fmt.Errorf("capture queries: %s: %w", addrFile, err)
		}
		network, addr = "tcp", fallback.Addr
		where, token = addr+" (from "+addrFile+")", fallback.Token
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	return where, token, &http.Client{Transport: tr}, nil
}

func (rc *remoteCapture) Stats() (capture.Stats, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return rc.stats(ctx)
}

func (rc *remoteCapture) stats(ctx context.Context) (capture.Stats, error) {
	var st capture.Stats
	body, _, err := rc.call(ctx, http.MethodGet, "/v1/stats", nil)
	if err != nil {
		return st, err
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(&st); err != nil {
		return st, fmt.Errorf("capture stats through %s: %w", rc.socket, err)
	}
	return st, nil
}

func (rc *remoteCapture) Flush(ctx context.Context) error {
	body, _, err := rc.call(ctx, http.MethodPost, "/v1/flush", nil)
	if err == nil {
		body.Close()
	}
	return err
}

func (rc *remoteCapture) Query(ctx context.Context, q capture.Query) ([]message.Message, string, error) {
	body, header, err := rc.call(ctx, http.MethodGet, "/v1/query", queryToURL(q))
	if err != nil {
		return nil, "", err
	}
	defer body.Close()
	if err := passDamage(header.Get(damageHeader), q.OnDamage); err != nil {
		return nil, "", fmt.Errorf("capture query through %s: %w", rc.socket, err)
	}
	in := capture.NewJSONLReader(body, rc.socket)
	var recs []message.Message
	for {
		r, err := in.Read()
		if errors.Is(err, io.EOF) {
			return recs, header.Get("X-Next-Cursor"), nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("capture query through %s: %w", rc.socket, err)
		}
		recs = append(recs, r)
	}
}

// passDamage hands the damage a remote query reported to report.
func passDamage(header string, report func(capture.Damage)) error {
	if header == "" || report == nil {
		return nil
	}
	var damage []capture.Damage
	if err := json.Unmarshal([]byte(header), &damage); err != nil {
		return fmt.Errorf("bad %s header: %w", damageHeader, err)
	}
	for _, d := range damage {
		report(d)
	}
	return nil
}

func (rc *remoteCapture) Close() error {
	rc.hc.CloseIdleConnections()
	return nil
}

func (rc *remoteCapture) call(ctx context.Context, method, path string, v url.Values) (io.ReadCloser, http.Header, error) {
	u := "http://capture" + path
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, nil, err
	}
	if rc.token != "" {
		req.Header.Set(tokenHeader, rc.token)
	}
	resp, err := rc.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("reach the process holding the capture through %s: %w", rc.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, nil, fmt.Errorf("the process holding the capture says: %s", bytes.TrimSpace(msg))
	}
	return resp.Body, resp.Header, nil
}

// withOpen answers with h while current() holds a store, and otherwise
// says missing (503): the holder runs with that store off or closed.
func withOpen[S any](current func() *S, missing string, h func(http.ResponseWriter, *http.Request, *S)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := current()
		if s == nil {
			http.Error(w, missing, http.StatusServiceUnavailable)
			return
		}
		h(w, r, s)
	}
}

// writeJSON answers v as JSON, or err.
func writeJSON(w http.ResponseWriter, v any, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
