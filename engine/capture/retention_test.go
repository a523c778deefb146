package capture

import (
	"context"
	"fmt"
	"testing"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// countKeys counts the keys with prefix.
func countKeys(t *testing.T, s *Store, prefix []byte) int {
	t.Helper()
	n := 0
	if err := s.db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func stats(t *testing.T, s *Store) Stats {
	t.Helper()
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRetentionBySize(t *testing.T) {
	const block, segment = 2000, 2 * 2000
	s := openAt(t, t.TempDir(), Options{blockBytes: block, segmentBlocks: 2, MaxBytes: 20_000, MaxAge: -1})
	payload := make([]byte, 100)
	for i := range 1000 {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Millisecond), Topic: fmt.Sprintf("size/%d", i%7), Payload: payload})
		if i%100 == 99 {
			flush(t, s)
		}
	}
	flush(t, s)
	st := stats(t, s)
	if st.Bytes < 20_000 || st.Bytes > 20_000+segment {
		t.Fatalf("Bytes = %d after retention; want the budget 20000 kept, exceeded by less than one segment (%d)", st.Bytes, segment)
	}
	newest, _ := query(t, s, Query{Newest: true, Limit: 1})
	if len(newest) != 1 || newest[0].Seq != 1000 {
		t.Fatalf("newest record after retention = %+v, want seq 1000", newest)
	}
	kept, _ := query(t, s, Query{Limit: 2000})
	if n := int64(len(kept)); n != st.Records || n < 100 || n > 200 {
		t.Fatalf("%d records kept (Stats says %d); 20 KB holds about 150", n, st.Records)
	}
	// The oldest went first, and the rest is contiguous up to the newest.
	for i, r := range kept {
		if want := uint64(1000 - len(kept) + 1 + i); r.Seq != want {
			t.Fatalf("kept[%d].Seq = %d, want %d: retention left a hole", i, r.Seq, want)
		}
	}
	// Index entries of deleted blocks went with them.
	byTopic := 0
	for i := range 7 {
		recs, _ := query(t, s, Query{Filter: fmt.Sprintf("size/%d", i), Limit: 2000})
		byTopic += len(recs)
	}
	if byTopic != len(kept) {
		t.Fatalf("per-topic queries find %d records, the store holds %d", byTopic, len(kept))
	}
	segments := countKeys(t, s, prefixSegment)
	if topics := countKeys(t, s, prefixTopic); topics > 7*segments {
		t.Fatalf("%d topic index entries for %d segments of at most 7 topics: stale entries", topics, segments)
	}
	if marks := countKeys(t, s, prefixSecond); marks != 1 {
		t.Fatalf("%d time index entries; all records are within one second", marks)
	}
	// A time query from before the first kept record starts at it.
	recs, _ := query(t, s, Query{Since: base, Limit: 1})
	if len(recs) != 1 || recs[0].Seq != kept[0].Seq {
		t.Fatalf("Since the start: %+v, want seq %d", recs, kept[0].Seq)
	}
}

func TestRetentionByAge(t *testing.T) {
	s := openAt(t, t.TempDir(), Options{MaxAge: time.Hour, MaxBytes: -1})
	now := time.Now()
	for _, ago := range []time.Duration{3 * time.Hour, 2 * time.Hour, time.Minute} {
		for i := range 10 {
			ingest(t, s, message.Message{Time: now.Add(-ago + time.Duration(i)*time.Millisecond), Topic: "age"})
		}
		flush(t, s) // each age in its own block
	}
	recs, _ := query(t, s, Query{})
	if len(recs) != 10 || recs[0].Seq != 21 || now.Sub(recs[0].Time) > time.Hour {
		t.Fatalf("after retention by age: %d records from seq %d; want the 10 of the last hour", len(recs), recs[0].Seq)
	}
	if st := stats(t, s); st.Records != 10 || now.Sub(st.Oldest) > time.Hour {
		t.Fatalf("stats %+v", st)
	}
}

