package bridge

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	badgerdb "github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/iotstudio/iotstudio/engine/kvstore"
	"github.com/iotstudio/iotstudio/engine/message"
)

// entry is one outgoing message, numbered in arrival order.
type entry struct {
	seq uint64
	m   message.Message
}

func (e entry) durable() bool { return e.m.QoS > 0 }

// queue holds outgoing messages until the remote acknowledges them. Every
// message passes through it (so order holds whether the remote is up or
// not); QoS 1 and 2 ones are also kept in Badger until acknowledged, so a
// restart sends them. Badger rather than a segment file of our own: the
// app already opens its stores through kvstore (locking, damaged-file and
// full-disk handling), and acknowledgements delete from the middle of the
// queue in any order, which an append-only file would have to compact.
// Writes go in batches from the pump goroutine, never from Ingest (which
// runs on a publisher's goroutine and must not block), so a crash loses at
// most the messages of the last few milliseconds; a clean shutdown loses
// none.
type queue struct {
	db  *badgerdb.DB
	sp  *kvstore.Space
	log *slog.Logger
	max int

	mu       sync.Mutex
	waiting  []entry // oldest first, from head
	head     int
	inflight int      // taken by the pump and not yet done or put back
	toSave   []entry  // durable entries not yet written
	toDelete []uint64 // durable entries acknowledged or dropped
	next     uint64
	dropped  int64

	wake chan struct{} // a message arrived
}

// openQueue opens (creating) the queue's store in dir and loads what a
// previous run left unsent.
func openQueue(dir string, max int, log *slog.Logger) (*queue, error) {
	o := badgerdb.DefaultOptions(dir)
	o.MemTableSize = 8 << 20
	o.NumMemtables = 2
	o.BlockCacheSize = 4 << 20
	o.IndexCacheSize = 0
	o.ValueLogFileSize = 16 << 20
	o.NumCompactors = 2
	o.DetectConflicts = false
	o.MetricsEnabled = false
	db, sp, err := kvstore.Open("bridge queue", dir, o, log)
	if err != nil {
		return nil, err
	}
	q := &queue{db: db, sp: sp, log: log, max: max, wake: make(chan struct{}, 1)}
	if err := q.load(); err != nil {
		_ = db.Close()
		sp.Close()
		return nil, fmt.Errorf("read the bridge queue in %s: %w; move the directory aside to start with an empty queue", dir, err)
	}
	// The queue may have been made smaller since.
	for len(q.waiting)-q.head > q.max {
		q.dropOldest()
	}
	return q, nil
}

func key(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func (q *queue) load() error {
	return q.db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if len(item.Key()) != 8 {
				continue
			}
			e := entry{seq: binary.BigEndian.Uint64(item.Key())}
			err := item.Value(func(v []byte) error { return cbor.Unmarshal(v, &e.m) })
			if err != nil {
				return fmt.Errorf("message %d: %w", e.seq, err)
			}
			q.waiting = append(q.waiting, e)
			q.next = e.seq + 1
		}
		return nil
	})
}

// push adds m (copying what it shares with other sinks), dropping the
// oldest waiting message when the queue is full.
func (q *queue) push(m message.Message) {
	m.Payload = slices.Clone(m.Payload)
	m.CorrelationData = slices.Clone(m.CorrelationData)
	m.UserProps = slices.Clone(m.UserProps)
	q.mu.Lock()
	if len(q.waiting)-q.head >= q.max {
		q.dropOldest()
	}
	e := entry{seq: q.next, m: m}
	q.next++
	q.waiting = append(q.waiting, e)
	if e.durable() {
		q.toSave = append(q.toSave, e)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// dropOldest drops the oldest waiting message; q.mu is held.
func (q *queue) dropOldest() {
	e := q.waiting[q.head]
	q.waiting[q.head] = entry{}
	q.head++
	q.dropped++
	if e.durable() {
		q.toDelete = append(q.toDelete, e.seq)
	}
	if q.head > 1024 && q.head*2 > len(q.waiting) {
		q.waiting = slices.Clone(q.waiting[q.head:])
		q.head = 0
	}
}

// take hands the pump up to n of the oldest waiting messages.
func (q *queue) take(n int) []entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.waiting)-q.head)
	out := slices.Clone(q.waiting[q.head : q.head+n])
	clear(q.waiting[q.head : q.head+n])
	q.head += n
	if q.head == len(q.waiting) {
		q.waiting, q.head = q.waiting[:0], 0
	}
	q.inflight += n
	return out
}

// done settles what take handed out: sent leaves the queue, unsent goes
// back to its front in order (and the oldest go if that overfills it).
func (q *queue) done(sent, unsent []entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inflight -= len(sent) + len(unsent)
	for _, e := range sent {
		if e.durable() {
			q.toDelete = append(q.toDelete, e.seq)
		}
	}
	if len(unsent) > 0 {
		slices.SortFunc(unsent, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
		q.waiting = append(slices.Clone(unsent), q.waiting[q.head:]...)
		q.head = 0
		for len(q.waiting)-q.head > q.max {
			q.dropOldest()
		}
	}
}

// drop settles messages the remote refused for good (not for being down).
func (q *queue) drop(es []entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dropped += int64(len(es))
	q.inflight -= len(es)
	for _, e := range es {
		if e.durable() {
			q.toDelete = append(q.toDelete, e.seq)
		}
	}
}

// counts returns the messages queued (waiting or being sent) and dropped.
func (q *queue) counts() (queued int, dropped int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting) - q.head + q.inflight, q.dropped
}

// flush writes the durable messages that arrived and deletes the settled
// ones. Only the pump calls it (and close, after the pump).
func (q *queue) flush() error {
	q.mu.Lock()
	save, del := q.toSave, q.toDelete
	q.toSave, q.toDelete = nil, nil
	q.mu.Unlock()
	if len(save) == 0 && len(del) == 0 {
		return nil
	}
	if len(save) > 0 {
		wb := q.db.NewWriteBatch()
		for _, e := range save {
			v, err := cbor.Marshal(e.m)
			if err != nil {
				wb.Cancel()
				return fmt.Errorf("encode queued message: %w", err)
			}
			if err := wb.Set(key(e.seq), v); err != nil {
				wb.Cancel()
				return err
			}
		}
		if err := wb.Flush(); err != nil {
			return fmt.Errorf("write the bridge queue: %w", err)
		}
	}
	// After the writes: a message may be saved and settled in one round.
	if len(del) > 0 {
		wb := q.db.NewWriteBatch()
		for _, s := range del {
			if err := wb.Delete(key(s)); err != nil {
				wb.Cancel()
				return err
			}
		}
		if err := wb.Flush(); err != nil {
			return fmt.Errorf("delete sent messages from the bridge queue: %w", err)
		}
	}
	return nil
}

// close writes what is pending and closes the store.
func (q *queue) close() error {
	err := q.flush()
	err = errors.Join(err, q.db.Close())
	q.sp.Close()
	return err
}
