// Package journalstore keeps the session journal (engine/journal's events)
// in a Badger database of its own beside the capture (DATA/journal), with
// its own retention by age and size, and answers queries on it.
//
// Record never blocks: it hands the event to a bounded queue, and when the
// queue is full the event is dropped and counted (Stats.DroppedQueueFull).
// One writer goroutine owned by the Store drains the queue in batches; on a
// disk too full to write (kvstore.Space) it drops and counts them too
// (Stats.DroppedDiskFull) until space is freed. Close writes everything
// accepted first.
//
// Badger rather than an append-only file: a query for one client must not
// read the whole journal (the goal is 50 ms for one client among 5,000
// sessions), and kvstore already gives a store what a small or full disk
// needs. Layout (keys.go): every event under e|time|seq, a copy under
// c|client|time|seq so that one client's events are one short prefix scan,
// and u|user|time|seq pointing at the e key. Retention deletes the oldest
// events with their index entries.
package journalstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/kvstore"
)

// Errors Open wraps (see kvstore).
var (
	ErrLocked  = kvstore.ErrLocked
	ErrNoSpace = kvstore.ErrNoSpace
	// ErrClosed is returned by queries on a closed Store.
	ErrClosed = errors.New("the session journal is closed")
)

// Defaults.
const (
	DefaultMaxAge   = 30 * 24 * time.Hour
	DefaultMaxBytes = 256 << 20
	// DefaultQueueLen is how many events may wait for the writer: a storm
	// of 5,000 sessions connecting at once fits with room to spare.
	DefaultQueueLen = 1 << 16
	DefaultLimit    = 1000
)

// Options configure a Store. Zero values mean the defaults; a negative
// MaxAge or MaxBytes means no limit.
type Options struct {
	MaxAge   time.Duration
	MaxBytes int64
	QueueLen int
	Logger   *slog.Logger

	// hold, in tests, makes the writer wait before each batch until it
	// receives (a slow disk).
	hold <-chan struct{}
}

func (o Options) withDefaults() Options {
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.QueueLen <= 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Batch and housekeeping sizes.
const (
	maxBatch          = 512
	retentionInterval = time.Minute
	gcInterval        = 10 * time.Minute
	gcDiscardRatio    = 0.5
	deleteBatch       = 1000
)

// Store is an open journal. Its methods are safe for concurrent use.
type Store struct {
	dir   string
	opts  Options
	log   *slog.Logger
	db    *badgerdb.DB
	space *kvstore.Space

	// mu guards closed and the closing of in; Record holds it shared only
	// around a non-blocking send.
	mu     sync.RWMutex
	closed bool
	in     chan *journal.Event // pointers: a full queue of values would hold megabytes for good

	flushReq chan chan error
	quit     chan struct{} // closed by Close: the GC goroutine stops
	done     chan struct{} // closed when the writer has written all and exited
	gcDone   chan struct{}

	dbMu     sync.RWMutex // queries (shared) vs closing the database
	dbClosed bool         // guarded by dbMu

	seq                       uint64 // writer only
	events, bytes             atomic.Int64
	droppedQueue, droppedDisk atomic.Int64
	diskFull                  atomic.Bool
	dropLog, errLog           kvstore.RateLimit
}

// Open opens (creating if needed) the journal in dir and starts its writer.
// The error names dir and wraps ErrLocked, ErrNoSpace or kvstore's other
// errors when that is the cause.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	log := opts.Logger.With("component", "journal")
	db, space, err := kvstore.Open("journal", dir, badgerOptions(dir), log)
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir: dir, opts: opts, log: log, db: db, space: space,
		in:       make(chan *journal.Event, opts.QueueLen),
		flushReq: make(chan chan error),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		gcDone:   make(chan struct{}),
	}
	if err := s.load(); err != nil {
		_ = db.Close()
		space.Close()
		return nil, kvstore.Classify("journal", dir, err)
	}
	go s.writer()
	go func() {
		defer close(s.gcDone)
		kvstore.RunGC(db, space, s.quit, nil, gcInterval, gcDiscardRatio, log)
	}()
	return s, nil
}

