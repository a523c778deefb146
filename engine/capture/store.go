package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/cpu"

	"github.com/dgraph-io/badger/v4/options"
	"github.com/iotstudio/iotstudio/engine/kvstore"
	"github.com/iotstudio/iotstudio/engine/message"
)

// Defaults for Options.
const (
	DefaultQueueBytes = 32 << 20
	DefaultSyncEvery  = time.Second
	DefaultMaxBytes   = 1 << 30
	DefaultMaxAge     = 7 * 24 * time.Hour
)

// Tuning that is not an option.
const (
	// blockBytes is the size at which a block is sealed. Larger blocks
	// mean fewer Badger entries per record (the per-topic index has one
	// entry per topic per block) but more memory per block being filled
	// and written.
	blockBytes = 1 << 20
	// blockMaxAge is the longest a record waits in a block being filled
	// before the block is written (and the record becomes queryable).
	blockMaxAge = 100 * time.Millisecond
	// writeBatchBytes is how much the writer gathers before it writes
	// (see writer.writeIfReady).
	writeBatchBytes = 4 << 20
	// segmentBlocks is how many consecutive blocks form a segment: the
	// per-topic index has one entry per topic per segment, and retention
	// deletes whole segments. More blocks per segment mean fewer index
	// entries at high topic counts, but more block directories to search
	// for a rare topic and coarser retention (up to segmentBlocks x
	// blockBytes).
	segmentBlocks = 16
	// segmentSpan bounds a segment's time span as well, so that at low
	// rates age retention stays within an hour of MaxAge.
	segmentSpan = time.Hour

	gcInterval     = 5 * time.Minute // value-log GC period (format 2 blocks only)
	gcDiscardRatio = 0.5             // rewrite a value-log file once half of it is garbage
	retainEvery    = 10 * time.Second
	// retainStep bounds the blocks deleted in one write batch.
	retainStep = 64

	valueLogFileSize = 64 << 20 // the value log holds only format 2 blocks
	memTableSize     = 4 << 20  // Badger memtable; its arena is resident after a burst (see badgerOptions)
	valueThreshold   = 256      // format 2 blocks go to the value log; pointers and index entries stay in the LSM tree
	// maxRecordSize bounds one record (a block holding it gets a block
	// file of its own if it is larger than blockFileBytes).
	maxRecordSize = 64<<20 - blockHeaderLen - 4 - 4096

	// maxKnownTopics bounds the writer's set of topics whose h| entry was
	// already written this session. When it is full it is cleared, which
	// only means some h| entries are written again (same value).
	maxKnownTopics = 1 << 20
	// maxFreeBlocks is how many emptied block buffers are kept for reuse.
	maxFreeBlocks = 8
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
	// ErrFormat means the directory holds a capture written in a format
	// this version cannot read. Nothing is changed.
	ErrFormat = errors.New("capture written in another format")
	// ErrClosed is returned by Query and Stats after Close.
	ErrClosed = errors.New("capture store is closed")
	// ErrNoSpace means the data directory's disk is too full to open the
	// store, or (from Flush and Append) to write: records were dropped.
	ErrNoSpace = kvstore.ErrNoSpace
)

// Options configure a Store. Zero values select the defaults.
type Options struct {
	// QueueBytes bounds the encoded records waiting for the writer, in
	// all lanes together; beyond it Ingest drops. Default 32 MiB: 1.6 s
	// of writer stall (fsync, Badger flushes) at 20,000 msg/s of 1 KB.
	QueueBytes int
	// SyncEvery is how often written records are fsynced. Default 1s.
	SyncEvery time.Duration
	// MaxBytes is the retention budget: the encoded size of the records
	// kept. Once the store holds more, its oldest records are deleted.
	// Negative means no limit. Zero keeps what the store was last given
	// (by Options or SetRetention), or DefaultMaxBytes for a new store;
	// anything else is saved in the store for later Opens.
	MaxBytes int64
	// MaxAge is how long records are kept. Negative means no limit; zero
	// keeps the saved limit, or DefaultMaxAge, like MaxBytes.
	MaxAge time.Duration
	// Logger receives warnings and errors; nil discards them.
	Logger *slog.Logger

	// writerGate, if non-nil, holds the writer back until it is closed
	// (or the Store is closed). Tests use it to fill the queue.
	writerGate <-chan struct{}
	// blockBytes, segmentBlocks and blockFileBytes override the
	// constants (tests).
	blockBytes, segmentBlocks int
	blockFileBytes            int64
	// inlineBlocks writes blocks into Badger as format 2 did (tests of
	// reading a format 2 store).
	inlineBlocks bool
	// lanes overrides the number of live lanes, GOMAXPROCS (tests).
	lanes int
}

