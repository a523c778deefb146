package app

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Go keeps the heap a burst grew: after issue 11's burst (1,000,000
// messages over 100,000 topics) the window held about 800 MB resident for
// a live heap of about 200 MB, because the collector's goal stays at twice
// the burst's live heap until a collection lowers it, which an idle
// window hardly triggers, and the runtime only gives back memory above
// that goal. A soft limit (debug.SetMemoryLimit) below the burst's live
// heap would instead make the collector run without pause while the burst
// lasts, taxing every message (GOMEMLIMIT=400MiB still left 512 MB). So
// the window gives the memory back once a burst has settled: after a
// period that allocated much, quietPeriods periods (4 to 6 s) that
// allocated little, and at least releaseStep allocated since it last did
// (what a collection could free). That is one full collection per burst, none while traffic
// flows or while the window is idle.
const (
	// releaseEvery is how often the heap is looked at.
	releaseEvery = 2 * time.Second
	// quietAllocBytes is what the program may allocate in one period and
	// still count as settled; a burst allocates hundreds of MB a second.
	quietAllocBytes = 16 << 20
	// quietPeriods is how many quiet periods in a row make a burst
	// settled, so that a publisher's short pause is not taken for its end,
	// and so that the capture has let go of the burst's lane buffers
	// first (2 to 4 s after its last record, see capture's laneRun.reset):
	// dropped after the release, they would stay until the next burst.
	quietPeriods = 3
	// releaseStep is what the program must have allocated since the last
	// release for a full collection to be worth it.
	releaseStep = 64 << 20
)

// heapSample is what heapReleaser judges by.
type heapSample struct {
	allocs uint64 // bytes allocated since the program started
	kept   uint64 // heap memory held from the OS: objects, free and unused spans
}

var heapMetrics = []string{
	"/gc/heap/allocs:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/unused:bytes",
}

func newHeapSamples() []metrics.Sample {
	s := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		s[i].Name = name
	}
	return s
}

func readHeap(s []metrics.Sample) heapSample {
	metrics.Read(s)
	var h heapSample
	h.allocs = s[0].Value.Uint64()
	for _, m := range s[1:] {
		h.kept += m.Value.Uint64()
	}
	return h
}

// heapReleaser decides when to give the heap back; see releaseEvery.
type heapReleaser struct {
	last   uint64 // allocs at the previous sample
	base   uint64 // allocs at the last release (or at start)
	busy   bool   // a period allocated quietAllocBytes or more since the last release
	quiets int    // quiet periods in a row since then
}

func newHeapReleaser(start heapSample) *heapReleaser {
	return &heapReleaser{last: start.allocs, base: start.allocs}
}

// observe takes a sample and says whether to release now.
func (r *heapReleaser) observe(h heapSample) bool {
	quiet := h.allocs-r.last < quietAllocBytes
	r.last = h.allocs
	if !quiet {
		r.busy, r.quiets = true, 0
		return false
	}
	r.quiets++
	return r.busy && r.quiets >= quietPeriods && h.allocs-r.base >= releaseStep
}

// released records a release made after h.
func (r *heapReleaser) released(h heapSample) {
	r.last, r.base, r.busy, r.quiets = h.allocs, h.allocs, false, 0
}

// Between collections the heap grows by GOGC percent of the live heap
// (100 by default): after issue 11's burst the window's idle refresh
// (about 1.5 MB/s) took it from 367 back to 468 MB within 90 s. Once a
// burst has settled the window collects at idleGCPercent instead, until
// the next busy period, which runs at the usual pace again so that
// collecting does not tax a burst. With the ~120 MB live after that
// burst, 10 % is one collection per ~12 MB allocated, about every 8 s at
// idle, each marking mostly the model's pointer-free slabs and ring; at
// 25 % the heap grew another ~18 MB between collections, which the
// window's RSS target (< 300 MB) does not leave room for. Unlike a memory
// limit, it can never make the collector run flat out however the live
// heap grows.
const idleGCPercent = 10

// releaseAfterBursts gives the heap back to the OS after each burst (see
// releaseEvery) and keeps it small until the next one, looking at each
// tick, until ctx is done. A GOGC set in the environment is left alone.
func releaseAfterBursts(ctx context.Context, log *slog.Logger, tick <-chan time.Time) {
	s := newHeapSamples()
	r := newHeapReleaser(readHeap(s))
	ownGC := os.Getenv("GOGC") == ""
	busyGC := -1 // GOGC to restore when busy again; -1: not lowered
	restore := func() {
		if busyGC >= 0 {
			debug.SetGCPercent(busyGC)
			busyGC = -1
		}
	}
	defer restore()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		before := readHeap(s)
		release := r.observe(before)
		if r.quiets == 0 { // a busy period
			restore()
		}
		if !release {
			continue
		}
		debug.FreeOSMemory()
		after := readHeap(s)
		r.released(after)
		if ownGC && busyGC < 0 {
			busyGC = debug.SetGCPercent(idleGCPercent)
		}
		log.Debug("gave memory back to the OS after a burst",
			"kept_before_mb", before.kept>>20, "kept_after_mb", after.kept>>20)
	}
}
