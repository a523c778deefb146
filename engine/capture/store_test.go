package capture

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// base is the receive time of the first test record: recent, so that the
// default retention (7 days) keeps test records.
var base = time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)

func openAt(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openTemp(t testing.TB) *Store { return openAt(t, t.TempDir(), Options{}) }

func flush(t testing.TB, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func ingest(t testing.TB, s *Store, r message.Message) {
	t.Helper()
	if !s.Ingest(r) {
		t.Fatalf("Ingest(%q) refused", r.Topic)
	}
}

func query(t testing.TB, s *Store, q Query) ([]message.Message, string) {
	t.Helper()
	recs, next, err := s.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("Query(%+v): %v", q, err)
	}
	return recs, next
}

func TestRoundTripEveryField(t *testing.T) {
	s := openAt(t, t.TempDir(), Options{MaxAge: -1}) // fullRecord is from 2025
	want := fullRecord()
	ingest(t, s, want)
	flush(t, s)
	recs, next := query(t, s, Query{})
	if len(recs) != 1 || next != "" {
		t.Fatalf("got %d records, next %q; want 1, \"\"", len(recs), next)
	}
	want.Seq = 1
	if !equalRecords(recs[0], want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", recs[0], want)
	}
	if *recs[0].PayloadFormat != 1 || *recs[0].MessageExpiry != 3600 {
		t.Fatalf("MQTT 5 pointers: %v %v", *recs[0].PayloadFormat, *recs[0].MessageExpiry)
	}
}

func TestLargePayloadKeptWhole(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{})
	payload := make([]byte, 1<<20)
	if _, err := rand.Read(payload); err != nil {
		t.Fatal(err)
	}
	payload[0], payload[len(payload)-1] = 0, 0
	want := append([]byte(nil), payload...)
	ingest(t, s, message.Message{Time: base, Topic: "big", Payload: payload})
	ingest(t, s, message.Message{Time: base, Topic: "small", Payload: []byte("x")})
	flush(t, s)
	check := func(s *Store) {
		t.Helper()
		recs, _ := query(t, s, Query{Filter: "big"})
		if len(recs) != 1 || !bytes.Equal(recs[0].Payload, want) {
			t.Fatalf("got %d records; payload len %d, want %d bytes intact", len(recs), len(recs[0].Payload), len(want))
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openAt(t, dir, Options{})) // read back from disk, not the memtable
}

// fixture is a store holding a known set of records, one per 250 ms.
type fixture struct {
	s    *Store
	recs []message.Message // as ingested, Seq filled in
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{s: openTemp(t)}
	topics := []string{
		"home/kitchen/temp", "home/kitchen/hum", "home/garage/temp",
		"home/garage", "office/temp", "$SYS/broker/uptime", "home/kitchen/temp/raw",
	}
	for i := 0; i < 70; i++ {
		r := message.Message{
			Time:     base.Add(time.Duration(i) * 250 * time.Millisecond),
			Source:   "broker",
			ClientID: fmt.Sprintf("c%d", i%3),
			Protocol: 4,
			Topic:    topics[i%len(topics)],
			Payload:  []byte(fmt.Sprintf(`{"n":%d,"alarm":%v}`, i, i%10 == 0)),
		}
		ingest(t, f.s, r)
		r.Seq = uint64(i + 1)
		f.recs = append(f.recs, r)
	}
	flush(t, f.s)
	return f
}

// want returns the fixture's seqs for which keep is true, in order.
func (f *fixture) want(newest bool, keep func(message.Message) bool) []uint64 {
	var out []uint64
	for _, r := range f.recs {
		if keep(r) {
			out = append(out, r.Seq)
		}
	}
	if newest {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func seqs(recs []message.Message) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func TestQuery(t *testing.T) {
	f := newFixture(t)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	cases := []struct {
		name string
		q    Query
		keep func(message.Message) bool
	}{
		{"all", Query{}, func(message.Message) bool { return true }},
		{"exact topic", Query{Filter: "home/kitchen/temp"}, func(r message.Message) bool { return r.Topic == "home/kitchen/temp" }},
		{"exact topic, newest", Query{Filter: "home/garage", Newest: true}, func(r message.Message) bool { return r.Topic == "home/garage" }},
		{"exact topic without records", Query{Filter: "nope"}, func(message.Message) bool { return false }},
		{"plus", Query{Filter: "home/+/temp"}, func(r message.Message) bool { return r.Topic == "home/kitchen/temp" || r.Topic == "home/garage/temp" }},
		{"plus first level", Query{Filter: "+/temp"}, func(r message.Message) bool { return r.Topic == "office/temp" }},
		{"hash", Query{Filter: "home/kitchen/#"}, func(r message.Message) bool { return strings.HasPrefix(r.Topic, "home/kitchen/") }},
		{"hash includes parent", Query{Filter: "home/garage/#"}, func(r message.Message) bool { return strings.HasPrefix(r.Topic, "home/garage") }},
		{"hash excludes $SYS", Query{Filter: "#"}, func(r message.Message) bool { return !strings.HasPrefix(r.Topic, "$") }},
		{"$SYS", Query{Filter: "$SYS/#"}, func(r message.Message) bool { return strings.HasPrefix(r.Topic, "$SYS") }},
		{"since", Query{Since: at(5000)}, func(r message.Message) bool { return !r.Time.Before(at(5000)) }},
		{"since mid-second", Query{Since: at(5100)}, func(r message.Message) bool { return !r.Time.Before(at(5100)) }},
		{"until", Query{Until: at(3000)}, func(r message.Message) bool { return r.Time.Before(at(3000)) }},
		{"range", Query{Since: at(2250), Until: at(7750)}, func(r message.Message) bool { return !r.Time.Before(at(2250)) && r.Time.Before(at(7750)) }},
		{"range, newest", Query{Since: at(2250), Until: at(7750), Newest: true}, func(r message.Message) bool { return !r.Time.Before(at(2250)) && r.Time.Before(at(7750)) }},
		{"range and topic", Query{Filter: "office/temp", Since: at(4000), Until: at(12000)}, func(r message.Message) bool {
			return r.Topic == "office/temp" && !r.Time.Before(at(4000)) && r.Time.Before(at(12000))
		}},
		{"since after last", Query{Since: at(60000)}, func(message.Message) bool { return false }},
		{"until before first", Query{Until: at(-1)}, func(message.Message) bool { return false }},
		{"contains", Query{Contains: `"alarm":true`}, func(r message.Message) bool { return bytes.Contains(r.Payload, []byte(`"alarm":true`)) }},
		{"contains and wildcard", Query{Filter: "home/#", Contains: `"n":1`}, func(r message.Message) bool {
			return strings.HasPrefix(r.Topic, "home/") && bytes.Contains(r.Payload, []byte(`"n":1`))
		}},
		{"contains nothing", Query{Contains: "zzz"}, func(message.Message) bool { return false }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := f.want(c.q.Newest, c.keep)
			recs, next := query(t, f.s, c.q)
			if got := seqs(recs); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("seqs\n got %v\nwant %v", got, want)
			}
			if next != "" {
				t.Fatalf("next = %q, want \"\" (all results fit)", next)
			}
			for _, r := range recs {
				if !equalRecords(r, f.recs[r.Seq-1]) {
					t.Fatalf("record %d:\n got %+v\nwant %+v", r.Seq, r, f.recs[r.Seq-1])
				}
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	f := newFixture(t)
	_, next := query(t, f.s, Query{Limit: 5})
	if next == "" {
		t.Fatal("no cursor after a partial page")
	}
	cases := []struct {
		name string
		q    Query
		want string
	}{
		{"bad filter", Query{Filter: "a/#/b"}, `'#' must be the last level`},
		{"bad cursor", Query{Cursor: "!!"}, "invalid cursor"},
		{"cursor of other order", Query{Cursor: next, Newest: true}, "other order"},
	}
	for _, c := range cases {
		_, _, err := f.s.Query(context.Background(), c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A cancelled context stops a scan at its first check.
	big := openTemp(t)
	for i := 0; i < 2*ctxCheckEvery; i++ {
		ingest(t, big, message.Message{Time: base, Topic: "t"})
	}
	flush(t, big)
	if _, _, err := big.Query(ctx, Query{Filter: "#"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled query: err = %v, want context.Canceled", err)
	}
}

func TestPaging(t *testing.T) {
	s := openTemp(t)
	const n = 2500
	for i := 0; i < n; i++ {
		topic := "p/even"
		if i%2 == 1 {
			topic = "p/odd"
		}
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Millisecond), Topic: topic, Payload: []byte(fmt.Sprint(i))})
	}
	flush(t, s)
	cases := []struct {
		name   string
		q      Query
		expect []uint64 // seqs in order
	}{
		{"all oldest-first", Query{}, seqRange(1, n, 1)},
		{"all newest-first", Query{Newest: true}, seqRange(n, 1, 1)},
		{"wildcard newest-first", Query{Filter: "p/+", Newest: true}, seqRange(n, 1, 1)},
		{"topic index oldest-first", Query{Filter: "p/even"}, seqRange(1, n, 2)},
		{"topic index newest-first", Query{Filter: "p/odd", Newest: true}, seqRange(n, 2, 2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := c.q
			q.Limit = 1000
			var got []uint64
			pages := 0
			for {
				recs, next := query(t, s, q)
				pages++
				if len(recs) == 0 {
					t.Fatalf("page %d is empty", pages)
				}
				got = append(got, seqs(recs)...)
				if next == "" {
					break
				}
				if len(recs) != q.Limit {
					t.Fatalf("page %d has %d records but a next cursor", pages, len(recs))
				}
				q.Cursor = next
				if pages > 10 {
					t.Fatal("paging does not end")
				}
			}
			if wantPages := (len(c.expect) + 999) / 1000; pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.expect) {
				t.Fatalf("paged seqs (%d) differ from expected (%d)", len(got), len(c.expect))
			}
		})
	}
}

// seqRange returns from, from±step, ... through to (inclusive).
func seqRange(from, to uint64, step uint64) []uint64 {
	var out []uint64
	if from <= to {
		for s := from; s <= to; s += step {
			out = append(out, s)
		}
	} else {
		for s := from; s >= to && s <= from; s -= step {
			out = append(out, s)
		}
	}
	return out
}

func TestReopenKeepsRecordsAndContinuesSeq(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: "a", Payload: []byte{byte(i)}})
	}
	if err := s.Close(); err != nil { // Close alone must write everything
		t.Fatal(err)
	}
	s = openAt(t, dir, Options{})
	for i := 10; i < 15; i++ {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: "a", Payload: []byte{byte(i)}})
	}
	flush(t, s)
	recs, _ := query(t, s, Query{Filter: "a"})
	if len(recs) != 15 {
		t.Fatalf("%d records after reopen, want 15", len(recs))
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Payload[0] != byte(i) {
			t.Fatalf("record %d: seq %d payload %v", i, r.Seq, r.Payload)
		}
	}
	// The time index continues too.
	recs, _ = query(t, s, Query{Since: base.Add(9 * time.Second), Until: base.Add(11 * time.Second)})
	if fmt.Sprint(seqs(recs)) != "[10 11]" {
		t.Fatalf("time range across reopen: %v", seqs(recs))
	}
}

