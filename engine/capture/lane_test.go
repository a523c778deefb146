package capture

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A goroutine's records keep the order of its calls even when it moves
// between lanes while the writer drains them, and even when their receive
// times say otherwise.
func TestCallOrderSurvivesLaneSwitches(t *testing.T) {
	s := openAt(t, t.TempDir(), Options{lanes: 3, MaxAge: -1, MaxBytes: -1})
	const n = 30_000
	for i := range n {
		// Receive times run backwards: the order must come from the calls.
		r := message.Message{Time: base.Add(-time.Duration(i) * time.Microsecond), Topic: "order", Payload: binary.BigEndian.AppendUint32(nil, uint32(i))}
		for {
			res := s.putLane(s.lanes[i%3], &r)
			if res == putOK {
				break
			}
			if res != putFull {
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
				r := message.Message{Topic: "pub", Payload: binary.BigEndian.AppendUint32([]byte{byte(p)}, uint32(i))}
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

// One busy publisher may fill the whole queue, not just its processor's
// share of it, and all the lanes together stay within it.
func TestLanesShareTheQueue(t *testing.T) {
	gate := make(chan struct{})
	const size, room = 22, 400
	s := openAt(t, t.TempDir(), Options{lanes: 8, QueueBytes: room * size, writerGate: gate})
	put := func(l *lane) bool {
		return s.putLane(l, &message.Message{Time: base, Topic: "q", Payload: []byte{1}}) == putOK
	}
	busy := 0
	for put(s.lanes[0]) {
		busy++
	}
	if busy < room-8*s.quantum/size || busy > room {
		t.Fatalf("one lane took %d records of a queue with room for %d", busy, room)
	}
	others := 0
	for i := 1; i < len(s.lanes); i++ {
		for put(s.lanes[i]) {
			others++
		}
	}
	// The shared count may miss less than a step per lane.
	if total := busy + others; total*size > room*size+len(s.lanes)*s.quantum {
		t.Fatalf("the lanes took %d records together; the queue has room for %d", total, room)
	}
	close(gate)
	flush(t, s)
	if !put(s.lanes[3]) {
		t.Fatal("the queue is still full after the writer drained it")
	}
}

// A burst's large buffer is kept while drains keep using it, and dropped
// after two seconds of drains that use little of it.
func TestLaneRunDropsABurstsBufferWhenIdle(t *testing.T) {
	big := make([]byte, 4<<20)
	cases := []struct {
		name    string
		used    int // bytes of buf in use at each reset
		resets  int
		dropped bool
	}{
		{"busy", 1 << 20, 100, false},
		{"idle, not yet long", 1000, laneShrinkDrains - 1, false},
		{"idle long enough", 1000, laneShrinkDrains, true},
		{"empty long enough", 0, laneShrinkDrains, true},
	}
	for _, c := range cases {
		r := laneRun{buf: big[:0]}
		for range c.resets {
			r.buf = r.buf[:c.used]
			r.reset()
		}
		if dropped := cap(r.buf) == 0; dropped != c.dropped {
			t.Errorf("%s: buffer dropped = %v, want %v", c.name, dropped, c.dropped)
		}
	}
	// A lane and its run swap buffers at each drain: the big one is in
	// the run every second drain, the other one empty.
	swapped := laneRun{buf: big[:0]}
	var lane []byte
	for range 2 * laneShrinkDrains {
		swapped.reset()
		swapped.buf, lane = lane, swapped.buf
	}
	if cap(swapped.buf) != 0 || cap(lane) != 0 {
		t.Error("a burst's buffer swapped with an empty one was never dropped")
	}
	small := laneRun{buf: make([]byte, 0, laneKeepBytes)}
	for range 2 * laneShrinkDrains {
		small.reset()
	}
	if cap(small.buf) != laneKeepBytes {
		t.Error("a small buffer was dropped; it should be kept to refill")
	}
}

// An import waiting for room that live traffic took goes on once the
// writer drains the live lanes, though its own lane was empty.
func TestAppendWaitsOutLiveTraffic(t *testing.T) {
	gate := make(chan struct{})
	const size, room = 22, 50
	s := openAt(t, t.TempDir(), Options{lanes: 2, QueueBytes: room * size, writerGate: gate})
	for {
		if s.putLane(s.lanes[0], &message.Message{Time: base, Topic: "q", Payload: []byte{1}}) != putOK {
			break
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.Append(t.Context(), message.Message{Time: base, Topic: "q", Payload: []byte{2}}) }()
	select {
	case err := <-done:
		t.Fatalf("Append returned %v while live records filled the queue", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Append still waiting after the writer drained the live lanes")
	}
}
