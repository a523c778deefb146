package topics

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A busy broker has hundreds of thousands of nodes: every 8 bytes of a
// node are about 1 MB at issue 11's 100,000 topics (130,000 nodes).
func TestNodeStaysSmall(t *testing.T) {
	if size := unsafe.Sizeof(node{}); size > 136 {
		t.Fatalf("a node takes %d bytes, over 136", size)
	}
}

// Last messages live densely in slabs: with 20,000 topics whose payloads
// vary from message to message, the slabs hold at most a quarter more
// than the messages in them (1.21×; a buffer per topic, as before, held
// 1.42×: room for a larger next message, and the allocator's size
// classes). The window's heap after issue 11's burst depends on it, and
// so does how many spans the burst leaves partly filled.
func TestLastMessagesAreKeptDensely(t *testing.T) {
	const topicCount, messages = 20_000, 200_000
	m := New(Options{HistoryBytes: -1}) // only last messages: the buffers are theirs
	rng := rand.New(rand.NewPCG(5, 6))
	var batch []message.Message
	for i := range messages {
		k := i
		if i >= topicCount {
			k = rng.IntN(topicCount)
		}
		batch = append(batch, msg(fmt.Sprintf("site/%d/dev/%d", k/100, k%100), strings.Repeat("x", 50+rng.IntN(251))))
		if len(batch) == maxChunk || i == messages-1 {
			applyAll(m, batch...)
			batch = batch[:0]
		}
	}
	checkInvariants(t, m)
	st := m.Stats()
	var kept int64
	for id := 1; id <= st.Nodes; id++ {
		if d, ok := m.Node(NodeID(id)); ok {
			kept += int64(d.HistoryBytes)
		}
	}
	if st.HistoryBytes != 0 || kept == 0 {
		t.Fatalf("history %d bytes, last messages %d bytes: want only last messages", st.HistoryBytes, kept)
	}
	if limit := kept + kept/4; st.BufferBytes > limit {
		t.Fatalf("last messages take %d bytes for %d bytes of messages (%.2f×), over %d",
			st.BufferBytes, kept, float64(st.BufferBytes)/float64(kept), limit)
	}
	t.Logf("last messages take %d bytes for %d bytes of messages (%.2f×)", st.BufferBytes, kept, float64(st.BufferBytes)/float64(kept))
}

// Topics whose messages change size move between slot sizes, and to and
// from buffers of their own beyond maxSlot: every topic keeps showing its
// newest message and its history, and slots emptied by a shift to other
// sizes are given back.
func TestLastMessagesMoveBetweenSlotSizes(t *testing.T) {
	m := New(Options{HistoryBytes: 1 << 20})
	rng := rand.New(rand.NewPCG(7, 8))
	const topicCount = 3000
	sizes := []int{10, 200, 1000, maxSlot - 20, maxSlot + 100, 3 * maxSlot}
	newest := make([]string, topicCount)
	for round := range 12 {
		var batch []message.Message
		for i := range topicCount {
			if rng.IntN(3) == 0 {
				continue
			}
			p := fmt.Sprintf("%d/%d:", round, i) + strings.Repeat("y", sizes[rng.IntN(len(sizes))])
			newest[i] = p
			batch = append(batch, msg(fmt.Sprintf("s/%d", i), p))
		}
		applyAll(m, batch...)
		checkInvariants(t, m)
		for i, want := range newest {
			if want == "" {
				continue
			}
			if got := payloads(t, m, fmt.Sprintf("s/%d", i)); got[0] != want {
				t.Fatalf("round %d: s/%d shows %.12q…, want %.12q…", round, i, got[0], want)
			}
		}
	}
	// Every topic shrinks to a small message: the slabs and buffers of the
	// larger ones go.
	var batch []message.Message
	for i := range topicCount {
		batch = append(batch, msg(fmt.Sprintf("s/%d", i), "z"))
	}
	applyAll(m, batch...)
	checkInvariants(t, m)
	st := m.Stats()
	ring := int64(len(m.t.hist.ring))
	if last := st.BufferBytes - ring; last > topicCount*slotStep+2*slabBytes+4*topicCount*2 {
		t.Fatalf("%d topics of one small message each hold %d bytes of slabs", topicCount, last)
	}
}

