package sessionstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/dgraph-io/badger/v4/options"
	"github.com/iotstudio/iotstudio/engine/kvstore"
	mqtt "github.com/mochi-mqtt/server/v2"
)

// Tuning.
const (
	queueCapacity  = 65536                 // changes waiting for the writer; beyond this they are dropped
	batchMaxOps    = 1000                  // changes per Badger write batch
	batchMaxWait   = 50 * time.Millisecond // longest a change waits before its batch is written
	gcInterval     = 5 * time.Minute       // value-log GC period
	gcDiscardRatio = 0.5                   // rewrite a value-log file once half of it is garbage
	// While the disk is full the writer holds the changes it cannot write,
	// coalesced per key, up to heldMaxBytes of values (new keys beyond
	// that are dropped and counted), and tries again every diskRetry.
	heldMaxBytes = 4 << 20
	diskRetry    = 250 * time.Millisecond
	// chunkBytes bounds the changes written per Badger write batch (one
	// change may exceed it), so that a large batch can be written in
	// pieces onto a nearly full disk.
	chunkBytes = 1 << 20
)

// Errors that Open can return, wrapped together with the directory and the
// underlying cause; test for them with errors.Is.
var (
	// ErrLocked means another process (or another Hook in this process)
	// holds the data directory.
	ErrLocked = kvstore.ErrLocked
	// ErrPermission means the data directory cannot be created, read or
	// written by this user.
	ErrPermission = kvstore.ErrPermission
	// ErrCorrupt means Badger found damaged files in the data directory.
	// Nothing is deleted or repaired automatically.
	ErrCorrupt = kvstore.ErrCorrupt
	// ErrStopped is returned by calls made after Stop.
	ErrStopped = errors.New("session store is stopped")
	// ErrNoSpace means the disk is too full to open the store, or (from
	// Flush and Stop) to write the changes made since.
	ErrNoSpace = kvstore.ErrNoSpace
)

// op is one queued change: set key to val, or delete key.
type op struct {
	key string
	val []byte
	del bool
}

// Hook is a mochi-mqtt storage hook that persists broker state to Badger
// without ever making the broker wait for the disk. Create it with Open,
// register it with (*mqtt.Server).AddHook; the server's Close calls Stop.
// A Hook cannot be restarted: open a new one on the same directory instead.
type Hook struct {
	mqtt.HookBase

	dir   string
	log   *slog.Logger
	db    *badgerdb.DB
	space *kvstore.Space // guards writes on a full disk

	// mu guards stopped and the closing of ops. Enqueuers hold it shared
	// only around a non-blocking send, so it is never held across I/O.
	mu      sync.RWMutex
	stopped bool
	ops     chan *op

	flushReq   chan chan error // Flush -> writer
	quit       chan struct{}   // closed by Stop: GC goroutine exits
	writerDone chan struct{}   // closed when the writer has written everything and exited
	gcDone     chan struct{}   // closed when the GC goroutine has exited
	writerErr  error           // unreported write errors at writer exit; read after writerDone

	dbMu sync.RWMutex // Stored* (shared) vs closing the DB (exclusive)

	dropped     atomic.Int64
	commits     atomic.Int64 // batches written to Badger
	diskFull    atomic.Bool  // the writer holds changes until space is freed
	dropLog     kvstore.RateLimit
	writeErrLog kvstore.RateLimit

	stopOnce sync.Once
	stopErr  error
}

// Open opens (creating if needed) the Badger database in dir and starts the
// Hook's writer and GC goroutines. log may be nil. The returned error names
// dir and wraps ErrLocked, ErrPermission or ErrCorrupt when that is the
// cause, as well as the underlying error.
func Open(dir string, log *slog.Logger) (*Hook, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "sessionstore")
	if dir == "" {
		return nil, errors.New("sessionstore: open: empty data directory")
	}

	db, space, err := kvstore.Open("sessionstore", dir, badgerOptions(dir), log)
	if err != nil {
		return nil, err
	}

	h := &Hook{
		dir:        dir,
		log:        log,
		db:         db,
		space:      space,
		ops:        make(chan *op, queueCapacity),
		flushReq:   make(chan chan error),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
		gcDone:     make(chan struct{}),
	}
	go h.writer()
	go h.gcLoop()
	return h, nil
}

