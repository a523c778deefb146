package journalstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

func open(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testkit.Logger()
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("open journal: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func flush(t testing.TB, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

func query(t testing.TB, s *Store, q Query) []journal.Event {
	t.Helper()
	evs, err := s.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("query %+v: %v", q, err)
	}
	return evs
}

// sessions records a connect and a disconnect for clients dev-0..dev-n-1,
// one second apart from base.
func sessions(s *Store, n int, base time.Time) {
	for i := range n {
		at := base.Add(time.Duration(i) * time.Second)
		id := fmt.Sprintf("dev-%d", i)
		s.Record(journal.Event{Time: at, Kind: journal.Connect, Client: id, User: fmt.Sprintf("user-%d", i%3)})
		s.Record(journal.Event{Time: at.Add(time.Millisecond), Kind: journal.Disconnect, Client: id, Cause: journal.CauseNetwork})
	}
}

func TestQueryFilters(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	sessions(s, 30, base)
	flush(t, s)

	tests := []struct {
		name  string
		q     Query
		count int
		first string // client of the first event
	}{
		{"all", Query{}, 60, "dev-0"},
		{"one client", Query{Client: "dev-7"}, 2, "dev-7"},
		{"one client, not a prefix of another", Query{Client: "dev-1"}, 2, "dev-1"},
		{"one user", Query{User: "user-1"}, 10, "dev-1"},
		{"kind", Query{Kinds: []journal.Kind{journal.Disconnect}}, 30, "dev-0"},
		{"since", Query{Since: base.Add(25 * time.Second)}, 10, "dev-25"},
		{"until", Query{Until: base.Add(4 * time.Second)}, 9, "dev-0"},
		{"newest first with limit", Query{Newest: true, Limit: 3}, 3, "dev-29"},
		{"client and time", Query{Client: "dev-7", Until: base.Add(7 * time.Second)}, 1, "dev-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := query(t, s, tt.q)
			if len(evs) != tt.count || evs[0].Client != tt.first {
				t.Fatalf("%d events starting with %+v; want %d starting with %s", len(evs), evs[0], tt.count, tt.first)
			}
		})
	}
}

func TestReopenKeepsEventsAndTotals(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	sessions(s, 5, time.Now())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, Options{})
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 10 || st.Bytes == 0 || st.Oldest.IsZero() {
		t.Fatalf("after reopen: %+v; want 10 events", st)
	}
	s.Record(journal.Event{Time: time.Now(), Kind: journal.Connect, Client: "after"})
	flush(t, s)
	if evs := query(t, s, Query{Client: "after"}); len(evs) != 1 || evs[0].Seq != 11 {
		t.Fatalf("after reopen: %+v; want one event with seq 11 (seqs continue)", evs)
	}
}

func TestRetentionByAge(t *testing.T) {
	s := open(t, t.TempDir(), Options{MaxAge: time.Hour})
	now := time.Now()
	sessions(s, 10, now.Add(-2*time.Hour)) // all older than an hour
	sessions(s, 1, now)
	flush(t, s)
	s.retain(now)
	evs := query(t, s, Query{})
	if len(evs) != 2 {
		t.Fatalf("%d events after retention, want the 2 recent ones", len(evs))
	}
	if left := query(t, s, Query{User: "user-1"}); len(left) != 0 {
		t.Fatalf("user index still lists %d deleted events", len(left))
	}
	if st, _ := s.Stats(); st.Events != 2 {
		t.Fatalf("stats count %d events, want 2", st.Events)
	}
}

func TestRetentionBySize(t *testing.T) {
	const limit = 20_000
	s := open(t, t.TempDir(), Options{MaxBytes: limit})
	sessions(s, 500, time.Now())
	flush(t, s)
	st, _ := s.Stats()
	if st.Bytes > limit || st.Events == 0 {
		t.Fatalf("journal holds %d bytes in %d events, want at most %d", st.Bytes, st.Events, limit)
	}
	evs := query(t, s, Query{Newest: true, Limit: 1})
	if evs[0].Client != "dev-499" {
		t.Fatalf("newest event %+v; retention must delete the oldest", evs[0])
	}
}

func TestQueueFullDropsAndCounts(t *testing.T) {
	hold := make(chan struct{})
	s := open(t, t.TempDir(), Options{QueueLen: 4, hold: hold})
	accepted := 0
	for i := range 50 {
		if s.Record(journal.Event{Time: time.Now(), Kind: journal.Connect, Client: fmt.Sprint(i)}) {
			accepted++
		}
	}
	st, _ := s.Stats()
	if st.DroppedQueueFull == 0 || int(st.DroppedQueueFull)+accepted != 50 {
		t.Fatalf("accepted %d, dropped %d of 50; every refused event must be counted", accepted, st.DroppedQueueFull)
	}
	close(hold)
	flush(t, s)
	if got := len(query(t, s, Query{Limit: -1})); got != accepted {
		t.Fatalf("%d events stored, want the %d accepted", got, accepted)
	}
}

func TestRecordAfterCloseDoesNotPanic(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	_ = s.Close()
	if s.Record(journal.Event{Kind: journal.Connect}) {
		t.Fatal("a closed journal accepted an event")
	}
	if _, err := s.Query(context.Background(), Query{}); err == nil {
		t.Fatal("query on a closed journal did not fail")
	}
}

// BenchmarkJournalQueryOneClient: 5,000 sessions connect and disconnect
// (with a subscribe each), then one client's events are queried.
func BenchmarkJournalQueryOneClient(b *testing.B) {
	s := open(b, b.TempDir(), Options{})
	base := time.Now().Add(-time.Hour)
	for i := range 5000 {
		at := base.Add(time.Duration(i) * 10 * time.Millisecond)
		id := fmt.Sprintf("device-%04d", i)
		s.Record(journal.Event{Time: at, Kind: journal.Connect, Client: id, User: "fleet", Protocol: 5, KeepAlive: 60})
		s.Record(journal.Event{Time: at, Kind: journal.Subscribe, Client: id, User: "fleet",
			Filters: []journal.Filter{{Filter: "cmd/" + id, QoS: 1, Granted: 1, Code: 1}}})
		s.Record(journal.Event{Time: at.Add(time.Second), Kind: journal.Disconnect, Client: id, User: "fleet", Cause: journal.CauseNetwork})
	}
	flush(b, s)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		evs, err := s.Query(context.Background(), Query{Client: fmt.Sprintf("device-%04d", i%5000)})
		if err != nil || len(evs) != 3 {
			b.Fatalf("query: %d events, %v", len(evs), err)
		}
	}
}
