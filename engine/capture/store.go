package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/dgraph-io/badger/v4/options"
	"github.com/iotstudio/iotstudio/engine/kvstore"
)

// Defaults for Options.
const (
	DefaultQueueSize = 65536
	DefaultSyncEvery = time.Second
	DefaultBatchSize = 1000
	DefaultMaxBytes  = 1 << 30
	DefaultMaxAge    = 7 * 24 * time.Hour
)

// Tuning that is not an option.
const (
	batchMaxWait   = 50 * time.Millisecond // longest a record waits before its batch is written
	gcInterval     = 5 * time.Minute       // value-log GC period
	gcDiscardRatio = 0.5                   // rewrite a value-log file once half of it is garbage

	valueLogFileSize = 64 << 20 // also Badger's limit on one value, so on one encoded record
	memTableSize     = 8 << 20  // Badger memtable; see badgerOptions
	valueThreshold   = 96       // encoded records at least this long go to the value log
	maxRecordSize    = valueLogFileSize

	// maxKnownTopics bounds the writer's set of topics whose h| entry was
	// already written this session. When it is full it is cleared, which
	// only means some h| entries are written again (same value).
	maxKnownTopics = 1 << 20
)

// Errors that Open can return, wrapped together with the directory and the
// underlying cause; test for them with errors.Is.
var (
	// ErrLocked means another process (or another Store in this process)
	// holds the data directory.
	ErrLocked = kvstore.ErrLocked
	// ErrPermission means the data directory cannot be created, read or
	// written by this user.
	ErrPermission = kvstore.ErrPermission
	// ErrCorrupt means Badger found damaged files in the data directory.
	// Nothing is deleted or repaired automatically.
	ErrCorrupt = kvstore.ErrCorrupt
	// ErrClosed is returned by Query and Stats after Close.
	ErrClosed = errors.New("capture store is closed")
)

// Options configure a Store. Zero values select the defaults.
type Options struct {
	// QueueSize is how many records may wait for the writer; beyond it
	// Ingest drops. Default 65536. The queue holds Records by value, so
	// Ingest allocates nothing: 216 bytes per slot (13.5 MiB at the
	// default) plus what queued records point to. The default rides out
	// 3.3 s of writer stall (fsync, Badger flushes) at 20,000 msg/s and
	// absorbs bursts above the writer's rate; a smaller queue saves its
	// slots (and about as much again in GC headroom) but drops sooner.
	QueueSize int
	// SyncEvery is how often written records are fsynced. Default 1s.
	SyncEvery time.Duration
	// BatchSize is the most records per Badger write batch. Default 1000.
	BatchSize int
	// MaxBytes is the retention budget: the encoded size of the records
	// kept. Once the store holds more, its oldest records are deleted.
	// Default DefaultMaxBytes; negative means no limit.
	MaxBytes int64
	// MaxAge is how long records are kept. Default DefaultMaxAge; negative
	// means no limit.
	MaxAge time.Duration
	// Logger receives warnings and errors; nil discards them.
	Logger *slog.Logger

	// writerGate, if non-nil, holds the writer back until it is closed
	// (or the Store is closed). Tests use it to fill the queue.
	writerGate <-chan struct{}
}