func (o Options) withDefaults() Options {
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.SyncEvery <= 0 {
		o.SyncEvery = DefaultSyncEvery
	}
	if o.blockBytes <= 0 {
		o.blockBytes = blockBytes
	}
	if o.segmentBlocks <= 0 {
		o.segmentBlocks = segmentBlocks
	}
	if o.blockFileBytes <= 0 {
		o.blockFileBytes = blockFileBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Stats describes a Store.
type Stats struct {
	// Records is the number of stored records: those of writes that
	// failed (see Failed) are not counted, nor those removed as cut short
	// by a crash (Lost); those in damaged blocks are (see Damaged).
	Records int64
	// Bytes is the encoded size of the stored records: what MaxBytes
	// bounds.
	Bytes int64
	// DiskBytes is the disk space of the block files and of Badger's LSM
	// tables, memtable logs and value log (allocated blocks where the OS
	// reports them). It exceeds Bytes by the index, and by deleted
	// records whose file still holds records that are kept (up to one
	// block file, 32 MiB).
	DiskBytes int64
	// Oldest and Newest are the least and greatest receive times of the
	// stored records; zero when the store is empty.
	Oldest, Newest time.Time
	// Dropped counts records Ingest refused because the queue was full,
	// they were too large (see TooLarge), or the disk was full, since Open.
	Dropped int64
	// DroppedTotal counts them since the store was created or cleared,
	// across runs (as far as the writer saved the count).
	DroppedTotal int64
	// Ingested counts records Ingest and Append accepted since Open.
	Ingested int64
	// Failed counts records that could not be stored since Open (a
	// failed write). Each failure is logged.
	Failed int64
	// Paused is true while Ingest ignores records (see SetPaused).
	Paused bool
	// DiskFull is true while the writer has stopped because the data
	// dir's disk is (nearly) full: records are dropped and counted in
	// Dropped until enough space is freed, and then writing resumes by
	// itself. DiskFree is the free space last measured, DiskNeeded what
	// the last write asked for: its size, what the stores on that disk
	// keep free for Badger (see kvstore.Space), and while stopped a margin.
	DiskFull             bool
	DiskFree, DiskNeeded int64
	// MaxBytes and MaxAge are the retention limits in force (negative:
	// none).
	MaxBytes int64
	MaxAge   time.Duration

	// TooLarge counts records Ingest refused since Open because they
	// exceed MaxRecordBytes encoded; they are counted in Dropped too.
	TooLarge int64
	// TooLargeTotal counts them across runs, like DroppedTotal.
	TooLargeTotal int64
	// Damaged lists the damaged blocks reads found since Open (at most
	// maxDamageReports), oldest seq first; DamagedRecords sums their
	// records.
	Damaged        []Damage
	DamagedRecords int64
	// Lost lists the records that were cut short by a crash at the end of
	// the capture and removed from it when it was opened again (the most
	// recent maxLostReports recoveries), kept across runs.
	Lost []Damage
}

// Store is a persistent record of captured MQTT messages. Ingest never
// blocks: it appends the encoded record to a lane (lane.go), and one
// writer goroutine owned by the Store builds blocks from the lanes and
// writes them to disk. All methods are safe for concurrent use.
type Store struct {
	dir   string
	log   *slog.Logger
	db    *badgerdb.DB
	space *kvstore.Space // guards writes on a full disk
	files *blockFiles    // the blocks' bodies (blockfile.go)
	opts  Options

	lanes    []*lane   // live records, one lane per processor
	imports  *lane     // Append's records
	lanePool sync.Pool // hands out lanes
	laneNext atomic.Uint32
	// Every Ingest reads these; queued is written rarely, the others never
	// after Open. On cache lines of their own, away from the writer's busy
	// fields (nextSeq).
	_       cpu.CacheLinePad
	queued  atomic.Int64 // bytes in the lanes, roughly (see maxQuantum)
	quantum int          // the step in which lanes count into queued
	epoch   time.Time    // the lanes' clock starts here (Open)
	// diskFull: the writer stopped for lack of disk space; Ingest drops.
	diskFull atomic.Bool
	_        cpu.CacheLinePad

	// Set by Open, then the writer's: the next seq, and the greatest Unix
	// second with an m| entry.
	nextSeq uint64
	lastSec int64
	haveSec bool

	closed atomic.Bool
	mu     sync.Mutex    // guards room
	room   chan struct{} // closed (and replaced) when a drain has made queue room

	wake       chan struct{}         // Ingest -> writer: a lane is worth draining
	flushReq   chan chan error       // Flush -> writer
	clearReq   chan chan clearResult // Clear -> writer
	gcKick     chan struct{}         // writer -> GC: retention deleted records
	retainKick chan struct{}         // SetRetention -> writer
	quit       chan struct{}         // closed by Close
	writerDone chan struct{}         // closed when the writer has written everything and exited
	gcDone     chan struct{}         // closed when the GC goroutine has exited
	writerErr  error                 // unreported write errors at writer exit; read after writerDone

	// dbMu: Query/Stats (shared) vs closing Badger and Clear (exclusive).
	dbMu     sync.RWMutex
	dbClosed bool
	closing  atomic.Bool // tells running queries to stop so Close need not wait

	dropped, failed      atomic.Int64
	droppedBase          atomic.Int64 // DroppedTotal - dropped
	bytes                atomic.Int64 // sum of stored block sizes
	paused               atomic.Bool
	maxBytes             atomic.Int64
	maxAge               atomic.Int64 // time.Duration
	dropLog, writeErrLog kvstore.RateLimit
	readErrLog           kvstore.RateLimit

	closeOnce sync.Once
	closeErr  error

	// Integrity (damage.go, recovery.go): records too large to keep, and
	// damage found by reads.
	tooLarge     atomic.Int64
	tooLargeBase atomic.Int64 // TooLargeTotal - tooLarge
	damage       damageLog
	records      atomic.Int64 // Stats.Records: counted at Open, then by the writer and retention
}

// Open opens (creating if needed) the capture database in dir and starts
// the Store's writer and GC goroutines. It never deletes or repairs data.
// The error names dir and wraps ErrLocked, ErrPermission, ErrCorrupt or
// ErrFormat when that is the cause, as well as the underlying error.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	log := opts.Logger.With("component", "capture")
	if dir == "" {
		return nil, errors.New("capture: open: empty data directory")
	}
	db, space, err := kvstore.Open("capture", dir, badgerOptions(dir), log)
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir:        dir,
		log:        log,
		db:         db,
		space:      space,
		opts:       opts,
		room:       make(chan struct{}),
		wake:       make(chan struct{}, 1),
		flushReq:   make(chan chan error),
		clearReq:   make(chan chan clearResult),
		gcKick:     make(chan struct{}, 1),
		retainKick: make(chan struct{}, 1),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
		gcDone:     make(chan struct{}),
	}
	s.epoch = time.Now()
	lanes := opts.lanes
	if lanes <= 0 {
		lanes = runtime.GOMAXPROCS(0)
	}
	s.newLanes(lanes)
	if err := s.load(); err != nil {
		_ = db.Close()
		space.Close()
		if s.files != nil {
			_ = s.files.close()
		}
		if errors.Is(err, ErrFormat) {
			return nil, fmt.Errorf("capture: %s holds %w (nothing was changed; move it aside to start a new capture)", dir, err)
		}
		return nil, kvstore.Classify("capture", dir, err)
	}
	go s.runWriter(newWriter(s))
	go s.gcLoop()
	return s, nil
}

