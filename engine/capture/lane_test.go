package capture

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"
)

// A goroutine's records keep the order of its calls even when it moves
// between lanes while the writer drains them, and even when their receive
// times say otherwise.
func TestCallOrderSurvivesLaneSwitches(t *testing.T) {
	s := openAt(t, t.TempDir(), Options{lanes: 3, MaxAge: -1, MaxBytes: -1})
	const n = 30_000
	for i := range n {
		// Receive times run backwards: the order must come from the calls.
		r := Record{Time: base.Add(-time.Duration(i) * time.Microsecond), Topic: "order", Payload: binary.BigEndian.AppendUint32(nil, uint32(i))}
		for {
			ok, full := s.putLane(s.lanes[i%3], &r, s.laneBudget)
			if ok {
				break
			}
			if !full {
				t.Fatal("record refused")
			}
			time.Sleep(time.Millisecond)
		}
	}
	flush(t, s)
	recs, _ := query(t, s, Query{Limit: n})
	if len(recs) != n {
		t.Fatalf("%d records stored, want %d", len(recs), n)
	}
	for i, r := range recs {
		if got := binary.BigEndian.Uint32(r.Payload); got != uint32(i) || r.Seq != uint64(i+1) {
			t.Fatalf("seq %d holds call %d, want call %d", r.Seq, got, i)
		}
	}
}

// Publishers ingesting at once lose nothing, and each one's records stay
// in its order.
func TestConcurrentIngestKeepsEveryRecord(t *testing.T) {
	s := openAt(t, t.TempDir(), Options{MaxAge: -1, MaxBytes: -1})
	const publishers, each = 4, 5000
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := Record{Topic: "pub", Payload: binary.BigEndian.AppendUint32([]byte{byte(p)}, uint32(i))}
				for !s.Ingest(r) {
					time.Sleep(time.Millisecond) // the queue was full: a drop is counted, try again
				}
			}
		}()
	}
	wg.Wait()
	flush(t, s)
	recs, _ := query(t, s, Query{Limit: 2 * publishers * each})
	next := make([]uint32, publishers)
	for _, r := range recs {
		p, i := r.Payload[0], binary.BigEndian.Uint32(r.Payload[1:])
		if i != next[p] {
			t.Fatalf("publisher %d: record %d stored after record %d", p, i, next[p]-1)
		}
		next[p]++
	}
	for p, got := range next {
		if got != each {
			t.Errorf("publisher %d: %d records stored, want %d", p, got, each)
		}
	}
	if st := stats(t, s); st.Ingested != publishers*each || st.Records != publishers*each {
		t.Errorf("stats: %d ingested, %d records; want %d", st.Ingested, st.Records, publishers*each)
	}
}