func (o Options) withDefaults() Options {
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.SyncEvery <= 0 {
		o.SyncEvery = DefaultSyncEvery
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Stats describes a Store.
type Stats struct {
	// Records is the number of stored records, counted as
	// Newest.Seq-Oldest.Seq+1: seqs are contiguous except where a batch
	// failed to write (see Failed), whose gap is counted.
	Records int64
	// DiskBytes is the disk space of Badger's LSM tables, memtable logs
	// and value log (allocated blocks where the OS reports them).
	DiskBytes int64
	// Oldest and Newest are the receive times of the first and last
	// stored records; zero when the store is empty.
	Oldest, Newest time.Time
	// Dropped counts records Ingest refused because the queue was full,
	// since Open.
	Dropped int64
	// Ingested counts records Ingest accepted since Open.
	Ingested int64
	// Failed counts accepted records the writer could not store since
	// Open (too large for one Badger value, or a failed write; an upper
	// bound when a batch fails part-way). Each failure is logged.
	Failed int64
	// Paused is true while Ingest ignores records (see SetPaused).
	Paused bool
	// MaxBytes and MaxAge are the retention limits in force (negative:
	// none).
	MaxBytes int64
	MaxAge   time.Duration
}

// Store is a persistent, append-only record of captured MQTT messages.
// Ingest never blocks; one writer goroutine owned by the Store writes to
// Badger. All methods are safe for concurrent use.
type Store struct {
	dir  string
	log  *slog.Logger
	db   *badgerdb.DB
	opts Options

	// mu guards closed and the closing of queue. Ingest holds it shared
	// only around a non-blocking send.
	mu     sync.RWMutex
	closed bool
	queue  chan Record

	flushReq   chan chan error // Flush -> writer
	clearReq   chan chan error // Clear -> writer
	quit       chan struct{}   // closed by Close: GC goroutine exits
	writerDone chan struct{}   // closed when the writer has written everything and exited
	gcDone     chan struct{}   // closed when the GC goroutine has exited
	writerErr  error           // unreported write errors at writer exit; read after writerDone

	// dbMu: Query/Stats (shared) vs closing Badger (exclusive).
	dbMu     sync.RWMutex
	dbClosed bool
	closing  atomic.Bool // tells running queries to stop so Close need not wait

	ingested, dropped, failed atomic.Int64
	paused                    atomic.Bool
	maxBytes                  atomic.Int64
	maxAge                    atomic.Int64 // time.Duration
	dropLog, writeErrLog      kvstore.RateLimit
	readErrLog                kvstore.RateLimit

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the capture database in dir and starts
// the Store's writer and GC goroutines. It never deletes or repairs data.
// The error names dir and wraps ErrLocked, ErrPermission or ErrCorrupt when
// that is the cause, as well as the underlying error.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	log := opts.Logger.With("component", "capture")
	if dir == "" {
		return nil, errors.New("capture: open: empty data directory")
	}
	db, err := kvstore.Open("capture", dir, badgerOptions(dir), log)
	if err != nil {
		return nil, err
	}
	w := &writer{known: make(map[uint64]struct{})}
	if err := db.View(func(txn *badgerdb.Txn) error {
		if k, ok := lastKey(txn, prefixRecord); ok && len(k) == recordKeyLen {
			w.nextSeq = seqFromKey(k)
		}
		if k, ok := lastKey(txn, prefixSecond); ok && len(k) == secondKeyLen {
			w.lastSec, w.haveSec = secondFromKey(k), true
		}
		return nil
	}); err != nil {
		_ = db.Close()
		return nil, kvstore.Classify("capture", dir, fmt.Errorf("read last record: %w", err))
	}
	w.nextSeq++ // seqs start at 1

	s := &Store{
		dir:        dir,
		log:        log,
		db:         db,
		opts:       opts,
		queue:      make(chan Record, opts.QueueSize),
		flushReq:   make(chan chan error),
		clearReq:   make(chan chan error),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
		gcDone:     make(chan struct{}),
	}
	s.SetRetention(opts.MaxBytes, opts.MaxAge)
	w.s = s
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	go s.runWriter(w)
	go s.gcLoop()
	return s, nil
}

// lastKey returns a copy of the greatest key with prefix (all our keys
// with a given prefix have the same length, at most len(prefix)+17).
func lastKey(txn *badgerdb.Txn, prefix []byte) ([]byte, bool) {
	it := txn.NewIterator(badgerdb.IteratorOptions{Reverse: true, Prefix: prefix})
	defer it.Close()
	seek := append(append([]byte(nil), prefix...), strings.Repeat("\xff", 17)...)
	it.Seek(seek)
	if !it.Valid() {
		return nil, false
	}
	return it.Item().KeyCopy(nil), true
}

// badgerOptions sizes Badger for a desktop app instead of Badger's server
// defaults (64 MiB memtables x5, 256 MiB block cache, 1 GiB value-log
// files), for an append-mostly store that may grow to many GiB.
//
// Records (all but the tiniest) go to the value log: each is then written
// once, sequentially, and the LSM tree holds only keys and 12-byte value
// pointers, so memtables fill slowly, flushes are small and compactions
// never rewrite payloads. Memtables can then be small, which is most of
// Badger's heap (each one is a preallocated arena of ~1.3x MemTableSize).
// Stores written with the earlier settings (values inline up to 4 KiB)
// read the same: Badger resolves each value where it was written.
//
// The price is disk: the value log is not compressed, so compressible
// payloads (JSON telemetry) take about 3x the space they took Snappy-
// compressed in the LSM tree (measured: 200,000 records of ~230-byte JSON,
// 57 MB against 19 MB); incompressible payloads take the same. In return
// the writer uses less CPU per record and the capture adds about a third
// of the heap it did (see docs/PERFORMANCE.md, "Capture").
func badgerOptions(dir string) badgerdb.Options {
	o := badgerdb.DefaultOptions(dir)
	o.MemTableSize = memTableSize         // caps one txn at 15% (WriteBatch splits)
	o.NumMemtables = 2                    // one active + one being flushed
	o.NumLevelZeroTables = 4              // compact L0 before it holds many small tables
	o.BlockCacheSize = 4 << 20            // required (non-zero) because blocks are Snappy-compressed; holds keys only
	o.IndexCacheSize = 8 << 20            // bound memory for table indexes/blooms as the store grows
	o.ValueLogFileSize = valueLogFileSize // 64 MiB files so GC can reclaim space in small steps
	o.ValueThreshold = valueThreshold     // records of this size or more go to the value log
	o.NumVersionsToKeep = 1               // records are never updated; keep no history
	o.NumCompactors = 2                   // Badger's minimum for a working L0 compactor
	o.SyncWrites = false                  // the writer calls db.Sync every SyncEvery and on Flush
	o.DetectConflicts = false             // single writer: conflict tracking is pure overhead
	o.MetricsEnabled = false
	o.Compression = options.Snappy
	if badgerOptionsForTest != nil {
		badgerOptionsForTest(&o)
	}
	return o
}

// badgerOptionsForTest, if set, adjusts badgerOptions (tests only).
var badgerOptionsForTest func(*badgerdb.Options)

// Dir returns the data directory the Store was opened on.
func (s *Store) Dir() string { return s.dir }

// Ingest hands r to the writer without blocking and without copying what
// r points to: the caller gives up ownership of r.Payload, r.UserProps and
// the other slices and must not modify them afterwards. A zero r.Time is
// set to the current time; r.Seq is ignored (the writer assigns it).
// Ingest returns false, and counts a drop, if the queue is full; it
// returns false without counting after Close.
func (s *Store) Ingest(r Record) bool {
	if s.paused.Load() {
		return false
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return false
	}
	select {
	case s.queue <- r:
		s.mu.RUnlock()
		s.ingested.Add(1)
		return true
	default:
	}
	s.mu.RUnlock()
	n := s.dropped.Add(1)
	if s.dropLog.Allow() {
		s.log.Warn("capture queue full; message not captured",
			"dir", s.dir, "topic", r.Topic, "dropped_total", n, "queue_capacity", cap(s.queue))
	}
	return false
}

// SetPaused stops (true) or resumes (false) capturing: while paused,
// Ingest ignores records without counting them as dropped. Append is not
// affected.
func (s *Store) SetPaused(p bool) { s.paused.Store(p) }

// SetRetention changes the retention limits (see Options.MaxBytes and
// MaxAge; 0 selects the default, negative means no limit).
func (s *Store) SetRetention(maxBytes int64, maxAge time.Duration) {
	o := Options{MaxBytes: maxBytes, MaxAge: maxAge}.withDefaults()
	s.maxBytes.Store(o.MaxBytes)
	s.maxAge.Store(int64(o.MaxAge))
}

// Paused reports whether Ingest ignores records.
func (s *Store) Paused() bool { return s.paused.Load() }

// Append stores r like Ingest but waits for room in the queue instead of
// dropping it; it is for imports, which must lose nothing. r.Time is kept
// as given (zero means now).
func (s *Store) Append(ctx context.Context, r Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("capture: append to %s: %w", s.dir, ErrClosed)
	}
	select {
	case s.queue <- r:
		s.ingested.Add(1)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("capture: append to %s: %w", s.dir, ctx.Err())
	}
}

// Dropped returns how many records Ingest refused because the queue was
// full since Open.
func (s *Store) Dropped() int64 { return s.dropped.Load() }

// Flush waits until every record ingested before the call has been written
// to Badger and synced to disk, and returns the write errors seen since the
// previous Flush. After Close it returns Close's write errors, if any.
func (s *Store) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case s.flushReq <- reply:
	case <-s.writerDone: // closed: Close wrote and synced everything
		if s.writerErr != nil {
			return fmt.Errorf("capture: flush %s: %w", s.dir, s.writerErr)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("capture: flush %s: %w", s.dir, ctx.Err())
	}
	select {
	case err := <-reply:
		if err != nil {
			return fmt.Errorf("capture: flush %s: %w", s.dir, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("capture: flush %s: %w", s.dir, ctx.Err())
	}
}

// Close stops accepting records, writes and syncs everything already
// queued, stops the writer and GC goroutines and closes Badger. Running
// queries are stopped with ErrClosed. Close is idempotent and safe to call
// from several goroutines; every call returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.mu.Lock()
		s.closed = true
		close(s.queue) // the writer drains what is buffered, then exits
		s.mu.Unlock()
		close(s.quit)
		<-s.writerDone
		<-s.gcDone

		s.dbMu.Lock()
		s.dbClosed = true
		closeErr := s.db.Close()
		s.dbMu.Unlock()

		var errs []error
		if s.writerErr != nil {
			errs = append(errs, fmt.Errorf("write: %w", s.writerErr))
		}
		if closeErr != nil {
			errs = append(errs, fmt.Errorf("close badger: %w", closeErr))
		}
		if len(errs) > 0 {
			s.closeErr = fmt.Errorf("capture: close %s: %w", s.dir, errors.Join(errs...))
		}
	})
	return s.closeErr
}

