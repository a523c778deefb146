package capture

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// liveHeapMB is the heap that survives a full collection.
func liveHeapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// A burst's lane buffers are given back once the capture is idle: what a
// store holds a few seconds after a burst of 300,000 records (90 MB
// encoded) over 30,000 topics is its per-topic bookkeeping, not the
// burst. Before, each lane kept one buffer as large as its share of the
// burst for good (the shrink counter was reset by the empty buffer it
// swapped with), about 40 MB here.
func TestBurstMemoryIsGivenBackWhenIdle(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 300,000 records")
	}
	s := openAt(t, t.TempDir(), Options{lanes: 2, MaxAge: -1, MaxBytes: -1})
	before := liveHeapMB()
	const n, topics = 300_000, 30_000
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("site/%d/device/%d/t%d", i/1000, (i/4)%250, i%4)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	payload := make([]byte, 300)
	stored := 0
	for i := range n {
		topic := names[i%topics]
		if i >= topics {
			topic = names[rng.IntN(topics)]
		}
		// Two publishers' worth of lanes, each filled as far as the queue
		// lets it: the writer drains them as a busy broker's would be.
		if s.putLane(s.lanes[i%2], &message.Message{Topic: topic, Payload: payload[:50+rng.IntN(251)]}) == putOK {
			stored++
		}
	}
	flush(t, s)
	if stored < n/10 {
		t.Fatalf("only %d of %d records were queued; the test needs a burst", stored, n)
	}
	// Per topic, the writer keeps a few words in maps (h| entries written,
	// t| entries of the open segment): under 100 bytes. The rest was
	// the burst's.
	const bound = 10.0
	deadline := time.Now().Add(4*laneShrinkDrains*blockMaxAge/2 + 5*time.Second)
	held := liveHeapMB() - before
	for held > bound && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		held = liveHeapMB() - before
	}
	t.Logf("%.1f MB held after a burst of %d records", held, stored)
	if held > bound {
		t.Errorf("the store still holds %.1f MB of live heap %v after a burst of %d records; want under %.0f MB", held, 4*laneShrinkDrains*blockMaxAge/2+5*time.Second, stored, bound)
	}
}

// An open store's own heap is mostly Badger's memtable arena (about 1.3 ×
// its size, allocated whole at open and again at every flush): after a
// burst it is resident in the window, which must stay under 300 MB with
// 100,000 topics. The LSM tree holds only keys and block pointers, so a
// small memtable fills slowly anyway. 11.2 MB with 8 MiB memtables, 6.0
// with 4 MiB.
func TestOpenStoreHeapIsSmall(t *testing.T) {
	before := liveHeapMB()
	s := openAt(t, t.TempDir(), Options{})
	held := liveHeapMB() - before
	runtime.KeepAlive(s)
	t.Logf("%.1f MB held by an open, empty store", held)
	if bound := 8.0; held > bound {
		t.Fatalf("an open, empty store holds %.1f MB of heap, over %.0f", held, bound)
	}
}

// Retention looks at the oldest segment at every retainEvery and, nearly
// always, keeps it: that look must not collect the segment's keys (a t|
// entry per topic), which only deleting it needs. It did, and an idle
// window with 100,000 topics allocated ~17 MB every 10 s for it, garbage
// that grew its heap between collections.
func TestRetentionCheckThatKeepsAllocatesLittle(t *testing.T) {
	const topics = 20_000
	s := openAt(t, t.TempDir(), Options{blockBytes: 64 << 10, segmentBlocks: 4, MaxBytes: 1 << 40, MaxAge: 24 * time.Hour})
	payload := make([]byte, 20)
	for i := range 4 * topics {
		ingest(t, s, message.Message{Topic: fmt.Sprintf("plant/%d/sensor/%d", i%topics/100, i%topics), Payload: payload})
	}
	flush(t, s)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	flush(t, s) // applies retention: nothing is due
	runtime.ReadMemStats(&after)
	if st := stats(t, s); st.Records != 4*topics {
		t.Fatalf("%d records kept, want %d", st.Records, 4*topics)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("a retention check that keeps everything allocated %d KB", allocated>>10)
	if allocated > 256<<10 {
		t.Fatalf("a retention check that keeps everything allocated %d KB, want at most 256", allocated>>10)
	}
}