// badgerOptions sizes Badger for small records written a few at a time:
// everything stays in the LSM tree (no value log to collect). A memtable
// is an arena Badger allocates whole: at 8 MiB it was 10 MB of the
// window's heap for a journal that takes a few hundred bytes an event
// (a write batch splits what does not fit one).
func badgerOptions(dir string) badgerdb.Options {
	o := badgerdb.DefaultOptions(dir)
	o.MemTableSize = 2 << 20
	o.NumMemtables = 2
	o.BlockCacheSize = 4 << 20
	o.IndexCacheSize = 0
	o.ValueLogFileSize = 16 << 20
	o.ValueThreshold = 64 << 10
	o.NumCompactors = 2
	o.SyncWrites = false
	o.DetectConflicts = false
	o.MetricsEnabled = false
	o.Compression = options.Snappy
	return o
}

// load reads the totals and the last seq.
func (s *Store) load() error {
	return s.db.View(func(txn *badgerdb.Txn) error {
		if item, err := txn.Get(totalsKey); err == nil {
			if err := item.Value(func(v []byte) error {
				ev, b, ok := decodeTotals(v)
				if !ok {
					return fmt.Errorf("journal totals record is damaged")
				}
				s.events.Store(ev)
				s.bytes.Store(b)
				return nil
			}); err != nil {
				return err
			}
		} else if !errors.Is(err, badgerdb.ErrKeyNotFound) {
			return err
		}
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: []byte{prefixEvent}, Reverse: true})
		defer it.Close()
		it.Seek(pastEnd([]byte{prefixEvent}))
		if it.Valid() {
			if _, seq, ok := splitTimeSeq(it.Item().Key()[1:]); ok {
				s.seq = seq
			}
		}
		return nil
	})
}

// Dir is the journal's directory.
func (s *Store) Dir() string { return s.dir }

// Record implements journal.Sink: it never blocks, and reports false when
// the event was dropped (the queue is full, or the store is closed).
func (s *Store) Record(ev journal.Event) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false
	}
	select {
	case s.in <- &ev:
		return true
	default:
	}
	s.droppedQueue.Add(1)
	if s.dropLog.Allow() {
		s.log.Warn("session journal queue full; events dropped and counted", "queue", cap(s.in), "dropped", s.droppedQueue.Load())
	}
	return false
}

// Flush waits until every event recorded before it is written (or
// dropped and counted, on a full disk).
func (s *Store) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case s.flushReq <- reply:
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what was recorded, stops the writer and closes the
// database. Record after Close drops silently.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.in)
	s.mu.Unlock()
	<-s.done
	close(s.quit)
	<-s.gcDone
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	s.dbClosed = true
	err := s.db.Close()
	s.space.Close()
	if err != nil {
		return fmt.Errorf("journal: close %s: %w", s.dir, err)
	}
	return nil
}

// writer owns the database's writes: batches of events, and retention.
func (s *Store) writer() {
	defer close(s.done)
	tick := time.NewTicker(retentionInterval)
	defer tick.Stop()
	batch := make([]*journal.Event, 0, maxBatch)
	for {
		select {
		case ev, ok := <-s.in:
			if !ok {
				return
			}
			batch = s.drain(append(batch[:0], ev))
			s.write(batch)
		case reply := <-s.flushReq:
			// Events a full disk or a failed write cost are counted as
			// dropped, not an error of the flush.
			for {
				batch = s.drain(batch[:0])
				if len(batch) == 0 {
					break
				}
				s.write(batch)
			}
			reply <- nil
		case <-tick.C:
			s.retain(time.Now())
		}
	}
}