// load checks the format and reads what the writer continues from: the
// next seq, the time index's last second, the stored size and the block
// files.
func (s *Store) load() error {
	refs := make(map[uint32]int)
	var lastPtr blockPtr
	var haveLastPtr bool
	err := s.db.Update(func(txn *badgerdb.Txn) error {
		if err := checkFormat(txn, s.opts.inlineBlocks); err != nil {
			return err
		}
		if item, err := txn.Get(droppedKey); err == nil {
			if err := item.Value(func(v []byte) error {
				if len(v) == 8 {
					s.droppedBase.Store(int64(binary.BigEndian.Uint64(v)))
				}
				return nil
			}); err != nil {
				return fmt.Errorf("read drop count: %w", err)
			}
		}
		if item, err := txn.Get(tooLargeKey); err == nil {
			if err := item.Value(func(v []byte) error {
				n, _ := decodeCount(v)
				s.tooLargeBase.Store(n)
				return nil
			}); err != nil {
				return fmt.Errorf("read too-large count: %w", err)
			}
		}
		if err := s.loadRetention(txn); err != nil {
			return err
		}
		if k, ok := lastKey(txn, prefixSecond); ok && len(k) == secondKeyLen {
			s.lastSec, s.haveSec = secondFromKey(k), true
		}
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixBlock})
		defer it.Close()
		var total int64
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if !isPointerSize(item.ValueSize()) { // inline: no need to read it
				total += item.ValueSize()
				continue
			}
			if err := item.Value(func(v []byte) error {
				total += storedLen(v)
				lastPtr, haveLastPtr = decodeBlockPtr(v)
				if haveLastPtr {
					refs[lastPtr.file]++
				}
				return nil
			}); err != nil {
				return fmt.Errorf("read block index: %w", err)
			}
		}
		s.bytes.Store(total)
		return nil
	})
	if err != nil {
		return err
	}
	if s.files, err = openBlockFiles(s.dir, s.opts.blockFileBytes, refs, lastPtr, haveLastPtr, s.log); err != nil {
		return err
	}
	if err := s.recoverTail(); err != nil {
		return err
	}
	return s.countRecords()
}