func TestFullQueueDropsAndNeverBlocks(t *testing.T) {
	gate := make(chan struct{})
	// Room for 8 records of 22 bytes, whichever lanes they go to.
	const size, room = 22, 8
	s := openAt(t, t.TempDir(), Options{QueueBytes: room * size, writerGate: gate})
	start := time.Now()
	accepted := 0
	for i := 0; i < 1000; i++ {
		if s.Ingest(message.Message{Time: base, Topic: "q", Payload: []byte{byte(i)}}) {
			accepted++
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("1000 Ingest calls took %v with a stalled writer", d)
	}
	if accepted != room || s.Dropped() != 1000-room {
		t.Fatalf("accepted %d, dropped %d; want %d and %d", accepted, s.Dropped(), room, 1000-room)
	}
	close(gate)
	flush(t, s)
	recs, _ := query(t, s, Query{})
	if len(recs) != accepted {
		t.Fatalf("%d records stored, want the %d accepted", len(recs), accepted)
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if n := int64(accepted); st.Dropped != 1000-n || st.Ingested != n || st.Records != n || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStats(t *testing.T) {
	s := openTemp(t)
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 0 || !st.Oldest.IsZero() || !st.Newest.IsZero() {
		t.Fatalf("empty store stats %+v", st)
	}
	for i := 0; i < 100; i++ {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: "s", Payload: make([]byte, 1000)})
	}
	flush(t, s)
	st, err = s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 100 || st.Ingested != 100 || !st.Oldest.Equal(base) || !st.Newest.Equal(base.Add(99*time.Second)) {
		t.Fatalf("stats %+v", st)
	}
	if st.DiskBytes <= 0 {
		t.Fatalf("DiskBytes = %d after writing 100 KB", st.DiskBytes)
	}
}

func TestTopicHashCollisionIsFiltered(t *testing.T) {
	s := openTemp(t)
	ingest(t, s, message.Message{Time: base, Topic: "intruder", Payload: []byte("wrong")})
	ingest(t, s, message.Message{Time: base, Topic: "victim", Payload: []byte("right")})
	flush(t, s)
	// Pretend "intruder" hashes like "victim": rewrite block 1 with both
	// records filed under victim's hash, and index a block that does not
	// exist.
	var b building
	b.reset(1)
	for _, r := range []message.Message{{Time: base, Topic: "intruder", Payload: []byte("wrong")}, {Time: base, Topic: "victim", Payload: []byte("right")}} {
		b.add(appendRecord(nil, &r), topicHash("victim"), unixNano(r.Time))
	}
	b.finish(make(map[uint64][]uint32), nil)
	err := s.db.Update(func(txn *badgerdb.Txn) error {
		if err := txn.Set(blockKey(1), b.buf); err != nil {
			return err
		}
		return txn.Set(topicKey(topicHash("victim"), 99), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, newest := range []bool{false, true} {
		recs, _ := query(t, s, Query{Filter: "victim", Newest: newest})
		if len(recs) != 1 || recs[0].Topic != "victim" || string(recs[0].Payload) != "right" {
			t.Fatalf("newest=%v: got %+v, want only the victim's record", newest, recs)
		}
	}
}

func TestCorruptRecordIsSkipped(t *testing.T) {
	s := openTemp(t)
	for i := 0; i < 3; i++ {
		ingest(t, s, message.Message{Time: base, Topic: "c", Payload: []byte{byte(i)}})
	}
	flush(t, s)
	// Damage the second record of the one block: an unknown codec version.
	damageBlock(t, s, 1, func(block []byte) {
		b, err := parseBlock(block)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := b.record(1)
		if err != nil {
			t.Fatal(err)
		}
		rec[0] = 99
	})
	for _, q := range []Query{{}, {Filter: "c"}} {
		recs, _ := query(t, s, q)
		if fmt.Sprint(seqs(recs)) != "[1 3]" {
			t.Fatalf("%+v: seqs %v, want [1 3]", q, seqs(recs))
		}
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, s, message.Message{Topic: "x"})
	done := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() { done <- s.Close() }()
	}
	for i := 0; i < 3; i++ {
		if err := <-done; err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if s.Ingest(message.Message{Topic: "late"}) {
		t.Error("Ingest after Close accepted a record")
	}
	if s.Dropped() != 0 {
		t.Errorf("Ingest after Close counted a drop")
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
	if _, _, err := s.Query(context.Background(), Query{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Query after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Stats(); !errors.Is(err, ErrClosed) {
		t.Errorf("Stats after Close: %v, want ErrClosed", err)
	}
}

// ownGoroutines lists live goroutines running this package's or Badger's
// (and its cache's) code.
func ownGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "capture.(*Store)") || strings.Contains(g, "github.com/dgraph-io/") {
			out = append(out, g)
		}
	}
	return out
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	for i := 0; i < 5; i++ {
		s, err := Open(dir, Options{SyncEvery: 10 * time.Millisecond})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		for j := 0; j < 100; j++ {
			s.Ingest(message.Message{Topic: fmt.Sprintf("g/%d", j%7), Payload: []byte("p")})
		}
		if i%2 == 0 {
			flush(t, s)
			query(t, s, Query{Filter: "g/#", Newest: true})
		}
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", i, err)
		}
	}
	testkit.EventuallyErr(t, "the store's goroutines to end", func() error {
		if own := ownGoroutines(); runtime.NumGoroutine() > before || len(own) > 0 {
			return fmt.Errorf("goroutines: %d before, %d after; ours:\n%s", before, runtime.NumGoroutine(), strings.Join(own, "\n\n"))
		}
		return nil
	})
}

func TestOpenSameDirTwice(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir, Options{})
	s2, err := Open(dir, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("second Open of the same dir succeeded")
	}
	t.Logf("Open: %v", err)
	if !errors.Is(err, ErrLocked) {
		t.Errorf("error does not wrap ErrLocked: %v", err)
	}
	if !strings.Contains(err.Error(), "another IoT Studio may be running with data dir "+dir) {
		t.Errorf("error does not name the dir %q: %v", dir, err)
	}
}

func TestOpenCorruptManifestKeepsFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, s, message.Message{Topic: "a", Payload: []byte("b")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "MANIFEST")
	garbage := []byte("this is not a badger manifest at all")
	if err := os.WriteFile(manifest, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(dir)

	s2, err := Open(dir, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("Open of a corrupt dir succeeded")
	}
	t.Logf("Open: %v", err)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("error = %v, want ErrCorrupt naming %s", err, dir)
	}
	after, _ := os.ReadDir(dir)
	if len(after) < len(before) {
		t.Fatalf("files deleted: before %d, after %d", len(before), len(after))
	}
	if b, _ := os.ReadFile(manifest); !bytes.Equal(b, garbage) {
		t.Fatal("MANIFEST was modified")
	}
}

func TestOpenOnAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(f, Options{}); err == nil || !strings.Contains(err.Error(), f) {
		t.Fatalf("Open on a file: %v, want an error naming %s", err, f)
	}
}

