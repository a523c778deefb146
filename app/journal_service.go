package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/journalstore"
)

// The session journal, like the capture, is open in one process at a
// time; while serve or the app holds it, `journal query` and `journal
// stats` read it through the capture's socket (capture_service.go), on
// these endpoints.

// noJournal is for processes that hold no journal.
func noJournal() *journalstore.Store { return nil }

func journalHandler(mux *http.ServeMux, current func() *journalstore.Store) {
	if current == nil {
		current = noJournal
	}
	withStore := func(h func(http.ResponseWriter, *http.Request, *journalstore.Store)) http.HandlerFunc {
		return withOpen(current, "the session journal is not open in the process that holds the data dir (was it started with --journal off?)", h)
	}
	mux.HandleFunc("GET /v1/journal/stats", withStore(func(w http.ResponseWriter, _ *http.Request, s *journalstore.Store) {
		st, err := s.Stats()
		writeJSON(w, st, err)
	}))
	mux.HandleFunc("GET /v1/journal/query", withStore(func(w http.ResponseWriter, r *http.Request, s *journalstore.Store) {
		q, err := journalQueryFromURL(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// What serve or the app recorded a moment ago is part of the answer.
		if err := s.Flush(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		evs, err := s.Query(r.Context(), q)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				return
			}
		}
	}))
}

func journalQueryToURL(q journalstore.Query) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("client", q.Client)
	set("user", q.User)
	kinds := make([]string, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = string(k)
	}
	set("kinds", strings.Join(kinds, ","))
	if !q.Since.IsZero() {
		set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		set("until", q.Until.Format(time.RFC3339Nano))
	}
	if q.Newest {
		set("newest", "1")
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	return v
}

func journalQueryFromURL(v url.Values) (journalstore.Query, error) {
	q := journalstore.Query{Client: v.Get("client"), User: v.Get("user"), Newest: v.Get("newest") == "1"}
	var err error
	if q.Kinds, err = journal.ParseKinds(v.Get("kinds")); err != nil {
		return q, err
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
	if q.Limit, err = strconv.Atoi(v.Get("limit")); err != nil {
		return q, fmt.Errorf("limit %q: want a number of events", v.Get("limit"))
	}
	return q, nil
}

// remoteJournal reads the journal through the socket of the process that
// holds it.
type remoteJournal struct {
	socket string
	token  string // the loopback fallback's; empty on the socket
	hc     *http.Client
}

func dialJournal(dataDir string) (*remoteJournal, error) {
	where, token, hc, err := holderClient(dataDir)
	if err != nil {
		return nil, err
	}
	return &remoteJournal{socket: where, token: token, hc: hc}, nil
}

func (rj *remoteJournal) Stats() (journalstore.Stats, error) {
	var st journalstore.Stats
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body, err := rj.call(ctx, "/v1/journal/stats", nil)
	if err != nil {
		return st, err
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(&st); err != nil {
		return st, fmt.Errorf("journal stats through %s: %w", rj.socket, err)
	}
	return st, nil
}

func (rj *remoteJournal) Query(ctx context.Context, q journalstore.Query) ([]journal.Event, error) {
	body, err := rj.call(ctx, "/v1/journal/query", journalQueryToURL(q))
	if err != nil {
		return nil, err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	var evs []journal.Event
	for {
		var ev journal.Event
		err := dec.Decode(&ev)
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("journal query through %s: %w", rj.socket, err)
		}
		evs = append(evs, ev)
	}
}

func (rj *remoteJournal) Close() error {
	rj.hc.CloseIdleConnections()
	return nil
}

func (rj *remoteJournal) call(ctx context.Context, path string, v url.Values) (io.ReadCloser, error) {
	u := "http://journal" + path
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if rj.token != "" {
		req.Header.Set(tokenHeader, rj.token)
	}
	resp, err := rj.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the process holding the journal through %s: %w", rj.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("the process holding the journal says: %s", strings.TrimSpace(string(msg)))
	}
	return resp.Body, nil
}