// parseStored parses the block a b| value holds or points to. The view
// is valid while the caller holds dbMu and the value is valid.
func (s *Store) parseStored(val []byte) (blockView, error) {
	if p, ok := decodeBlockPtr(val); ok {
		b, err := s.files.view(p)
		if err != nil {
			return blockView{}, err
		}
		v, err := parseBlock(b)
		v.fileNo = p.file
		return v, err
	}
	return parseBlock(val)
}

// checkFormat refuses a store of another format and marks a new one. A
// format 2 store (blocks inline in Badger) or 3 (pointers without
// checksums) is read as it is and marked 4, since blocks written from now
// on go to block files with checksummed pointers.
func checkFormat(txn *badgerdb.Txn, inline bool) error {
	format := byte(storeFormat)
	if inline {
		format = 2
	}
	item, err := txn.Get(formatKey)
	switch {
	case errors.Is(err, badgerdb.ErrKeyNotFound):
		if _, old := lastKey(txn, prefixFormat1); old {
			return fmt.Errorf("%w 1 (this version reads formats 2 to %d)", ErrFormat, storeFormat)
		}
		return txn.Set(formatKey, []byte{format})
	case err != nil:
		return fmt.Errorf("read format: %w", err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("read format: %w", err)
	}
	switch {
	case len(v) == 1 && v[0] == format:
		return nil
	case len(v) == 1 && (v[0] == 2 || v[0] == 3):
		return txn.Set(formatKey, []byte{format})
	}
	return fmt.Errorf("%w %v (this version reads formats 2 to %d)", ErrFormat, v, storeFormat)
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
// files), for an append-mostly store that may grow to many GiB. The sizes
// are the largest: kvstore.Open shrinks the memtable and value-log files
// (down to 1 MiB) to fit the free space of a small disk.
//
// Blocks of records go to block files (blockfile.go), and the LSM tree
// holds only keys, block pointers and the small per-topic index entries,
// so memtables fill slowly, flushes are small and compactions never
// rewrite payloads. Memtables can then be small, which is most of
// Badger's heap (each one is a preallocated arena of ~1.3x MemTableSize).
//
// The price is disk: blocks are not compressed, so compressible payloads
// (JSON telemetry) take about 3x the space they would Snappy-compressed
// in the LSM tree; incompressible payloads take the same. In return the
// writer uses less CPU per record and much less memory (see
// docs/PERFORMANCE.md, "Capture").
func badgerOptions(dir string) badgerdb.Options {
	o := badgerdb.DefaultOptions(dir)
	o.MemTableSize = memTableSize         // caps one txn at 15% (WriteBatch splits)
	o.NumMemtables = 2                    // one active + one being flushed
	o.NumLevelZeroTables = 4              // compact L0 before it holds many small tables
	o.BlockCacheSize = 4 << 20            // required (non-zero) because blocks are Snappy-compressed; holds keys only
	o.IndexCacheSize = 8 << 20            // bound memory for table indexes/blooms as the store grows
	o.ValueLogFileSize = valueLogFileSize // 64 MiB files so GC can reclaim space in small steps
	o.ValueThreshold = valueThreshold     // values of this size or more go to the value log
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

// Ingest copies r into the block being filled, without blocking: the
// caller keeps ownership of what r points to. A zero r.Time is set to the
// current time; r.Seq is ignored (the store assigns it). Ingest returns
// false, and counts a drop, if the queue is full or the record is larger
// than MaxRecordBytes (also counted as too large); it returns false
// without counting while paused or after Close.
func (s *Store) Ingest(r message.Message) bool {
	if s.paused.Load() {
		return false
	}
	if s.diskFull.Load() { // the writer said so when it stopped
		s.dropped.Add(1)
		return false
	}
	switch s.put(&r) {
	case putOK:
		return true
	case putClosed:
		return false
	case putTooLarge:
		s.dropTooLarge(&r)
		return false
	}
	n := s.dropped.Add(1)
	if s.dropLog.Allow() {
		s.log.Warn("capture queue full; message not captured",
			"dir", s.dir, "topic", r.Topic, "dropped_total", n, "queue_bytes", s.opts.QueueBytes)
	}
	return false
}

// SetPaused stops (true) or resumes (false) capturing: while paused,
// Ingest ignores records without counting them as dropped. Append is not
// affected.
func (s *Store) SetPaused(p bool) { s.paused.Store(p) }

// Paused reports whether Ingest ignores records.
func (s *Store) Paused() bool { return s.paused.Load() }

// SetRetention changes the retention limits (see Options.MaxBytes and
// MaxAge: negative means no limit, zero keeps a limit as it is) and saves
// them in the store. The writer applies them at once, and again every
// retainEvery and after Flush.
func (s *Store) SetRetention(maxBytes int64, maxAge time.Duration) {
	if maxBytes != 0 {
		s.maxBytes.Store(maxBytes)
	}
	if maxAge != 0 {
		s.maxAge.Store(int64(maxAge))
	}
	s.dbMu.RLock()
	if !s.dbClosed {
		if err := s.db.Update(s.saveRetention); err != nil && s.writeErrLog.Allow() {
			s.log.Error("capture: cannot save the retention limits; they apply until the app stops", "dir", s.dir, "error", err)
		}
	}
	s.dbMu.RUnlock()
	select {
	case s.retainKick <- struct{}{}:
	default:
	}
}

// loadRetention sets the limits: Options where given, else those saved in
// the store, else the defaults; and saves them if that changed them.
func (s *Store) loadRetention(txn *badgerdb.Txn) error {
	maxBytes, maxAge := int64(DefaultMaxBytes), int64(DefaultMaxAge)
	saved := false
	if item, err := txn.Get(retentionKey); err == nil {
		if err := item.Value(func(v []byte) error {
			if len(v) == 16 {
				maxBytes, maxAge = int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:]))
				saved = true
			}
			return nil
		}); err != nil {
			return fmt.Errorf("read retention limits: %w", err)
		}
	}
	if s.opts.MaxBytes != 0 {
		maxBytes = s.opts.MaxBytes
	}
	if s.opts.MaxAge != 0 {
		maxAge = int64(s.opts.MaxAge)
	}
	s.maxBytes.Store(maxBytes)
	s.maxAge.Store(maxAge)
	if saved && s.opts.MaxBytes == 0 && s.opts.MaxAge == 0 {
		return nil
	}
	return s.saveRetention(txn)
}