// drain appends what waits in the queue, up to a batch.
func (s *Store) drain(batch []*journal.Event) []*journal.Event {
	for len(batch) < maxBatch {
		select {
		case ev, ok := <-s.in:
			if !ok {
				return batch
			}
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

// write stores a batch with its index entries, and applies retention by
// size when the batch took the journal over its limit. What it cannot
// write it drops and counts.
func (s *Store) write(batch []*journal.Event) {
	if len(batch) == 0 {
		return
	}
	if s.opts.hold != nil {
		select {
		case <-s.opts.hold:
		case <-s.quit:
		}
	}
	type entry struct{ k, v []byte }
	entries := make([]entry, 0, 3*len(batch))
	var size int64
	for i := range batch {
		s.seq++
		batch[i].Seq = s.seq
		v, err := json.Marshal(*batch[i])
		if err != nil {
			s.log.Error("journal event cannot be encoded; not stored", "kind", batch[i].Kind, "error", err)
			continue
		}
		ts := batch[i].Time.UnixNano()
		ek := eventKey(ts, s.seq)
		ck := indexKey(prefixClient, batch[i].Client, ts, s.seq)
		entries = append(entries, entry{ek, v}, entry{ck, v})
		size += eventSize(len(ek), len(ck), len(v))
		if batch[i].User != "" {
			uk := indexKey(prefixUser, batch[i].User, ts, s.seq)
			entries = append(entries, entry{uk, nil})
			size += int64(len(uk))
		}
	}
	if !s.room(2 * size) {
		s.dropDisk(len(batch))
		return
	}
	events, bytes := s.events.Load()+int64(len(batch)), s.bytes.Load()+size
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	var err error
	for _, e := range entries {
		if err = wb.Set(e.k, e.v); err != nil {
			break
		}
	}
	if err == nil {
		err = wb.Set(totalsKey, encodeTotals(events, bytes))
	}
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		s.space.Stop()
		s.dropDisk(len(batch))
		if s.errLog.Allow() {
			s.log.Error("session journal write failed; events dropped and counted", "dir", s.dir, "error", err)
		}
		return
	}
	s.events.Store(events)
	s.bytes.Store(bytes)
	if s.opts.MaxBytes > 0 && bytes > s.opts.MaxBytes {
		s.retain(time.Now())
	}
}

// eventSize is what Stats.Bytes counts for an event: its keys and its two
// copies.
func eventSize(eventKey, clientKey, value int) int64 {
	return int64(eventKey + clientKey + 2*value)
}

// room asks the disk for n bytes, and says so in the log when writing
// stops or resumes.
func (s *Store) room(n int64) bool {
	ok := s.space.Room(n)
	if ok == !s.diskFull.Load() {
		return ok
	}
	s.diskFull.Store(!ok)
	if ok {
		s.log.Info("session journal writes again: disk space was freed", "dir", s.dir)
	} else {
		s.log.Error("session journal stopped writing: the disk is full; events are dropped and counted until space is freed",
			"dir", s.dir, "free", kvstore.MB(s.space.Free()), "needed", kvstore.MB(s.space.Needed()))
	}
	return ok
}

func (s *Store) dropDisk(n int) { s.droppedDisk.Add(int64(n)) }

// Stats describe the journal.
type Stats struct {
	Dir string `json:"dir"`
	// Events and Bytes are what the journal holds (Bytes counts keys and
	// the event's two copies, what retention by size limits).
	Events int64     `json:"events"`
	Bytes  int64     `json:"bytes"`
	Oldest time.Time `json:"oldest"`
	Newest time.Time `json:"newest"`
	// DiskBytes is Badger's files.
	DiskBytes int64 `json:"disk_bytes"`
	// Dropped since the store was opened: the queue was full (the writer
	// could not keep up), or the disk was.
	DroppedQueueFull int64 `json:"dropped_queue_full"`
	DroppedDiskFull  int64 `json:"dropped_disk_full"`
	DiskFull         bool  `json:"disk_full"`
	// The retention limits; negative: none.
	MaxAge   time.Duration `json:"max_age"`
	MaxBytes int64         `json:"max_bytes"`
}

// Dropped is every event dropped since Open.
func (st Stats) Dropped() int64 { return st.DroppedQueueFull + st.DroppedDiskFull }

// Dropped counts the events dropped since Open (engine/metrics).
func (s *Store) Dropped() int64 { return s.droppedQueue.Load() + s.droppedDisk.Load() }

// Stats reads the journal's figures.
func (s *Store) Stats() (Stats, error) {
	st := Stats{
		Dir: s.dir, Events: s.events.Load(), Bytes: s.bytes.Load(),
		DroppedQueueFull: s.droppedQueue.Load(), DroppedDiskFull: s.droppedDisk.Load(),
		DiskFull: s.diskFull.Load(), MaxAge: s.opts.MaxAge, MaxBytes: s.opts.MaxBytes,
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.dbClosed {
		return st, ErrClosed
	}
	lsm, vlog := s.db.Size()
	st.DiskBytes = lsm + vlog
	err := s.db.View(func(txn *badgerdb.Txn) error {
		for _, reverse := range []bool{false, true} {
			it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: []byte{prefixEvent}, Reverse: reverse})
			seek := []byte{prefixEvent}
			if reverse {
				seek = pastEnd(seek)
			}
			it.Seek(seek)
			if it.Valid() {
				if ts, _, ok := splitTimeSeq(it.Item().Key()[1:]); ok {
					if reverse {
						st.Newest = time.Unix(0, ts)
					} else {
						st.Oldest = time.Unix(0, ts)
					}
				}
			}
			it.Close()
		}
		return nil
	})
	return st, err
}