func TestSetRetentionAppliesAtOnceAndUnlimitedKeepsAll(t *testing.T) {
	s := openAt(t, t.TempDir(), Options{blockBytes: 1000, segmentBlocks: 1, MaxBytes: -1, MaxAge: -1})
	old := time.Now().Add(-30 * 24 * time.Hour)
	for i := range 200 {
		ingest(t, s, message.Message{Time: old.Add(time.Duration(i) * time.Second), Topic: "keep", Payload: make([]byte, 50)})
	}
	flush(t, s)
	if st := stats(t, s); st.Records != 200 || st.MaxBytes != -1 || st.MaxAge != -1 {
		t.Fatalf("unlimited retention: %+v, want all 200 records kept", st)
	}
	s.SetRetention(5000, -1)
	testkit.WithinErr(t, 5*time.Second, "SetRetention(5000) to be applied", func() error {
		if st := stats(t, s); st.Bytes > 5000+1000 {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	if st := stats(t, s); st.MaxBytes != 5000 || st.Bytes < 5000 {
		t.Fatalf("after SetRetention: %+v", st)
	}
}

func TestRetentionSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{blockBytes: 1000, MaxBytes: -1, MaxAge: -1})
	for i := range 100 {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Millisecond), Topic: "r", Payload: make([]byte, 50)})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := stats(t, openAt(t, dir, Options{MaxBytes: -1, MaxAge: -1})).Bytes
	if before < 100*50 {
		t.Fatalf("Bytes after reopen = %d, want at least the 5000 bytes of payload", before)
	}
}