func (s *Store) saveRetention(txn *badgerdb.Txn) error {
	v := binary.BigEndian.AppendUint64(nil, uint64(s.maxBytes.Load()))
	v = binary.BigEndian.AppendUint64(v, uint64(s.maxAge.Load()))
	return txn.Set(retentionKey, v)
}

// Append stores r like Ingest but waits for room in the queue instead of
// dropping it; it is for imports, which must lose nothing. r.Time is kept
// as given (zero means now). Records appended one after the other keep
// that order.
func (s *Store) Append(ctx context.Context, r message.Message) error {
	for {
		if s.diskFull.Load() {
			return fmt.Errorf("capture: append to %s: the disk is full (%s free; writing needs %s free): %w",
				s.dir, kvstore.MB(s.space.Free()), kvstore.MB(s.space.Needed()), ErrNoSpace)
		}
		switch s.putLane(s.imports, &r) {
		case putOK:
			return nil
		case putClosed:
			return fmt.Errorf("capture: append to %s: %w", s.dir, ErrClosed)
		case putTooLarge:
			return fmt.Errorf("capture: append to %s: record on topic %q is %d bytes encoded; the limit is %d", s.dir, r.Topic, encodedLen(&r), MaxRecordBytes)
		}
		s.mu.Lock()
		room := s.room
		s.mu.Unlock()
		select {
		case <-room:
		case <-s.quit:
			return fmt.Errorf("capture: append to %s: %w", s.dir, ErrClosed)
		case <-ctx.Done():
			return fmt.Errorf("capture: append to %s: %w", s.dir, ctx.Err())
		}
	}
}

