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
// step: history totals, the ring's records and links, buffer accounting,
// counts along the tree and the children order.
func checkInvariants(t *testing.T, m *Model) {
	t.Helper()
	m.mu.RLock()
	defer m.mu.RUnlock()
	tr := &m.t
	h := &tr.hist
	var bytes, alloc, liveRing int64
	entries, topics := 0, 0
	alloc = int64(len(h.ring))
	var scratch []byte
	for id := uint32(1); id < tr.count; id++ {
		n := tr.node(id)
		alloc += int64(cap(n.lastMsg))
		// Memory follows what is kept: no buffer much larger than its
		// contents.
		if cap(n.lastMsg) > 4*len(n.lastMsg)+1024 {
			t.Fatalf("%q: buffer of %d bytes for %d bytes", n.path, cap(n.lastMsg), len(n.lastMsg))
		}
		if len(n.lastMsg) > 0 {
			if _, end := entryAt(n.lastMsg, 0); int(end) != len(n.lastMsg) {
				t.Fatalf("%q: last entry ends at %d of %d", n.path, end, len(n.lastMsg))
			}
		}
		// The node's history: linked oldest to newest through live ring
		// records of its own.
		var nb int64
		last := uint64(0)
		for pos := n.histOld; pos != 0; {
			if pos-1 < h.tail || pos-1 >= h.head {
				t.Fatalf("%q: history record at %d outside the ring [%d, %d)", n.path, pos-1, h.tail, h.head)
			}
			rid, next, size, entry := h.record(pos-1, &scratch)
			if rid != id {
				t.Fatalf("%q: history record at %d belongs to node %d", n.path, pos-1, rid)
			}
			if _, end := entryAt(entry, 0); int(end) != len(entry) || size != recHeader+len(entry) {
				t.Fatalf("%q: malformed history record at %d", n.path, pos-1)
			}
			nb += int64(len(entry))
			liveRing += int64(size)
			entries++
			last, pos = pos, next
		}
		if last != n.histNew || nb != int64(n.histBytes) {
			t.Fatalf("%q: history ends at %d, histNew %d; %d bytes counted as %d", n.path, last, n.histNew, nb, n.histBytes)
		}
		if nb > int64(tr.opts.HistoryBytesPerTopic) {
			t.Fatalf("%q holds %d history bytes, over the per-topic cap %d", n.path, nb, tr.opts.HistoryBytesPerTopic)
		}
		bytes += nb
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
	if bytes != h.bytes || entries != h.entries || alloc != h.alloc || topics != tr.topics {
		t.Fatalf("totals: bytes %d/%d entries %d/%d alloc %d/%d topics %d/%d (counted/kept)",
			bytes, h.bytes, entries, h.entries, alloc, h.alloc, topics, tr.topics)
	}
	if h.bytes > max(tr.opts.HistoryBytes, 0) {
		t.Fatalf("history holds %d bytes, over the cap %d", h.bytes, tr.opts.HistoryBytes)
	}
	// The ring holds live records and dead ones, nothing else, within its
	// bound.
	if used := int64(h.head - h.tail); used != liveRing+h.dead || int64(len(h.ring)) > max(tr.ringMax(), 64<<10) {
		t.Fatalf("ring: %d bytes used, %d live + %d dead; %d bytes allocated, bound %d",
			used, liveRing, h.dead, len(h.ring), tr.ringMax())
	}
}