// Clear deletes every stored record and every record still waiting for
// the writer, and returns how many records the store held. Seqs continue
// from where they were, so cursors of earlier queries find nothing.
func (s *Store) Clear(ctx context.Context) (int64, error) {
	st, err := s.Stats()
	if err != nil {
		return 0, err
	}
	queued := int64(len(s.queue))
	reply := make(chan error, 1)
	select {
	case s.clearReq <- reply:
	case <-s.writerDone:
		return 0, fmt.Errorf("capture: clear %s: %w", s.dir, ErrClosed)
	case <-ctx.Done():
		return 0, fmt.Errorf("capture: clear %s: %w", s.dir, ctx.Err())
	}
	if err := <-reply; err != nil {
		return 0, fmt.Errorf("capture: clear %s: %w", s.dir, err)
	}
	return st.Records + queued, nil
}

// Stats returns counts, time span and disk use of the store.
func (s *Store) Stats() (Stats, error) {
	st := Stats{
		Dropped:  s.dropped.Load(),
		Ingested: s.ingested.Load(),
		Failed:   s.failed.Load(),
		Paused:   s.paused.Load(),
		MaxBytes: s.maxBytes.Load(),
		MaxAge:   time.Duration(s.maxAge.Load()),
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.dbClosed {
		return st, fmt.Errorf("capture: stats %s: %w", s.dir, ErrClosed)
	}
	err := s.db.View(func(txn *badgerdb.Txn) error {
		first, ok, err := s.edgeRecord(txn, false)
		if err != nil || !ok {
			return err
		}
		last, _, err := s.edgeRecord(txn, true)
		if err != nil {
			return err
		}
		st.Oldest, st.Newest = first.time, last.time
		if last.seq >= first.seq {
			st.Records = int64(last.seq - first.seq + 1)
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("capture: stats %s: %w", s.dir, err)
	}
	st.DiskBytes = dirDiskBytes(s.dir)
	return st, nil
}

type edge struct {
	seq  uint64
	time time.Time
}

// edgeRecord returns the seq and time of the first (or last) record.
func (s *Store) edgeRecord(txn *badgerdb.Txn, last bool) (edge, bool, error) {
	it := txn.NewIterator(badgerdb.IteratorOptions{Reverse: last, Prefix: prefixRecord})
	defer it.Close()
	if last {
		it.Seek(recordKey(^uint64(0)))
	} else {
		it.Seek(recordKey(0))
	}
	for ; it.Valid(); it.Next() {
		item := it.Item()
		if len(item.Key()) != recordKeyLen {
			continue
		}
		e := edge{seq: seqFromKey(item.Key())}
		var perr error
		err := item.Value(func(val []byte) error {
			v, err := parseRecord(val)
			if err != nil {
				perr = err
				return nil
			}
			e.time = time.Unix(0, v.timeNs)
			return nil
		})
		if err != nil {
			return edge{}, false, fmt.Errorf("read record %d: %w", e.seq, err)
		}
		if perr != nil {
			s.logCorrupt(e.seq, perr)
			continue
		}
		return e, true, nil
	}
	return edge{}, false, nil
}

func (s *Store) logCorrupt(seq uint64, err error) {
	if s.readErrLog.Allow() {
		s.log.Warn("skipping unreadable capture record", "dir", s.dir, "seq", seq, "error", err)
	}
}

// dirDiskBytes sums the disk use of Badger's data files in dir.
func dirDiskBytes(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".sst", ".vlog", ".mem":
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
				n += diskUsage(info)
			}
		}
	}
	return n
}

