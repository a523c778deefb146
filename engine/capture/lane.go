package capture

import (
	"sync"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/iotstudio/iotstudio/engine/message"
)

// Ingest runs on every publisher's goroutine at once. With one mutex and
// one block being filled, every message handed the mutex, the block's
// header and the tail of its buffer from one core to the other: about
// half of what capture cost the broker once the disk writes were cheap
// (docs/PERFORMANCE.md, "Through the broker"). So Ingest appends the encoded
// record to a lane instead, and lanePool hands each goroutine the lane
// last used on its processor (sync.Pool keeps a per-P slot), so that a
// lane's lock and memory mostly stay on one core. The writer drains every
// lane, merges their records in the order Ingest was called (by a
// monotonic clock read on the way in) and assigns seqs as it places them
// in blocks (writer.drain).
//
// Imports (Append) have a lane of their own, drained after the live lanes
// and in call order: an import's records keep the order they came in.
type lane struct {
	_         cpu.CacheLinePad
	mu        sync.Mutex
	closed    bool      // set by the writer's last drain: nothing more is taken
	buf       []byte    // encoded records
	recs      []laneRec // one per record, in buf order
	published int       // bytes of buf counted in Store.queued
	ingested  int64     // records accepted since Open
	_         cpu.CacheLinePad
}

// laneRec is what the writer needs of a record besides its bytes, which
// start at off in the lane's buf and end where the next record's start.
type laneRec struct {
	order   time.Duration // when put was called, since Store.epoch (monotonic)
	ns, sec int64         // receive time
	hash    uint64
	off     int
}

// laneKickBytes is how full a lane gets before it wakes the writer
// (otherwise the writer drains every blockMaxAge/2).
const laneKickBytes = 1 << 20

// The lanes share QueueBytes: any lane may use all of it, so one busy
// publisher is not held to its processor's share. To keep the shared
// count off the hot path, a lane adds to Store.queued only in steps of
// Store.quantum bytes (at most maxQuantum, at most an eighth of the queue
// over all lanes), and the writer takes a lane's part off when it drains
// it. The count is then short by less than one step per lane.
const maxQuantum = 64 << 10

// putResult is what became of a record given to putLane.
type putResult int

const (
	putOK       putResult = iota
	putFull               // the queue had no room
	putTooLarge           // larger than MaxRecordBytes encoded
	putClosed             // the store is closing
)

// putLane encodes r into l. It counts nothing but the records it stores:
// the caller decides what a refusal is.
func (s *Store) putLane(l *lane, r *message.Message) putResult {
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	size := encodedLen(r)
	if size > maxRecordSize {
		return putTooLarge
	}
	rec := laneRec{order: time.Since(s.epoch), ns: unixNano(r.Time), sec: r.Time.Unix(), hash: topicHash(r.Topic)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return putClosed
	}
	rec.off = len(l.buf)
	// An empty queue takes any record, however large.
	if queued := int(s.queued.Load()) + rec.off - l.published; queued > 0 && queued+size > s.opts.QueueBytes {
		l.mu.Unlock()
		return putFull
	}
	l.recs = append(l.recs, rec)
	l.buf = appendRecord(l.buf, r)
	l.ingested++
	if step := len(l.buf) - l.published; step >= s.quantum {
		step -= step % s.quantum
		s.queued.Add(int64(step))
		l.published += step
	}
	kick := rec.off < laneKickBytes && len(l.buf) >= laneKickBytes
	l.mu.Unlock() // not deferred: this is the broker's hot path
	if kick {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return putOK
}

// put is putLane on the calling processor's lane.
func (s *Store) put(r *message.Message) putResult {
	l := s.lanePool.Get().(*lane)
	res := s.putLane(l, r)
	s.lanePool.Put(l)
	return res
}

// newLanes makes n live lanes and the pool that hands them out. The pool
// may drop its entries at any GC; that only costs a lane switch, because
// the lanes themselves live in s.lanes.
func (s *Store) newLanes(n int) {
	s.lanes = make([]*lane, n)
	for i := range s.lanes {
		s.lanes[i] = &lane{}
	}
	s.imports = &lane{}
	s.quantum = min(maxQuantum, max(1, s.opts.QueueBytes/(8*(n+1))))
	s.lanePool.New = func() any {
		return s.lanes[int(s.laneNext.Add(1)%uint32(n))]
	}
}

// take moves l's records into r, giving l r's emptied buffers, and takes
// them off s.queued; with closing it also closes l.
func (l *lane) take(s *Store, r *laneRun, closing bool) {
	r.reset()
	l.mu.Lock()
	l.buf, r.buf = r.buf, l.buf
	l.recs, r.recs = r.recs, l.recs
	l.closed = l.closed || closing
	published := l.published
	l.published = 0
	l.mu.Unlock()
	s.queued.Add(-int64(published))
	r.next = 0
}

// A run's buffer is handed back to its lane to fill again, so that at a
// steady rate a lane never grows its buffer (growing copies it). A buffer
// larger than laneKeepBytes that held less than an eighth of its capacity
// at laneShrinkDrains of its drains in a row (two to four seconds of the
// writer's ticks) is dropped instead, so that a burst's buffers are not
// kept for good: at rest each lane keeps at most two of laneKeepBytes.
// Only large buffers count: a lane and its run swap buffers at every
// drain, and once one of the two was dropped, the small one coming round
// must not restart the count of the large one.
const (
	laneKeepBytes    = 256 << 10
	laneShrinkDrains = 40
)

// laneRun is what the writer took from one lane.
type laneRun struct {
	buf  []byte
	recs []laneRec
	next int // index of the next record to place
	idle int // drains in a row that used little of buf (see laneKeepBytes)
}

func (r *laneRun) done() bool { return r.next == len(r.recs) }

// reset empties r (see laneKeepBytes).
func (r *laneRun) reset() {
	switch {
	case cap(r.buf) <= laneKeepBytes:
	case len(r.buf) >= cap(r.buf)/8:
		r.idle = 0
	default:
		if r.idle++; r.idle >= laneShrinkDrains {
			r.buf, r.recs, r.idle = nil, nil, 0
		}
	}
	r.buf, r.recs, r.next = r.buf[:0], r.recs[:0], 0
}

// keepRest moves r's records not yet placed to the end of dst, after
// those of dst's not yet placed (normally none).
func (r *laneRun) keepRest(dst *laneRun) {
	dst.compact()
	if r.done() {
		return
	}
	base := r.recs[r.next].off
	shift := len(dst.buf) - base
	dst.buf = append(dst.buf, r.buf[base:]...)
	for _, rec := range r.recs[r.next:] {
		rec.off += shift
		dst.recs = append(dst.recs, rec)
	}
	r.next = len(r.recs)
}

// compact drops the records already placed.
func (r *laneRun) compact() {
	if r.done() {
		r.reset()
		return
	}
	base := r.recs[r.next].off
	r.buf = r.buf[:copy(r.buf, r.buf[base:])]
	r.recs = r.recs[:copy(r.recs, r.recs[r.next:])]
	for i := range r.recs {
		r.recs[i].off -= base
	}
	r.next = 0
}

// record returns the i-th record's bytes.
func (r *laneRun) record(i int) []byte {
	end := len(r.buf)
	if i+1 < len(r.recs) {
		end = r.recs[i+1].off
	}
	return r.buf[r.recs[i].off:end]
}
