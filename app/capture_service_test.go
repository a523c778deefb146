package app

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// A query crosses the socket whole: every field the commands set comes
// back as it was, to the nanosecond.
func TestQueryURLRoundTrip(t *testing.T) {
	where, err := capture.CompileCondition(`temp > 30 && status == "alarm"`)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 10, 4, 5, 123456789, time.UTC)
	cases := []capture.Query{
		{Limit: 1},
		{Filter: "plant/+/power", Contains: "a&b=c #1", Where: where, Since: at, Until: at.Add(time.Hour), Newest: true, Cursor: "AQEAAAAAAAAAZA", Limit: 1000},
	}
	for _, q := range cases {
		got, err := queryFromURL(queryToURL(q))
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if got.Filter != q.Filter || got.Contains != q.Contains || got.Cursor != q.Cursor || got.Newest != q.Newest ||
			!got.Since.Equal(q.Since) || !got.Until.Equal(q.Until) || got.Limit != q.Limit ||
			(q.Where == nil) != (got.Where == nil) || (q.Where != nil && got.Where.String() != q.Where.String()) {
			t.Errorf("sent %+v, got %+v", q, got)
		}
	}
}

func TestQueryFromURLBadInput(t *testing.T) {
	cases := []struct {
		query, want string
	}{
		{"limit=-1", "limit"},
		{"limit=ten", "limit"},
		{"limit=5&since=yesterday", "since"},
		{"limit=5&where=temp+>", "condition"},
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.query)
		if _, err := queryFromURL(v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %s", c.query, err, c.want)
		}
	}
	v, _ := url.ParseQuery("limit=0")
	if q, err := queryFromURL(v); err != nil || q.Limit != maxRemotePage {
		t.Errorf("limit=0: %d, %v; want a page of %d", q.Limit, err, maxRemotePage)
	}
}

// Where the capture socket cannot be made (Wine has no AF_UNIX; on Linux
// a data dir path longer than the 108 bytes sun_path holds), the capture
// commands still read the capture serve holds: through a loopback port
// that only requests carrying the token from a file of this user's answer.
func TestCaptureQueriesWithoutUnixSocket(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("a-long-data-dir-", 8))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	store, err := openCapture(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	stop, err := serveCaptureQueries(dir, func() *capture.Store { return store }, noJournal, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("serving capture queries from a data dir too long for a socket: %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	rc, err := dialCapture(dir)
	if err != nil {
		t.Fatalf("reaching the capture without a socket: %v", err)
	}
	defer rc.Close()
	if _, err := rc.Stats(); err != nil {
		t.Fatalf("stats through the loopback fallback: %v", err)
	}
	// The journal commands take the same way, token and all: this holder
	// has no journal, and says so rather than refusing the request.
	rj, err := dialJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rj.Stats(); err == nil || !strings.Contains(err.Error(), "journal is not open") {
		t.Fatalf("journal stats through the loopback fallback: %v; want the holder's 'not open'", err)
	}

	addrFile := filepath.Join(dir, captureAddrFile)
	fi, err := os.Stat(addrFile)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v; want 0600 so that only this user reads the token", addrFile, fi.Mode().Perm())
	}
	var where captureAddr
	b, _ := os.ReadFile(addrFile)
	if err := json.Unmarshal(b, &where); err != nil || where.Token == "" {
		t.Fatalf("%s: %q, %v", addrFile, b, err)
	}
	resp, err := http.Get("http://" + where.Addr + "/v1/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a request without the token got %s; want 403 Forbidden", resp.Status)
	}

	stop()
	stopped = true
	if _, err := os.Stat(addrFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there after serve stopped: %v", addrFile, err)
	}
}
