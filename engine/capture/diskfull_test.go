package capture

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/smalldisk"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// On a full disk the capture stops writing instead of crashing: Ingest
// drops and counts, Stats says the disk is full, Flush and Append say why,
// and writing resumes by itself once space is freed. The store then opens
// again on the nearly full disk.
func TestFullDiskStopsWritingAndResumes(t *testing.T) {
	mnt := smalldisk.Mount(t, 16<<20)
	dir := filepath.Join(mnt, "capture")
	spare := filepath.Join(mnt, "spare")
	if err := os.WriteFile(spare, make([]byte, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx := context.Background()
	payload := make([]byte, 100<<10)
	_, _ = rand.Read(payload)
	ingest := func(topic string, n int) {
		for range n {
			s.Ingest(message.Message{Topic: topic, Payload: payload, QoS: 1})
		}
	}
	stats := func() Stats {
		t.Helper()
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	var flushErr error
	for i := 0; !stats().DiskFull; i++ {
		if i == 300 { // 30 MB
			t.Fatalf("30 MB ingested on a 16 MB disk and the capture is not full: %+v", stats())
		}
		ingest("fill", 10)
		if err := s.Flush(ctx); err != nil {
			flushErr = err
		}
	}
	if !errors.Is(flushErr, ErrNoSpace) {
		t.Errorf("Flush while the disk filled returned %v; want ErrNoSpace", flushErr)
	}
	full := stats()
	ingest("fill", 10)
	if err := s.Flush(ctx); !errors.Is(err, ErrNoSpace) {
		t.Errorf("Flush while full: %v; want ErrNoSpace (records wait for space)", err)
	}
	st := stats()
	if !st.DiskFull || st.Dropped < full.Dropped+10 || st.Records != full.Records || st.DiskFree <= 0 || st.DiskNeeded <= 0 {
		t.Errorf("while full: %+v (when it filled: %+v)", st, full)
	}
	if err := s.Append(ctx, message.Message{Topic: "import", Payload: payload}); !errors.Is(err, ErrNoSpace) {
		t.Errorf("Append on a full disk: %v; want ErrNoSpace", err)
	}

	if err := os.Remove(spare); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyErr(t, "the capture to go on once 4 MB are freed", func() error {
		if st := stats(); st.DiskFull {
			return fmt.Errorf("it is still stopped: %+v", st)
		}
		return nil
	})
	ingest("after", 1)
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush after space was freed: %v", err)
	}
	recs, _, err := s.Query(ctx, Query{Filter: "after"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("the record ingested after space was freed: %d, %v", len(recs), err)
	}
	records := stats().Records
	if n := countRecords(t, s); n != records {
		t.Errorf("stats count %d records, queries find %d: the full disk left a gap in the seqs", records, n)
	}

	ingest("fill", 100) // full again
	if err := s.Close(); err != nil && !errors.Is(err, ErrNoSpace) {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen on the full disk: %v", err)
	}
	if st := stats(); st.Records < records || countRecords(t, s) != st.Records {
		t.Errorf("after reopening: %d records, %d found; had %d", st.Records, countRecords(t, s), records)
	}
}

// countRecords counts the records queries find, page by page.
func countRecords(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	for q := (Query{Limit: 100}); ; {
		recs, next, err := s.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		n += int64(len(recs))
		if next == "" {
			return n
		}
		q.Cursor = next
	}
}