func TestFlushHonoursContext(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	s := openAt(t, t.TempDir(), Options{writerGate: gate})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush with a stalled writer: %v, want DeadlineExceeded", err)
	}
}

func TestWrittenWithoutFlush(t *testing.T) {
	s := openTemp(t)
	ingest(t, s, message.Message{Time: base, Topic: "lonely"})
	// One record never fills a block: sealing by age must write it.
	testkit.Within(t, 5*time.Second, "the record to be written without Flush", func() bool {
		recs, _ := query(t, s, Query{})
		return len(recs) == 1
	})
}

func TestSmallBlocks(t *testing.T) {
	s := openAt(t, t.TempDir(), Options{blockBytes: 100, QueueBytes: 400})
	for i := 0; i < 200; i++ {
		for !s.Ingest(message.Message{Time: base.Add(time.Duration(i) * time.Millisecond), Topic: fmt.Sprintf("b/%d", i%5)}) {
			time.Sleep(time.Millisecond)
		}
	}
	flush(t, s)
	recs, _ := query(t, s, Query{Filter: "b/3", Limit: 1000})
	if len(recs) != 40 {
		t.Fatalf("%d records on b/3, want 40", len(recs))
	}
	if st, _ := s.Stats(); st.Records != 200 {
		t.Fatalf("Records = %d, want 200", st.Records)
	}
}