// writer is the state of the writer goroutine; only that goroutine uses it
// (and Open, before starting it).
type writer struct {
	s       *Store
	wb      *badgerdb.WriteBatch // current batch; nil when empty
	n       int                  // records in wb
	nextSeq uint64
	lastSec int64 // greatest Unix second with an m| entry
	haveSec bool
	known   map[uint64]struct{} // topic hashes whose h| entry is written
	dirty   bool                // written since the last Sync
	errs    kvstore.ErrTally
	timer   *time.Timer
	timerC  <-chan time.Time // nil while wb is nil
	buf     batchBuf         // keys and values of wb's records
	entries entryBuf         // wb's entries
}

// set adds k=v to the current batch, like WriteBatch.Set but with an
// Entry from the batch's reused entries.
func (w *writer) set(k, v []byte) error {
	e := w.entries.next()
	e.Key, e.Value = k, v
	return w.wb.SetEntry(e)
}

const entryChunk = 512

// entryBuf hands out Badger entries from chunks reused from batch to
// batch, like batchBuf (WriteBatch.Set allocates one per key).
type entryBuf struct {
	chunks [][]badgerdb.Entry // chunks[:cur+1] are in use
	cur    int
	n      int // entries used in chunks[cur]
}

func (a *entryBuf) next() *badgerdb.Entry {
	if len(a.chunks) == 0 {
		a.chunks = append(a.chunks, make([]badgerdb.Entry, entryChunk))
	}
	if a.n == entryChunk {
		a.cur, a.n = a.cur+1, 0
		if a.cur == len(a.chunks) {
			a.chunks = append(a.chunks, make([]badgerdb.Entry, entryChunk))
		}
	}
	e := &a.chunks[a.cur][a.n]
	a.n++
	return e
}