// Imported records older (or newer) than the live capture are out of time
// order; time-range queries must still find them.
func TestTimeRangeFindsOutOfOrderRecords(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	for i := range 5 {
		ingest(t, s, message.Message{Time: now.Add(time.Duration(i-10) * time.Second), Topic: "live"})
	}
	flush(t, s)
	lastWeek := now.Add(-6 * 24 * time.Hour)
	nextYear := now.Add(365 * 24 * time.Hour)
	for i := range 5 {
		if err := s.Append(ctx, message.Message{Time: lastWeek.Add(time.Duration(i) * time.Second), Topic: "imported"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Append(ctx, message.Message{Time: nextYear, Topic: "future"}); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	for i := range 5 {
		ingest(t, s, message.Message{Time: now.Add(time.Duration(i) * time.Second), Topic: "live"})
	}
	flush(t, s)

	topics := func(q Query) string {
		recs, _ := query(t, s, q)
		var out []string
		for _, r := range recs {
			out = append(out, r.Topic)
		}
		return fmt.Sprint(len(out), out)
	}
	cases := []struct {
		q    Query
		want string
	}{
		{Query{Since: lastWeek.Add(-time.Minute), Until: lastWeek.Add(time.Minute)}, "5 [imported imported imported imported imported]"},
		{Query{Filter: "imported", Since: lastWeek.Add(2 * time.Second), Newest: true, Limit: 2}, "2 [imported imported]"},
		{Query{Until: now.Add(-time.Hour)}, "5 [imported imported imported imported imported]"},
		{Query{Since: now.Add(-time.Minute), Until: now.Add(time.Minute)}, "10 [live live live live live live live live live live]"},
		{Query{Since: now.Add(-time.Second)}, "6 [future live live live live live]"},
		{Query{Since: nextYear.Add(-time.Hour)}, "1 [future]"},
	}
	for _, c := range cases {
		if got := topics(c.q); got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.q, got, c.want)
		}
	}
	st := stats(t, s)
	if !st.Oldest.Equal(lastWeek) || !st.Newest.Equal(nextYear) {
		t.Errorf("stats span %v .. %v, want %v .. %v", st.Oldest, st.Newest, lastWeek, nextYear)
	}
}

func TestAppendWaitsForRoomAndHonoursContext(t *testing.T) {
	gate := make(chan struct{})
	s := openAt(t, t.TempDir(), Options{QueueBytes: 200, writerGate: gate})
	ctx := context.Background()
	n := 0
	for ; n < 100; n++ {
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		err := s.Append(short, message.Message{Time: base, Topic: "wait", Payload: make([]byte, 20)})
		cancel()
		if err != nil {
			break
		}
	}
	if n == 0 || n == 100 {
		t.Fatalf("a 200-byte queue took %d appends before waiting", n)
	}
	done := make(chan error, 1)
	go func() { done <- s.Append(ctx, message.Message{Time: base, Topic: "wait", Payload: make([]byte, 20)}) }()
	select {
	case err := <-done:
		t.Fatalf("Append returned %v with a full queue and a stalled writer", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatalf("Append after the writer resumed: %v", err)
	}
	flush(t, s)
	if st := stats(t, s); st.Records != int64(n+1) || st.Dropped != 0 {
		t.Fatalf("stats %+v, want %d records and nothing dropped", st, n+1)
	}
}

func TestClearDeletesQueuedRecordsToo(t *testing.T) {
	gate := make(chan struct{})
	s := openAt(t, t.TempDir(), Options{writerGate: gate})
	for range 5 {
		ingest(t, s, message.Message{Time: base, Topic: "q"})
	}
	close(gate)
	n, err := s.Clear(context.Background())
	if err != nil || n != 5 {
		t.Fatalf("Clear = %d, %v; want 5", n, err)
	}
	flush(t, s)
	if st := stats(t, s); st.Records != 0 || st.Bytes != 0 {
		t.Fatalf("after Clear: %+v", st)
	}
	ingest(t, s, message.Message{Time: base, Topic: "after"})
	flush(t, s)
	recs, _ := query(t, s, Query{Since: base.Add(-time.Second)})
	if len(recs) != 1 || recs[0].Seq != 6 {
		t.Fatalf("after Clear, a new record: %+v, want seq 6 found by time", recs)
	}
}

func TestDroppedTotalSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	gate := make(chan struct{})
	s := openAt(t, dir, Options{QueueBytes: 100, writerGate: gate})
	for range 50 {
		s.Ingest(message.Message{Time: base, Topic: "d", Payload: make([]byte, 10)})
	}
	dropped := s.Dropped()
	if dropped == 0 {
		t.Fatal("nothing dropped with a 100-byte queue and a stalled writer")
	}
	close(gate)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir, Options{})
	if st := stats(t, s); st.Dropped != 0 || st.DroppedTotal != dropped {
		t.Fatalf("after reopen: Dropped %d, DroppedTotal %d; want 0 and %d", st.Dropped, st.DroppedTotal, dropped)
	}
	if _, err := s.Clear(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := stats(t, s); st.DroppedTotal != 0 {
		t.Fatalf("DroppedTotal after Clear = %d, want 0", st.DroppedTotal)
	}
}

// Retention limits stay with the data: a later Open without limits (the
// CLI) keeps what the app set, instead of applying the defaults.
func TestRetentionLimitsAreSavedWithTheStore(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-30 * 24 * time.Hour)
	s := openAt(t, dir, Options{MaxAge: 60 * 24 * time.Hour})
	ingest(t, s, message.Message{Time: old, Topic: "kept"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir, Options{})
	flush(t, s)
	st := stats(t, s)
	if st.Records != 1 || st.MaxAge != 60*24*time.Hour || st.MaxBytes != DefaultMaxBytes {
		t.Fatalf("reopened without limits: %+v; want the saved 60 days and the record kept", st)
	}
	s.SetRetention(-1, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir, Options{})
	if st := stats(t, s); st.MaxBytes != -1 || st.MaxAge != 60*24*time.Hour {
		t.Fatalf("after SetRetention(-1, 0) and reopen: %d, %v; want unlimited size, 60 days", st.MaxBytes, st.MaxAge)
	}
}