// Dropped returns how many records Ingest refused since Open because the
// queue was full, they were too large or the disk was full.
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

// Clear deletes every stored record and every record still waiting for
// the writer, and returns how many records that was. Seqs continue from
// where they were, so cursors of earlier queries find nothing.
func (s *Store) Clear(ctx context.Context) (int64, error) {
	reply := make(chan clearResult, 1)
	select {
	case s.clearReq <- reply:
	case <-s.writerDone:
		return 0, fmt.Errorf("capture: clear %s: %w", s.dir, ErrClosed)
	case <-ctx.Done():
		return 0, fmt.Errorf("capture: clear %s: %w", s.dir, ctx.Err())
	}
	res := <-reply
	if res.err != nil {
		return 0, fmt.Errorf("capture: clear %s: %w", s.dir, res.err)
	}
	return res.n, nil
}

type clearResult struct {
	n   int64
	err error
}

// Close stops accepting records, writes and syncs everything already
// accepted, stops the writer and GC goroutines and closes Badger. Running
// queries are stopped with ErrClosed. Close is idempotent and safe to call
// from several goroutines; every call returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.closed.Store(true)
		close(s.quit) // the writer writes what was accepted, then exits
		<-s.writerDone
		<-s.gcDone

		s.dbMu.Lock()
		s.dbClosed = true
		closeErr := s.db.Close()
		filesErr := s.files.close()
		s.dbMu.Unlock()
		s.space.Close()

		var errs []error
		if s.writerErr != nil {
			errs = append(errs, fmt.Errorf("write: %w", s.writerErr))
		}
		if closeErr != nil {
			errs = append(errs, fmt.Errorf("close badger: %w", closeErr))
		}
		if filesErr != nil {
			errs = append(errs, filesErr)
		}
		if len(errs) > 0 {
			s.closeErr = fmt.Errorf("capture: close %s: %w", s.dir, errors.Join(errs...))
		}
	})
	return s.closeErr
}