func TestTimeRangeToleratesSlightlyLateRecords(t *testing.T) {
	s := openTemp(t)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	// Ingest order is not receive-time order: seq 3 was received before seq 2.
	for _, ms := range []int{1900, 3000, 1950, 4500} {
		ingest(t, s, message.Message{Time: at(ms), Topic: "late"})
	}
	flush(t, s)
	cases := []struct {
		q    Query
		want string
	}{
		{Query{Until: at(2000)}, "[1 3]"},
		{Query{Until: at(2000), Newest: true}, "[3 1]"},
		{Query{Since: at(1920)}, "[2 3 4]"},
		{Query{Since: at(1920), Until: at(3500)}, "[2 3]"},
		{Query{Since: at(2000)}, "[2 4]"},
		{Query{Filter: "late", Since: at(1000), Until: at(1960)}, "[1 3]"},
	}
	for _, c := range cases {
		recs, _ := query(t, s, c.q)
		if got := fmt.Sprint(seqs(recs)); got != c.want {
			t.Errorf("%+v: seqs %s, want %s", c.q, got, c.want)
		}
	}
}

func TestPauseClearAppend(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	s.SetPaused(true)
	if s.Ingest(message.Message{Topic: "a", Payload: []byte("x")}) {
		t.Fatal("Ingest while paused reported success")
	}
	s.SetPaused(false)
	for i := range 3 {
		if err := s.Append(ctx, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, s)
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 3 || st.Dropped != 0 || !st.Oldest.Equal(base) {
		t.Fatalf("stats after pause and 3 appends = %+v; want 3 records from %v, none dropped", st, base)
	}
	n, err := s.Clear(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Clear = %d, %v; want 3, nil", n, err)
	}
	if recs, _ := query(t, s, Query{}); len(recs) != 0 {
		t.Fatalf("after Clear, query found %d records", len(recs))
	}
	ingest(t, s, message.Message{Topic: "b"})
	flush(t, s)
	if recs, _ := query(t, s, Query{}); len(recs) != 1 || recs[0].Topic != "b" {
		t.Fatalf("after Clear and one ingest, query = %+v", recs)
	}
}

// damageBlock applies change to the bytes of block first in its block file.
func damageBlock(t *testing.T, s *Store, first uint64, change func(block []byte)) {
	t.Helper()
	var p blockPtr
	if err := s.db.View(func(txn *badgerdb.Txn) error {
		item, err := txn.Get(blockKey(first))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		var ok bool
		if p, ok = decodeBlockPtr(v); !ok {
			return fmt.Errorf("block %d is not in a block file", first)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, blocksDir, blockFileName(p.file)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, p.n)
	if _, err := f.ReadAt(b, p.off); err != nil {
		t.Fatal(err)
	}
	change(b)
	if _, err := f.WriteAt(b, p.off); err != nil {
		t.Fatal(err)
	}
}