// reset zeroes the used entries (Badger may have pointed them at its own
// buffers) and makes them reusable, keeping at most maxKeptChunks chunks.
func (a *entryBuf) reset() {
	for i := 0; i < len(a.chunks) && i <= a.cur; i++ {
		if i < a.cur {
			clear(a.chunks[i])
		} else {
			clear(a.chunks[i][:a.n])
		}
	}
	if len(a.chunks) > maxKeptChunks {
		clear(a.chunks[maxKeptChunks:])
		a.chunks = a.chunks[:maxKeptChunks]
	}
	a.cur, a.n = 0, 0
}

// Chunks of a batchBuf.
const (
	chunkSize     = 256 << 10
	maxChunkAlloc = chunkSize / 4 // larger pieces get their own allocation
	maxKeptChunks = 8             // at most 2 MiB stays allocated between batches
)

// batchBuf hands out the memory for one batch's keys and values from a few
// chunks that are reused from batch to batch, so that encoding a record
// costs no allocation. Badger references the pieces until the batch is
// written; reset may be called only after WriteBatch.Flush or Cancel
// returned (both wait for every commit of the batch).
type batchBuf struct {
	chunks [][]byte // chunks[:cur+1] are in use
	cur    int
	off    int // bytes used in chunks[cur]
}

