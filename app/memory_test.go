package app

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestHeapReleaserReleasesOncePerSettledBurst(t *testing.T) {
	const mb = 1 << 20
	type step struct {
		allocs  uint64 // MB allocated since start
		release bool
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"idle window", []step{{2, false}, {4, false}, {6, false}, {8, false}, {10, false}}},
		{"burst, then settled", []step{{500, false}, {900, false}, {901, false}, {902, false}, {903, true}, {904, false}, {905, false}}},
		{"a pause in a burst", []step{{500, false}, {501, false}, {502, false}, {900, false}, {901, false}, {902, false}, {903, true}}},
		{"traffic still flowing", []step{{500, false}, {1000, false}, {1500, false}, {2000, false}}},
		{"a small burst", []step{{40, false}, {41, false}, {42, false}, {43, false}, {44, false}}},
		{"two bursts", []step{{500, false}, {501, false}, {502, false}, {503, true}, {1000, false}, {1001, false}, {1002, false}, {1003, true}}},
	}
	for _, c := range cases {
		r := newHeapReleaser(heapSample{})
		for i, s := range c.steps {
			h := heapSample{allocs: s.allocs * mb}
			if got := r.observe(h); got != s.release {
				t.Errorf("%s, step %d: release = %v, want %v", c.name, i, got, s.release)
			}
			if s.release {
				r.released(h)
			}
		}
	}
}

// keptHeapMB is the heap the process holds from the OS.
func keptHeapMB() uint64 { return readHeap(newHeapSamples()).kept >> 20 }

// The heap a burst grew is given back once the burst has settled, though
// nothing else would collect it: the program allocates nothing more.
func TestBurstHeapIsGivenBackToTheOS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	tick := make(chan time.Time) // a send returns once the previous tick was handled
	go func() {
		defer close(done)
		releaseAfterBursts(ctx, slog.New(slog.DiscardHandler), tick)
	}()
	defer func() { cancel(); <-done }()
	tick <- time.Now()
	start := keptHeapMB()

	var held [][]byte
	for range 256 {
		held = append(held, make([]byte, 1<<20))
	}
	tick <- time.Now() // a busy period
	burst := keptHeapMB()
	held = nil
	_ = held
	for range quietPeriods + 1 { // settled, and the last tick handled
		tick <- time.Now()
	}
	if kept := keptHeapMB(); kept > start+64 {
		t.Fatalf("the heap was %d MB before a burst, %d MB during it and still %d MB after it settled", start, burst, kept)
	}
}

var sink []byte

// Once a burst has settled, the heap does not grow back by the live heap
// again while the window idles: garbage is collected sooner until the
// next busy period.
func TestSettledHeapStaysSmall(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: the window leaves it alone")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	tick := make(chan time.Time) // a send returns once the previous tick was handled
	go func() {
		defer close(done)
		releaseAfterBursts(ctx, slog.New(slog.DiscardHandler), tick)
	}()
	defer func() { cancel(); <-done }()
	tick <- time.Now()
	start := keptHeapMB()

	const liveMB = 100 // what the burst leaves, like the window's topic model
	var live [][]byte
	for range liveMB {
		live = append(live, make([]byte, 1<<20))
	}
	for range 200 {
		sink = make([]byte, 1<<20)
	}
	tick <- time.Now() // a busy period
	for range quietPeriods + 1 {
		tick <- time.Now()
	}
	settled := keptHeapMB()
	// The window's idle refresh: 128 MB of garbage over quiet periods.
	// A tick is handled while the next round runs, so a period may see
	// two rounds: each is well under quietAllocBytes.
	for range 32 {
		for range 4 * 16 {
			sink = make([]byte, 64<<10)
		}
		time.Sleep(10 * time.Millisecond) // let a collection finish, as at 1.5 MB/s
		tick <- time.Now()
	}
	kept := keptHeapMB()
	runtime.KeepAlive(live)
	// At most the idle GOGC's share of the live heap comes back, and some
	// room for what was not yet scavenged: 126-129 MB at 25 %, 111-116 MB at 10 %.
	if want := start + liveMB + 18; kept > want {
		t.Fatalf("kept heap %d MB after the burst settled, %d MB after 128 MB of idle garbage; want at most %d (live %d MB)", settled, kept, want, liveMB)
	}
}
