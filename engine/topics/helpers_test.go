package topics

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

const testTimeout = 10 * time.Second

// msg builds a record from the embedded broker.
func msg(topic, payload string) message.Message {
	return message.Message{Source: "broker", Topic: topic, Payload: []byte(payload), ClientID: "c1", Protocol: 5}
}

func retainedMsg(topic, payload string) message.Message {
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

// applyAll applies recs synchronously as one version, the way Serve applies
// a chunk, so that tests control exactly what each version contains.
func applyAll(m *Model, recs ...message.Message) {
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

// runModel runs m until the test ends, then checks that Serve returned and
// left no goroutine behind.
func runModel(t *testing.T, m *Model) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(testTimeout):
			t.Fatal("Serve did not return after its context was cancelled")
		}
		noServeGoroutine(t)
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

// noServeGoroutine fails if a goroutine is still inside Model.Serve.
func noServeGoroutine(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if !bytes.Contains(buf[:n], []byte("topics.(*Model).Serve(")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a goroutine is still in Model.Serve:\n%s", buf[:n])
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
	alloc = int64(len(h.ring)) + checkSlabs(t, tr)
	var scratch []byte
	for id := uint32(1); id < tr.count; id++ {
		n := tr.node(id)
		checkLastSlot(t, tr, id)
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

// checkLastSlot verifies node id's last message: whole, in a slot that
// names id as its owner and is not much larger than the message.
func checkLastSlot(t *testing.T, tr *tree, id uint32) {
	t.Helper()
	n := tr.node(id)
	last := tr.last(n)
	if (n.lastCls == 0) != (len(last) == 0) || (n.lastCls == 0) != (n.flags&hasMessage == 0) {
		t.Fatalf("%q: class %d, %d bytes of last message, flags %b", n.path, n.lastCls, len(last), n.flags)
	}
	if n.lastCls == 0 {
		return
	}
	if _, end := entryAt(last, 0); int(end) != len(last) {
		t.Fatalf("%q: last entry ends at %d of %d", n.path, end, len(last))
	}
	s := &tr.lasts
	if n.lastCls == bigClass {
		if s.bigOwn[n.lastSlot] != id || cap(s.big[n.lastSlot]) > 2*len(last) {
			t.Fatalf("%q: big slot %d owned by %d, %d bytes for %d", n.path, n.lastSlot, s.bigOwn[n.lastSlot], cap(s.big[n.lastSlot]), len(last))
		}
		return
	}
	c := int(n.lastCls) - 1
	if own := s.classes[c].owners[n.lastSlot]; own != id {
		t.Fatalf("%q: slot %d of class %d owned by node %d", n.path, n.lastSlot, c, own)
	}
	// Memory follows what is kept: no slot much larger than its message.
	if size := slotSize(c); size < len(last) || size > len(last)+len(last)/4+slotStep {
		t.Fatalf("%q: slot of %d bytes for %d bytes", n.path, size, len(last))
	}
}

// checkSlabs verifies that every slot class is dense, with at most one
// slab beyond what its slots need, and returns the bytes the last messages
// hold (slabs, owner lists and big entries).
func checkSlabs(t *testing.T, tr *tree) int64 {
	t.Helper()
	s := &tr.lasts
	var alloc int64
	for c := range s.classes {
		cl := &s.classes[c]
		per := int(slotsPerSlab(c))
		need := (len(cl.owners) + per - 1) / per
		if len(cl.slabs) < need || len(cl.slabs) > need+1 || (len(cl.owners) == 0 && len(cl.slabs) > 0) {
			t.Fatalf("class %d: %d slabs for %d slots of %d a slab", c, len(cl.slabs), len(cl.owners), per)
		}
		alloc += int64(len(cl.slabs))*slabBytes + 4*int64(cap(cl.owners))
	}
	for _, b := range s.big {
		alloc += int64(cap(b))
	}
	return alloc
}