// alloc returns n bytes (of unspecified content) with capacity n.
func (a *batchBuf) alloc(n int) []byte {
	if n > maxChunkAlloc {
		return make([]byte, n)
	}
	if len(a.chunks) == 0 {
		a.chunks = append(a.chunks, make([]byte, chunkSize))
	}
	if a.off+n > chunkSize {
		a.cur, a.off = a.cur+1, 0
		if a.cur == len(a.chunks) {
			a.chunks = append(a.chunks, make([]byte, chunkSize))
		}
	}
	b := a.chunks[a.cur][a.off : a.off+n : a.off+n]
	a.off += n
	return b
}

// reset makes every chunk reusable, keeping at most maxKeptChunks.
func (a *batchBuf) reset() {
	if len(a.chunks) > maxKeptChunks {
		clear(a.chunks[maxKeptChunks:])
		a.chunks = a.chunks[:maxKeptChunks]
	}
	a.cur, a.off = 0, 0
}

// runWriter is the only goroutine that writes to Badger. It writes a batch
// when it holds BatchSize records, when its oldest record is batchMaxWait
// old, on Flush and on Close, and syncs every SyncEvery.
func (s *Store) runWriter(w *writer) {
	defer close(s.writerDone)
	defer w.timer.Stop()
	if gate := s.opts.writerGate; gate != nil {
		select {
		case <-gate:
		case <-s.quit:
		}
	}
	syncTick := time.NewTicker(s.opts.SyncEvery)
	defer syncTick.Stop()
	for {
		select {
		case r, ok := <-s.queue:
			if !ok {
				w.commit()
				w.sync()
				s.writerErr = w.errs.Take()
				return
			}
			w.add(&r)
		case <-w.timerC:
			w.commit()
		case <-syncTick.C:
			w.sync()
		case reply := <-s.flushReq:
			// Everything ingested before Flush was called is among the
			// len(s.queue) records buffered right now (FIFO).
			for i, k := 0, len(s.queue); i < k; i++ {
				r, ok := <-s.queue
				if !ok {
					break
				}
				w.add(&r)
			}
			w.commit()
			w.sync()
			reply <- w.errs.Take()
		case reply := <-s.clearReq:
			reply <- w.clear()
		}
	}
}

// add assigns r the next seq and adds its entries to the current batch.
func (w *writer) add(r *Record) {
	size := encodedLen(r)
	if size > maxRecordSize {
		w.reject(r, fmt.Errorf("record is %d bytes encoded; the limit is %d", size, maxRecordSize))
		return
	}
	if w.wb == nil {
		w.wb = w.s.db.NewWriteBatch()
		w.n = 0
		w.timer.Reset(batchMaxWait)
		w.timerC = w.timer.C
	}
	seq := w.nextSeq
	hash := topicHash(r.Topic)
	// Both keys and the value in one piece of the batch's buffer; Badger
	// keeps references to them until the batch is written.
	buf := w.buf.alloc(recordKeyLen + topicKeyLen + size)
	rkey := buf[:recordKeyLen:recordKeyLen]
	tkey := buf[recordKeyLen : recordKeyLen+topicKeyLen : recordKeyLen+topicKeyLen]
	putRecordKey(rkey, seq)
	putTopicKey(tkey, hash, seq)
	val := appendRecord(buf[recordKeyLen+topicKeyLen:recordKeyLen+topicKeyLen], r)

	if err := w.set(rkey, val); err != nil {
		if w.wb.Error() == nil { // Badger refused this record alone
			w.reject(r, err)
			return
		}
		w.s.failed.Add(1)
		w.abort(err)
		return
	}
	w.nextSeq++
	w.n++
	if err := w.set(tkey, nil); err != nil {
		w.abort(err)
		return
	}
	if _, ok := w.known[hash]; !ok {
		if len(w.known) >= maxKnownTopics {
			clear(w.known)
		}
		if err := w.set(hashKey(hash), []byte(r.Topic)); err != nil {
			w.abort(err)
			return
		}
		w.known[hash] = struct{}{}
	}
	if sec := r.Time.Unix(); !w.haveSec || sec > w.lastSec {
		if err := w.set(secondKey(sec), binary.BigEndian.AppendUint64(nil, seq)); err != nil {
			w.abort(err)
			return
		}
		w.lastSec, w.haveSec = sec, true
	}
	if w.n >= w.s.opts.BatchSize {
		w.commit()
	}
}