// badgerOptions sizes Badger for a desktop app holding at most a few
// thousand small records, instead of Badger's server defaults (64 MiB
// memtables x5, 256 MiB block cache, 1 GiB value-log files). The sizes are
// the largest: kvstore.Open shrinks the memtable and value-log files (down
// to 1 MiB) to fit the free space of a small disk.
func badgerOptions(dir string) badgerdb.Options {
	o := badgerdb.DefaultOptions(dir)
	o.MemTableSize = 8 << 20      // 8 MiB; also caps one txn at 15% = 1.2 MiB
	o.NumMemtables = 2            // one active + one being flushed
	o.BlockCacheSize = 8 << 20    // required (non-zero) because blocks are Snappy-compressed
	o.IndexCacheSize = 0          // 0 = keep the (tiny) table indexes in memory, no extra cache
	o.ValueLogFileSize = 16 << 20 // 16 MiB files so GC can reclaim space in small steps
	o.ValueThreshold = 64 << 10   // records >64 KiB (large payloads) go to the value log
	o.NumCompactors = 2           // Badger's minimum for a working L0 compactor
	o.SyncWrites = false          // batches are asynchronous anyway; the OS flushes
	o.DetectConflicts = false     // single writer: conflict tracking is pure overhead
	o.MetricsEnabled = false
	o.Compression = options.Snappy
	return o
}

// Dir returns the data directory the Hook was opened on.
func (h *Hook) Dir() string { return h.dir }

// Dropped returns how many changes were discarded because the write queue
// was full, or because the disk was full and too many changes were held.
// Any non-zero value means the store may be behind the broker until the
// affected records are written again.
func (h *Hook) Dropped() int64 { return h.dropped.Load() }

// DiskFull reports whether the writer has stopped writing because the
// disk is (nearly) full. It holds changes in memory meanwhile (see
// heldMaxBytes) and resumes by itself once space is freed.
func (h *Hook) DiskFull() bool { return h.diskFull.Load() }

// enqueue hands one change to the writer without blocking.
func (h *Hook) enqueue(o *op) {
	h.mu.RLock()
	if h.stopped {
		h.mu.RUnlock()
		// mochi disconnects clients while it stops hooks; their last
		// updates can arrive after Stop. Nothing can be written any more.
		h.log.Debug("change after stop discarded", "key", o.key)
		return
	}
	select {
	case h.ops <- o:
		h.mu.RUnlock()
		return
	default:
	}
	h.mu.RUnlock()
	h.drop(o, fmt.Sprintf("write queue full (%d changes)", cap(h.ops)))
}

func (h *Hook) set(key string, v interface{ MarshalBinary() ([]byte, error) }) {
	data, err := v.MarshalBinary()
	if err != nil {
		h.log.Error("cannot encode record; not stored", "key", key, "error", err)
		return
	}
	h.enqueue(&op{key: key, val: data})
}

func (h *Hook) del(key string) { h.enqueue(&op{key: key, del: true}) }

// Commits returns how many batches the writer has written to Badger. Compared
// with the number of messages that waited for Flush it measures how well
// concurrent Flush calls share one write.
func (h *Hook) Commits() int64 { return h.commits.Load() }

