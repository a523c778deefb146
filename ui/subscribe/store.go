package subscribe

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// entry is one message as the list keeps it. Ingest fills the record; the
// refresh goroutine then sets filter, colour and preview once, before any
// view holding the entry reaches the UI, and nothing changes it after.
type entry struct {
	seq  uint64
	rec  message.Message // Payload holds at most the kept bytes
	size int             // the payload's real size
	cost int64           // what it counts against the byte cap

	tagged  bool
	filter  string // the subscription it matched; "" none
	colour  int    // palette index; noColour when it matched none
	preview string
}

// clipped reports whether the list keeps only the start of the payload.
func (e *entry) clipped() bool { return len(e.rec.Payload) < e.size }

// entryOverhead is roughly what an entry costs beyond its variable-size
// fields (the struct, the pointer in the ring, the preview).
const entryOverhead = 256

// store is the panel's memory of recent messages: the newest ones, at
// most maxCount of them and maxBytes in all. Older ones are only evicted
// from here; the capture keeps them. Ingest holds its mutex for a copy and
// a few assignments, and the refresh goroutine only for copying pointers,
// so a producer never waits behind list work.
type store struct {
	maxCount    int
	maxBytes    int64
	keepPayload int // payload bytes kept per message

	mu       sync.Mutex
	ring     []*entry // circular; len == maxCount
	head, n  int      // oldest slot and how many are used
	bytes    int64
	seq      uint64 // the last seq given out
	received map[string]int64
	evicted  int64
	clipped  int64
}

func newStore(maxCount int, maxBytes int64) *store {
	keep := int64(1 << 20)
	if maxBytes/4 < keep {
		keep = maxBytes / 4
	}
	return &store{maxCount: maxCount, maxBytes: maxBytes, keepPayload: int(keep),
		ring: make([]*entry, maxCount), received: map[string]int64{}}
}

// add keeps a copy of r (Ingest's records share their slices with the
// capture). It never blocks on anything but the store's short mutex.
func (s *store) add(r message.Message, now time.Time) {
	e := &entry{size: len(r.Payload), colour: noColour}
	e.rec = r
	if e.rec.Time.IsZero() {
		e.rec.Time = now
	}
	e.rec.Payload = clone(r.Payload, s.keepPayload)
	e.rec.CorrelationData = clone(r.CorrelationData, len(r.CorrelationData))
	e.rec.UserProps = slices.Clone(r.UserProps)
	e.cost = entryOverhead + int64(len(e.rec.Payload)+len(r.Topic)+len(r.CorrelationData)+len(r.ContentType)+len(r.ResponseTopic))
	for _, u := range r.UserProps {
		e.cost += int64(len(u.Key) + len(u.Value))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	e.seq = s.seq
	s.received[r.Source]++
	if e.clipped() {
		s.clipped++
	}
	for s.n > 0 && (s.n == s.maxCount || s.bytes+e.cost > s.maxBytes) {
		s.dropOldest()
	}
	s.ring[(s.head+s.n)%s.maxCount] = e
	s.n++
	s.bytes += e.cost
}

func (s *store) dropOldest() {
	old := s.ring[s.head]
	s.ring[s.head] = nil
	s.head = (s.head + 1) % s.maxCount
	s.n--
	s.bytes -= old.cost
	s.evicted++
}

// since returns the entries newer than seq, oldest first, and the oldest
// seq still kept (0 when empty).
func (s *store) since(seq uint64, dst []*entry) ([]*entry, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return dst, 0
	}
	first := s.ring[s.head].seq
	// Seqs increase along the ring, with gaps where Clear took entries.
	start := sort.Search(s.n, func(i int) bool { return s.ring[(s.head+i)%s.maxCount].seq > seq })
	for i := start; i < s.n; i++ {
		dst = append(dst, s.ring[(s.head+i)%s.maxCount])
	}
	return dst, first
}

// clear forgets the kept messages of source (the capture still has
// them); the counters go on. The others' messages move up to keep the
// ring in order: a pass over at most maxCount pointers.
func (s *store) clear(source string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := 0
	for i := range s.n {
		e := s.ring[(s.head+i)%s.maxCount]
		if e.rec.Source == source {
			s.bytes -= e.cost
			continue
		}
		s.ring[(s.head+kept)%s.maxCount] = e
		kept++
	}
	for i := kept; i < s.n; i++ {
		s.ring[(s.head+i)%s.maxCount] = nil
	}
	s.n = kept
}

// counts is what the status line says about the store.
type counts struct {
	received  int64 // by the selected connection
	kept      int   // messages in memory, all connections
	keptBytes int64
	evicted   int64
	clipped   int64
}

func (s *store) counts(source string) counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return counts{received: s.received[source], kept: s.n, keptBytes: s.bytes, evicted: s.evicted, clipped: s.clipped}
}

func clone(b []byte, limit int) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b[:min(len(b), limit)]...)
}