// clear deletes every record: those written and those still queued.
func (w *writer) clear() error {
	if w.wb != nil {
		w.wb.Cancel()
		w.endBatch()
	}
	for i, k := 0, len(w.s.queue); i < k; i++ {
		if _, ok := <-w.s.queue; !ok {
			break
		}
	}
	clear(w.known)
	w.haveSec = false
	w.dirty = false
	// DropAll must not race queries: they hold dbMu shared.
	w.s.dbMu.Lock()
	defer w.s.dbMu.Unlock()
	return w.s.db.DropAll()
}

// reject counts and logs a record that cannot be stored; it used no seq.
func (w *writer) reject(r *Record, err error) {
	w.s.failed.Add(1)
	err = fmt.Errorf("record on topic %q from %q not stored: %w", r.Topic, r.ClientID, firstLine(err))
	w.errs.Add(err)
	if w.s.writeErrLog.Allow() {
		w.s.log.Error("capture write failed", "dir", w.s.dir, "error", err)
	}
}

// abort gives up the current batch after Badger failed it.
func (w *writer) abort(err error) {
	w.s.failed.Add(int64(w.n))
	w.wb.Cancel()
	w.endBatch()
	w.batchFailed(err)
}

// commit writes the current batch.
func (w *writer) commit() {
	if w.wb == nil {
		return
	}
	wb, n := w.wb, w.n
	err := wb.Flush()
	if err != nil {
		wb.Cancel() // waits for any commit still in flight
	}
	w.endBatch() // only now may the batch's buffer be reused
	if err != nil {
		w.s.failed.Add(int64(n))
		w.batchFailed(err)
		return
	}
	w.dirty = true
}

// endBatch forgets the current batch, which must have been flushed or
// cancelled.
func (w *writer) endBatch() {
	w.wb, w.n = nil, 0
	w.buf.reset()
	w.entries.reset()
	w.timer.Stop()
	w.timerC = nil
}

func (w *writer) batchFailed(err error) {
	clear(w.known) // their h| entries may not have been written
	w.dirty = true // part of the batch may have been
	err = fmt.Errorf("write batch: %w", firstLine(err))
	w.errs.Add(err)
	if w.s.writeErrLog.Allow() {
		w.s.log.Error("capture write failed", "dir", w.s.dir, "error", err)
	}
}

func (w *writer) sync() {
	if !w.dirty {
		return
	}
	w.dirty = false
	if err := w.s.db.Sync(); err != nil {
		err = fmt.Errorf("sync: %w", err)
		w.errs.Add(err)
		if w.s.writeErrLog.Allow() {
			w.s.log.Error("capture sync failed", "dir", w.s.dir, "error", err)
		}
	}
}

// firstLine drops what follows the first line of err's text: some Badger
// errors append a hex dump of the value.
func firstLine(err error) error {
	if msg, _, cut := strings.Cut(err.Error(), "\n"); cut {
		return errors.New(strings.TrimSpace(msg))
	}
	return err
}

// gcLoop runs Badger's value-log GC every gcInterval until Close.
func (s *Store) gcLoop() {
	defer close(s.gcDone)
	kvstore.RunGC(s.db, s.quit, gcInterval, gcDiscardRatio, s.log)
}