// Stats returns counts, time span and disk use of the store.
func (s *Store) Stats() (Stats, error) {
	st := Stats{
		Bytes:        s.bytes.Load(),
		Dropped:      s.dropped.Load(),
		DroppedTotal: s.droppedBase.Load() + s.dropped.Load(),
		Failed:       s.failed.Load(),
		Paused:       s.paused.Load(),
		DiskFull:     s.diskFull.Load(),
		DiskFree:     s.space.Free(),
		DiskNeeded:   s.space.Needed(),
		MaxBytes:     s.maxBytes.Load(),
		MaxAge:       time.Duration(s.maxAge.Load()),

		TooLarge:      s.tooLarge.Load(),
		TooLargeTotal: s.tooLargeBase.Load() + s.tooLarge.Load(),
	}
	for _, l := range append(s.lanes, s.imports) {
		l.mu.Lock()
		st.Ingested += l.ingested
		l.mu.Unlock()
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.dbClosed {
		return st, fmt.Errorf("capture: stats %s: %w", s.dir, ErrClosed)
	}
	err := s.db.View(func(txn *badgerdb.Txn) error {
		first, ok, err := s.edgeBlock(txn, false)
		if err != nil || !ok {
			return err
		}
		last, _, err := s.edgeBlock(txn, true)
		if err != nil {
			return err
		}
		lo, hi := min(first.minNs, last.minNs), max(first.maxNs, last.maxNs)
		err = s.eachDisorder(txn, func(d disorder) bool {
			lo, hi = min(lo, d.minNs), max(hi, d.maxNs)
			return true
		})
		st.Oldest, st.Newest = time.Unix(0, lo), time.Unix(0, hi)
		return err
	})
	if err == nil {
		err = s.db.View(func(txn *badgerdb.Txn) (err error) {
			st.Lost, err = readLost(txn)
			return err
		})
	}
	if err != nil {
		return st, fmt.Errorf("capture: stats %s: %w", s.dir, err)
	}
	st.DiskBytes = dirDiskBytes(s.dir) + s.files.diskBytes()
	st.Damaged, st.DamagedRecords = s.damage.list() // after the edges were read
	st.Records = s.records.Load()
	return st, nil
}

// blockEdge describes a block without its records.
type blockEdge struct {
	first        uint64
	minNs, maxNs int64
}

// edgeBlock returns the first (or last) readable block.
func (s *Store) edgeBlock(txn *badgerdb.Txn, last bool) (blockEdge, bool, error) {
	it := txn.NewIterator(badgerdb.IteratorOptions{Reverse: last, Prefix: prefixBlock})
	defer it.Close()
	if last {
		it.Seek(blockKey(^uint64(0)))
	} else {
		it.Seek(blockKey(0))
	}
	for ; it.Valid(); it.Next() {
		item := it.Item()
		if len(item.Key()) != blockKeyLen {
			continue
		}
		e := blockEdge{first: seqFromKey(item.Key())}
		var perr error
		err := item.Value(func(val []byte) error {
			b, err := s.parseStored(val)
			e.minNs, e.maxNs, perr = b.minNs, b.maxNs, err
			if isDamage(err) {
				s.noteDamage(s.blockDamage(txn, e.first, val, err), nil)
			}
			return nil
		})
		if err != nil {
			return blockEdge{}, false, fmt.Errorf("read block %d: %w", e.first, err)
		}
		if perr != nil {
			if !isDamage(perr) {
				return blockEdge{}, false, fmt.Errorf("read block %d: %w", e.first, perr)
			}
			continue
		}
		return e, true, nil
	}
	return blockEdge{}, false, nil
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

// gcLoop runs Badger's value-log GC every gcInterval, and after retention
// deleted records, until Close.
func (s *Store) gcLoop() {
	defer close(s.gcDone)
	kvstore.RunGC(s.db, s.space, s.quit, s.gcKick, gcInterval, gcDiscardRatio, s.log)
}

// firstLine drops what follows the first line of err's text: some Badger
// errors append a hex dump of the value.
func firstLine(err error) error {
	if msg, _, cut := strings.Cut(err.Error(), "\n"); cut {
		return errors.New(strings.TrimSpace(msg))
	}
	return err
}