// Flush waits until every change queued before the call has been written to
// Badger, and returns the write errors seen since the previous Flush. After
// Stop it waits for Stop's final write and returns its error.
//
// Written means in Badger's write-ahead log, which lives in the OS page
// cache: it survives the process being killed, not a power cut (Badger runs
// without SyncWrites). Concurrent calls are group-committed: every Flush
// waiting when the writer gets to them shares one batch, so the cost is one
// write per writer round trip, not one per caller.
func (h *Hook) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case h.flushReq <- reply:
	case <-h.writerDone: // stopped: Stop wrote everything
		if h.writerErr != nil {
			return fmt.Errorf("sessionstore: flush %s: %w", h.dir, h.writerErr)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sessionstore: flush %s: %w", h.dir, ctx.Err())
	}
	select {
	case err := <-reply:
		if err != nil {
			return fmt.Errorf("sessionstore: flush %s: %w", h.dir, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sessionstore: flush %s: %w", h.dir, ctx.Err())
	}
}

// Stop stops accepting changes, writes everything already queued, stops the
// GC goroutine and closes Badger. It is safe to call more than once and
// from several goroutines; every call returns the first call's result.
// mochi calls it from (*mqtt.Server).Close.
func (h *Hook) Stop() error {
	h.stopOnce.Do(func() {
		h.mu.Lock()
		h.stopped = true
		close(h.ops) // the writer drains what is buffered, then exits
		h.mu.Unlock()
		close(h.quit)
		<-h.writerDone
		<-h.gcDone

		h.dbMu.Lock()
		closeErr := h.db.Close()
		h.dbMu.Unlock()
		h.space.Close()

		var errs []error
		if h.writerErr != nil {
			errs = append(errs, fmt.Errorf("write: %w", h.writerErr))
		}
		if closeErr != nil {
			errs = append(errs, fmt.Errorf("close badger: %w", closeErr))
		}
		if len(errs) > 0 {
			h.stopErr = fmt.Errorf("sessionstore: stop %s: %w", h.dir, errors.Join(errs...))
		}
	})
	return h.stopErr
}

// writer is the only goroutine that writes to Badger. It coalesces changes
// per key within a batch (last change wins, which preserves per-key order)
// and writes a batch when it holds batchMaxOps changes, when its oldest
// change is batchMaxWait old, on Flush, and when the queue is closed. While
// the disk is full it holds the batch (see heldMaxBytes) and tries again
// every diskRetry.
func (h *Hook) writer() {
	defer close(h.writerDone)

	b := batch{pending: make(map[string]*op)}
	var errs kvstore.ErrTally

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var timerC <-chan time.Time // nil while nothing waits

	commit := func() {
		if b.n == 0 {
			return
		}
		timer.Stop()
		timerC = nil
		for len(b.pending) > 0 {
			chunk, size := b.chunk(chunkBytes)
			if !h.room(size) {
				timer.Reset(diskRetry)
				timerC = timer.C
				return
			}
			errs.Add(h.writeBatch(chunk))
			h.commits.Add(1)
			b.remove(chunk)
		}
		b.reset()
	}
	add := func(o *op) {
		if h.diskFull.Load() && !b.holds(o) {
			h.drop(o, "disk full and too many changes held")
			return
		}
		b.add(o)
		if b.n == 1 && timerC == nil {
			timer.Reset(batchMaxWait)
			timerC = timer.C
		}
		if b.n >= batchMaxOps && !h.diskFull.Load() {
			commit()
		}
	}

	for {
		select {
		case o, ok := <-h.ops:
			if !ok {
				commit()
				if len(b.pending) > 0 {
					errs.Add(h.heldError(len(b.pending)))
				}
				h.writerErr = errs.Take()
				return
			}
			add(o)
		case <-timerC:
			commit()
		case reply := <-h.flushReq:
			replies := h.gatherFlushes(reply)
			// Everything queued before each gathered Flush was called is
			// among the len(h.ops) changes buffered right now (FIFO): each
			// caller queued its changes before asking.
			for i, k := 0, len(h.ops); i < k; i++ {
				o, ok := <-h.ops
				if !ok {
					break
				}
				add(o)
			}
			commit()
			if len(b.pending) > 0 {
				errs.Add(h.heldError(len(b.pending)))
			}
			err := errs.Take()
			for _, r := range replies {
				r <- err
			}
		}
	}
}

// gatherFlushes collects, without waiting, the Flush calls queued behind
// first, so that one batch answers them all.
func (h *Hook) gatherFlushes(first chan error) []chan error {
	replies := []chan error{first}
	for {
		select {
		case r := <-h.flushReq:
			replies = append(replies, r)
		default:
			return replies
		}
	}
}

// batch is the writer's changes not yet written, coalesced per key.
type batch struct {
	pending map[string]*op
	n       int   // changes added, before coalescing
	bytes   int64 // keys and values in pending
}

func (b *batch) add(o *op) {
	if old, ok := b.pending[o.key]; ok {
		b.bytes -= int64(len(old.key) + len(old.val))
	}
	b.pending[o.key] = o
	b.bytes += int64(len(o.key) + len(o.val))
	b.n++
}

// holds reports whether o may join a batch held for a full disk: a delete
// or a change of a held key makes it no larger than a new value would, and
// new values fit up to heldMaxBytes.
func (b *batch) holds(o *op) bool {
	_, had := b.pending[o.key]
	return o.del || had || b.bytes+int64(len(o.key)+len(o.val)) <= heldMaxBytes
}

// chunk returns pending changes of about limit bytes (at least one) and
// about what writing them takes on disk: their keys and values, plus
// Badger's entry headers and pointers.
func (b *batch) chunk(limit int64) ([]*op, int64) {
	var ops []*op
	var size int64
	for _, o := range b.pending {
		n := int64(len(o.key)+len(o.val)) + 64
		if len(ops) > 0 && size+n > limit {
			break
		}
		ops = append(ops, o)
		size += n
	}
	return ops, size
}

// remove forgets written changes.
func (b *batch) remove(ops []*op) {
	for _, o := range ops {
		delete(b.pending, o.key)
		b.bytes -= int64(len(o.key) + len(o.val))
	}
}

func (b *batch) reset() {
	clear(b.pending)
	b.n, b.bytes = 0, 0
}

// room reports whether the disk has room for n more bytes, and says so in
// the log when writing stops or resumes for that reason.
func (h *Hook) room(n int64) bool {
	ok := h.space.Room(n)
	if ok != h.diskFull.Load() {
		return ok
	}
	h.diskFull.Store(!ok)
	if ok {
		h.log.Info("session store writes again: disk space was freed", "dir", h.dir, "free", kvstore.MB(h.space.Free()))
	} else {
		h.log.Error("session store stopped writing: the disk is full; changes are held in memory and written once space is freed (beyond "+
			kvstore.MB(heldMaxBytes)+" new ones are dropped and counted)",
			"dir", h.dir, "free", kvstore.MB(h.space.Free()), "needed", kvstore.MB(h.space.Needed()))
	}
	return ok
}

func (h *Hook) heldError(n int) error {
	return fmt.Errorf("%d changes not written: the disk of %s is full (%s free; writing needs %s free): %w",
		n, h.dir, kvstore.MB(h.space.Free()), kvstore.MB(h.space.Needed()), ErrNoSpace)
}

// drop counts a change that cannot be stored and logs it (rate-limited).
func (h *Hook) drop(o *op, why string) {
	n := h.dropped.Add(1)
	if h.dropLog.Allow() {
		h.log.Warn("session store change dropped: "+why, "dir", h.dir, "key", o.key, "dropped_total", n)
	}
}

// writeBatch writes one batch. A change Badger rejects on its own (too
// large, bad key) is logged and skipped; the rest of the batch is written.
func (h *Hook) writeBatch(ops []*op) error {
	wb := h.db.NewWriteBatch()
	var errs kvstore.ErrTally
	for _, o := range ops {
		var err error
		if o.del {
			err = wb.Delete([]byte(o.key))
		} else {
			err = wb.Set([]byte(o.key), o.val)
		}
		if err != nil {
			err = fmt.Errorf("key %q: %w", o.key, err)
			errs.Add(err)
			if wb.Error() != nil { // the batch itself failed; stop feeding it
				break
			}
		}
	}
	if err := wb.Flush(); err != nil {
		wb.Cancel() // waits for any commit still in flight
		errs.Add(err)
	}
	err := errs.Take()
	if err != nil && h.writeErrLog.Allow() {
		h.log.Error("session store write failed", "dir", h.dir, "error", err)
	}
	return err
}

// gcLoop runs Badger's value-log GC every gcInterval until Stop.
func (h *Hook) gcLoop() {
	defer close(h.gcDone)
	kvstore.RunGC(h.db, h.space, h.quit, nil, gcInterval, gcDiscardRatio, h.log)
}