// The queue a burst grew is given back: when records stop coming, and when
// a slower stream follows the burst. Otherwise the queue and its spare
// (up to 2 × QueueLen records of 216 bytes each) stay in the process's RSS
// until the next burst.
func TestBurstQueueIsGivenBack(t *testing.T) {
	tests := []struct {
		name        string
		idleRelease time.Duration
		after       int // records sent one by one after the burst, each applied
	}{
		{"records stop", 20 * time.Millisecond, 0},
		{"a slower stream follows", time.Hour, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{BatchInterval: -1, idleRelease: tt.idleRelease})
			// The burst queues before Serve starts, so it is one batch.
			const burst = 20_000
			for i := range burst {
				m.Ingest(msg(fmt.Sprintf("b/%d", i), "x"))
			}
			runModel(t, m)
			syncModel(t, m)
			if c := m.queueCap(); c < burst {
				t.Fatalf("the queue has room for %d records after a burst of %d: the test needs it kept", c, burst)
			}
			for i := range tt.after {
				m.Ingest(msg("b/0", fmt.Sprint(i)))
				syncModel(t, m)
			}
			deadline := time.Now().Add(testTimeout)
			for m.queueCap() > 2*restQueueLen {
				if time.Now().After(deadline) {
					t.Fatalf("the queue still has room for %d records, want at most %d", m.queueCap(), 2*restQueueLen)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if st := m.Stats(); st.Messages != burst+uint64(tt.after) {
				t.Fatalf("%d messages applied, want %d", st.Messages, burst+tt.after)
			}
		})
	}
}

// New topics cost no heap object each: their paths go into shared chunks.
// A string per topic was 100,000 small objects at issue 11's burst, each
// keeping a span of the burst's garbage resident after it.
func TestNewTopicsAreNotAHeapObjectEach(t *testing.T) {
	const topicCount = 20_000
	m := New(Options{})
	var recs []message.Message
	for i := range topicCount {
		recs = append(recs, msg(fmt.Sprintf("plant/%d/line/%d/sensor-%d", i/1000, i/100, i), "1"))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < len(recs); i += maxChunk {
		m.apply(recs[i:min(i+maxChunk, len(recs))], nil)
	}
	runtime.ReadMemStats(&after)
	if st := m.Stats(); st.Topics != topicCount {
		t.Fatalf("%d topics, want %d", st.Topics, topicCount)
	}
	if per := float64(after.Mallocs-before.Mallocs) / topicCount; per > 0.5 {
		t.Fatalf("%.2f heap objects allocated per new topic, want at most 0.5", per)
	}
}

// Once history fills its cap, the ring holds little more than its records:
// at most a sixteenth of its bound unused (up to a fifth when it doubled
// to its bound).
func TestRingHoldsLittleMoreThanItsRecords(t *testing.T) {
	const cap = 4 << 20
	m := New(Options{HistoryBytes: cap})
	var batch []message.Message
	for i := range 60_000 {
		batch = append(batch, msg(fmt.Sprintf("r/%d", i%3000), strings.Repeat("x", 100+i%200)))
		if len(batch) == maxChunk {
			applyAll(m, batch...)
			batch = batch[:0]
		}
	}
	applyAll(m, batch...)
	checkInvariants(t, m)
	h := &m.t.hist
	if h.bytes < cap*9/10 {
		t.Fatalf("history holds %d bytes: the cap (%d) must bind for this test to mean anything", h.bytes, cap)
	}
	if used, limit := int64(h.head-h.tail), int64(h.head-h.tail)+m.t.ringMax()/16+64<<10; int64(len(h.ring)) > limit {
		t.Fatalf("a ring of %d bytes for %d bytes of records, over %d", len(h.ring), used, limit)
	}
}
