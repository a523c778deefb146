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

	dir string
	log *slog.Logger
	db  *badgerdb.DB

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

	db, err := kvstore.Open("sessionstore", dir, badgerOptions(dir), log)
	if err != nil {
		return nil, err
	}

	h := &Hook{
		dir:        dir,
		log:        log,
		db:         db,
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
// memtables x5, 256 MiB block cache, 1 GiB value-log files).
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
// was full. Any non-zero value means the store may be behind the broker
// until the affected records are written again.
func (h *Hook) Dropped() int64 { return h.dropped.Load() }

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
	n := h.dropped.Add(1)
	if h.dropLog.Allow() {
		h.log.Warn("session store write queue full; change dropped",
			"dir", h.dir, "key", o.key, "dropped_total", n, "queue_capacity", cap(h.ops))
	}
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
// change is batchMaxWait old, on Flush, and when the queue is closed.
func (h *Hook) writer() {
	defer close(h.writerDone)

	pending := make(map[string]*op)
	n := 0 // changes in the current batch, before coalescing
	var errs kvstore.ErrTally

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var timerC <-chan time.Time // nil while the batch is empty

	commit := func() {
		if n == 0 {
			return
		}
		timer.Stop()
		timerC = nil
		errs.Add(h.writeBatch(pending))
		h.commits.Add(1)
		clear(pending)
		n = 0
	}
	add := func(o *op) {
		pending[o.key] = o
		n++
		if n == 1 {
			timer.Reset(batchMaxWait)
			timerC = timer.C
		}
		if n >= batchMaxOps {
			commit()
		}
	}

	for {
		select {
		case o, ok := <-h.ops:
			if !ok {
				commit()
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

// writeBatch writes one batch. A change Badger rejects on its own (too
// large, bad key) is logged and skipped; the rest of the batch is written.
func (h *Hook) writeBatch(pending map[string]*op) error {
	wb := h.db.NewWriteBatch()
	var errs kvstore.ErrTally
	for _, o := range pending {
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
	kvstore.RunGC(h.db, h.quit, nil, gcInterval, gcDiscardRatio, h.log)
}
