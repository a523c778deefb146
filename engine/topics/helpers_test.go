package topics

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
)

const testTimeout = 10 * time.Second

// msg builds a record from the embedded broker.
func msg(topic, payload string) capture.Record {
	return capture.Record{Source: "broker", Topic: topic, Payload: []byte(payload), ClientID: "c1", Protocol: 5}
}

func retainedMsg(topic, payload string) capture.Record {
	r := msg(topic, payload)
	r.Retain = true
	return r
}

// fakeClock is a settable clock for rate tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// applyAll applies recs synchronously as one version, the way Run applies
// a chunk, so that tests control exactly what each version contains.
func applyAll(m *Model, recs ...capture.Record) {
	m.apply(recs, nil)
}

// lookup finds a broker topic or fails the test.
func lookup(t *testing.T, m *Model, topic string) NodeID {
	t.Helper()
	id, ok := m.Lookup("broker", topic)
	if !ok {
		t.Fatalf("no node for %q", topic)
	}
	return id
}

func summaryOf(t *testing.T, m *Model, topic string) NodeSummary {
	t.Helper()
	s := m.Summaries(nil, []NodeID{lookup(t, m, topic)})
	return s[0]
}

// runModel runs m until the test ends, then checks that Run returned and
// left no goroutine behind.
func runModel(t *testing.T, m *Model) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(testTimeout):
			t.Fatal("Run did not return after its context was cancelled")
		}
		noRunGoroutine(t)
	})
}

func syncModel(t *testing.T, m *Model) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// noRunGoroutine fails if a goroutine is still inside Model.Run.
func noRunGoroutine(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if !bytes.Contains(buf[:n], []byte("topics.(*Model).Run(")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a goroutine is still in Model.Run:\n%s", buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkInvariants verifies the bookkeeping that apply and eviction keep in
// step: history totals, buffer accounting, counts along the tree and the
// children order.
func checkInvariants(t *testing.T, m *Model) {
	t.Helper()
	m.mu.RLock()
	defer m.mu.RUnlock()
	tr := &m.t
	var bytes, alloc, dead int64
	entries, topics, stale := 0, 0, 0
	histEntries := map[uint32]int{}
	for id := uint32(1); id < tr.count; id++ {
		n := tr.node(id)
		alloc += int64(cap(n.hist))
		dead += int64(n.head)
		stale += int(n.stale)
		// Memory follows what is kept: no buffer much larger than its
		// contents, however the caps evicted from it.
		if cap(n.hist) > 4*len(n.hist)+1024 {
			t.Fatalf("%q: buffer of %d bytes for %d bytes", n.path, cap(n.hist), len(n.hist))
		}
		if int(n.lastOff) < len(n.hist) {
			bytes += int64(n.lastOff - n.head)
			for off := n.head; off < n.lastOff; entries++ {
				_, off = entryAt(n.hist, off)
				histEntries[id]++
			}
			if _, end := entryAt(n.hist, n.lastOff); int(end) != len(n.hist) {
				t.Fatalf("%q: last entry ends at %d of %d", n.path, end, len(n.hist))
			}
			if int(n.lastOff-n.head) > tr.opts.HistoryBytesPerTopic {
				t.Fatalf("%q holds %d history bytes, over the per-topic cap %d", n.path, n.lastOff-n.head, tr.opts.HistoryBytesPerTopic)
			}
		}
		if n.flags&hasMessage != 0 {
			topics++
		}
		var subMsgs uint64
		subTopics, subRet := uint32(0), uint32(0)
		if n.flags&hasMessage != 0 {
			subTopics = 1
		}
		if n.flags&retained != 0 {
			subRet = 1
		}
		subMsgs = n.msgs
		for i, k := range n.children {
			c := tr.node(k)
			if c.parent != id {
				t.Fatalf("%q lists %q as child but its parent is %d", n.path, c.path, c.parent)
			}
			if i > 0 && tr.compareNames(n.children[i-1], k) >= 0 {
				t.Fatalf("children of %q out of order: %q then %q", n.path, tr.node(n.children[i-1]).name(), c.name())
			}
			subMsgs += c.subMsgs
			subTopics += c.subTopics
			subRet += c.subRetained
		}
		if subMsgs != n.subMsgs || subTopics != n.subTopics || subRet != n.subRetained {
			t.Fatalf("%q: subtree counts %d/%d/%d, children add up to %d/%d/%d",
				n.path, n.subMsgs, n.subTopics, n.subRetained, subMsgs, subTopics, subRet)
		}
	}
	if bytes != tr.hist.bytes || entries != tr.hist.entries || alloc != tr.hist.alloc || topics != tr.topics {
		t.Fatalf("totals: bytes %d/%d entries %d/%d alloc %d/%d topics %d/%d (counted/kept)",
			bytes, tr.hist.bytes, entries, tr.hist.entries, alloc, tr.hist.alloc, topics, tr.topics)
	}
	if tr.hist.bytes > tr.opts.HistoryBytes {
		t.Fatalf("history holds %d bytes, over the cap %d", tr.hist.bytes, tr.opts.HistoryBytes)
	}
	if dead != tr.hist.dead || dead > tr.deadBudget() || stale != tr.hist.stale {
		t.Fatalf("dead bytes %d counted as %d (budget %d), stale slots %d counted as %d",
			dead, tr.hist.dead, tr.deadBudget(), stale, tr.hist.stale)
	}
	// Each node has one FIFO slot per history entry plus its stale ones.
	slots := map[uint32]int{}
	for _, e := range tr.hist.fifo[tr.hist.fifoHead:] {
		slots[uint32(e>>32)]++
	}
	for id := uint32(1); id < tr.count; id++ {
		if want := histEntries[id] + int(tr.node(id).stale); slots[id] != want {
			t.Fatalf("%q: %d FIFO slots for %d entries and %d stale", tr.node(id).path, slots[id], histEntries[id], tr.node(id).stale)
		}
	}
}
