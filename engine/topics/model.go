package topics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// Defaults for Options fields left zero. The history cap is what keeps the
// model within its memory target: with 100,000 topics their last messages
// take about 28 MB in their buffers and the tree about 25 MB, and 16 MiB
// of history (in a ring of at most 21 MB) keeps the whole near 76 MB.
// With 1,000 topics it still means about 70 earlier messages of 230 bytes
// each; anything older comes from the capture store.
const (
	DefaultHistoryBytesPerTopic = 64 << 10
	DefaultHistoryBytes         = 16 << 20
	DefaultQueueLen             = 16384
	DefaultQueueBytes           = 64 << 20
	DefaultMaxChanges           = 1 << 16
	DefaultMaxNodes             = 1 << 20
	DefaultBatchInterval        = 20 * time.Millisecond
	DefaultRateWindow           = 5 * time.Second
)

// maxChunk bounds how many records one write-lock hold applies, so that a
// burst in the queue keeps readers waiting a few milliseconds at most, not
// for the whole burst.
const maxChunk = 2048

// How far an overloaded queue may grow with records on topics that are not
// waiting yet. Coalescing bounds the queue by the number of topics, which
// the bounds below cap in turn: 131,072 records with the defaults, more
// than the 100,000 topics of a large plant, and at most 128 MiB of
// payloads, which the broker has allocated anyway.
const (
	overloadLen   = 8
	overloadBytes = 2
)

// maxPerTopicCap keeps a node's offsets within uint32 however large a cap
// is configured.
const maxPerTopicCap = 1 << 30

// Options configure a Model. Zero fields take the defaults above; for the
// two history caps a negative value means no history (a topic's last
// message is always kept regardless).
type Options struct {
	// HistoryBytesPerTopic caps the encoded bytes of a topic's earlier
	// messages kept in RAM (its last message is not counted).
	HistoryBytesPerTopic int
	// HistoryBytes caps the same over all topics of all sources; the ring
	// holding them grows to at most a quarter more (history.go).
	HistoryBytes int64
	// QueueLen and QueueBytes (payload bytes) bound the records waiting to
	// be applied. Beyond either the queue is overloaded: a record whose
	// topic is already waiting replaces that one (Stats.Coalesced), and
	// one on another topic still gets in while the queue holds fewer than
	// overloadLen × QueueLen records and overloadBytes × QueueBytes;
	// beyond those Ingest drops and counts (Stats.Dropped).
	QueueLen   int
	QueueBytes int
	// MaxChanges bounds the change log; a reader that fell further behind is
	// told that everything changed.
	MaxChanges int
	// MaxNodes bounds the tree (every level is a node); messages on new
	// topics beyond it are counted in Stats.OverLimit and not applied, so a
	// publisher inventing topics cannot exhaust memory.
	MaxNodes int
	// BatchInterval is the least time between two applied batches.
	// Negative applies each batch as soon as it is queued.
	BatchInterval time.Duration
	// RateWindow is the sliding window message rates are measured over.
	RateWindow time.Duration
	Logger     *slog.Logger

	// clock replaces time.Now in tests.
	clock func() time.Time
	// idleRelease replaces defaultIdleRelease in tests.
	idleRelease time.Duration
}

func (o Options) withDefaults() Options {
	if o.HistoryBytesPerTopic == 0 {
		o.HistoryBytesPerTopic = DefaultHistoryBytesPerTopic
	}
	o.HistoryBytesPerTopic = min(max(o.HistoryBytesPerTopic, 0), maxPerTopicCap)
	if o.HistoryBytes == 0 {
		o.HistoryBytes = DefaultHistoryBytes
	}
	o.HistoryBytes = max(o.HistoryBytes, 0)
	if o.QueueLen <= 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.MaxChanges <= 0 {
		o.MaxChanges = DefaultMaxChanges
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = DefaultMaxNodes
	}
	o.MaxNodes = min(o.MaxNodes, 1<<32-2) // IDs are uint32 and 0 means none
	if o.BatchInterval == 0 {
		o.BatchInterval = DefaultBatchInterval
	}
	if o.RateWindow <= 0 {
		o.RateWindow = DefaultRateWindow
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.clock == nil {
		o.clock = time.Now
	}
	if o.idleRelease <= 0 {
		o.idleRelease = defaultIdleRelease
	}
	return o
}

// Model is the live topic tree of every source. Ingest may be called from
// any goroutine; the reading methods too. Records are applied only while Serve
// is running.
type Model struct {
	opts  Options
	log   *slog.Logger
	epoch time.Time // rate windows are counted from here

	// The queue. pending is swapped out whole by the applier.
	qmu          sync.Mutex
	pending      []message.Message
	pendingBytes int
	// Once the queue is overloaded, pendingAt finds the waiting record of
	// a source and topic, and folds[i] says what pending[i] replaced
	// (both empty before: the common case pays nothing for coalescing).
	pendingAt  map[topicKey]int
	folds      []fold
	accepted   uint64 // records ever queued
	wake       chan struct{}
	hurry      chan struct{}
	dropped    atomic.Uint64
	coalesced  atomic.Uint64
	running    atomic.Bool
	applyNanos atomic.Int64 // wall time spent applying, write lock included

	// Only the goroutine in Serve touches these; spare also needs qmu, so
	// that the queue's memory can be read as a whole.
	spare       []message.Message
	lastLogged  time.Time
	lastDropped uint64
	lastOver    uint64

	// Progress, for Sync.
	amu       sync.Mutex
	applied   uint64
	appliedCh chan struct{} // closed and replaced after each batch

	mu sync.RWMutex
	t  tree // guarded by mu
}

// New returns an empty model; call Serve to start applying what Ingest queues.
func New(opts Options) *Model {
	opts = opts.withDefaults()
	m := &Model{
		opts:      opts,
		log:       opts.Logger,
		epoch:     opts.clock(),
		pending:   make([]message.Message, 0, min(restQueueLen, opts.QueueLen)),
		wake:      make(chan struct{}, 1),
		hurry:     make(chan struct{}, 1),
		appliedCh: make(chan struct{}),
	}
	m.t.init(&m.opts)
	return m
}

// Ingest queues r to be applied, without blocking. It keeps r's slices
// (payload, correlation data, user properties) until r is applied, then
// copies what it keeps, so the caller must not modify them after the call;
// the broker's tap never does, since mochi reads every packet into a fresh
// buffer. A zero r.Time means the time r is applied.
//
// When the queue is full, r replaces the record of its topic still
// waiting, if there is one: the tree then skips the older message's
// content (it never becomes history) but counts it, so each topic still
// ends at its newest message. Ingest returns false, and counts a drop,
// only when even an overloaded queue has no room (see Options.QueueLen).
func (m *Model) Ingest(r message.Message) bool {
	size := len(r.Payload)
	m.qmu.Lock()
	// A single record larger than QueueBytes is still taken into an empty
	// queue: refusing it would hide big messages from the tree forever.
	if len(m.pending) >= m.opts.QueueLen || (len(m.pending) > 0 && m.pendingBytes+size > m.opts.QueueBytes) {
		ok := m.ingestOverloaded(r, size)
		m.qmu.Unlock()
		if !ok {
			m.dropped.Add(1)
		}
		return ok
	}
	wasEmpty := len(m.pending) == 0
	m.pending = append(m.pending, r)
	if m.pendingAt != nil {
		m.pendingAt[topicKey{r.Source, r.Topic}] = len(m.pending) - 1
		m.folds = append(m.folds, fold{})
	}
	m.pendingBytes += size
	m.accepted++
	m.qmu.Unlock()
	// Only the record that makes the queue non-empty needs to wake the
	// applier: it takes everything queued by the time it runs.
	if wasEmpty {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// topicKey names a topic of a source.
type topicKey struct{ source, topic string }

// fold is what a queued record stands for besides itself: the older
// messages of its topic it replaced in an overloaded queue.
type fold struct {
	skipped uint32
	// retain is the effect of the newest replaced retained message: a
	// later non-retained message leaves a retained one in place, so it
	// must not be lost with the message. +1 set, -1 cleared, 0 none.
	retain int8
}

// ingestOverloaded queues r in a full queue, replacing the waiting record
// of its topic if there is one, and reports whether r got in. The caller
// holds qmu.
func (m *Model) ingestOverloaded(r message.Message, size int) bool {
	if m.pendingAt == nil {
		m.indexPending()
	}
	key := topicKey{r.Source, r.Topic}
	if i, ok := m.pendingAt[key]; ok {
		old := &m.pending[i]
		f := &m.folds[i]
		f.skipped++
		if old.Retain {
			f.retain = retainEffect(old)
		}
		m.pendingBytes += size - len(old.Payload)
		*old = r
		m.coalesced.Add(1)
		return true
	}
	if len(m.pending) >= overloadLen*m.opts.QueueLen || m.pendingBytes+size > overloadBytes*m.opts.QueueBytes {
		return false
	}
	m.pending = append(m.pending, r)
	m.folds = append(m.folds, fold{})
	m.pendingAt[key] = len(m.pending) - 1
	m.pendingBytes += size
	m.accepted++
	// The queue is not empty, so the applier has been woken already.
	return true
}

// indexPending builds pendingAt over the queue, once per batch that
// overloads it; where a topic is queued twice the newer record is found.
func (m *Model) indexPending() {
	m.pendingAt = make(map[topicKey]int, 2*len(m.pending))
	for i := range m.pending {
		m.pendingAt[topicKey{m.pending[i].Source, m.pending[i].Topic}] = i
	}
	m.folds = make([]fold, len(m.pending), max(len(m.pending), m.opts.QueueLen))
}

func retainEffect(r *message.Message) int8 {
	if len(r.Payload) > 0 {
		return 1
	}
	return -1
}

// Serve applies queued records in batches until ctx is done, then returns nil
// (records still queued stay queued). Only one Serve may be active at a time.
func (m *Model) Serve(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("topics: Serve called while the model is already running")
	}
	defer m.running.Store(false)
	throttle := time.NewTimer(time.Hour)
	throttle.Stop()
	defer throttle.Stop()
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	defer idle.Stop()
	var idleC <-chan time.Time // set while the queue holds more than it needs at rest
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-idleC:
			m.releaseQueue()
			idleC = nil
			continue
		case <-m.wake:
		}
		if m.drain() {
			idle.Reset(m.opts.idleRelease)
			idleC = idle.C
		}
		if m.opts.BatchInterval <= 0 {
			continue
		}
		// Let the next batch gather, unless Sync is waiting for it.
		throttle.Reset(m.opts.BatchInterval)
		select {
		case <-ctx.Done():
			return nil
		case <-throttle.C:
		case <-m.hurry:
			throttle.Stop()
		}
	}
}

// restQueueLen is the queue's capacity at rest: what a steady stream of a
// few thousand messages a second gathers in one BatchInterval.
const restQueueLen = 256

// defaultIdleRelease is how long the applier waits without records before
// giving back a queue a burst grew.
const defaultIdleRelease = 2 * time.Second

// drain applies everything queued and reports whether the queue (with its
// spare) is now larger than at rest.
func (m *Model) drain() bool {
	m.qmu.Lock()
	batch, folds := m.pending, m.folds
	m.pending, m.folds = m.spare[:0], nil
	m.spare = nil
	m.pendingBytes = 0
	// The next overload indexes its own queue; a map as large as the
	// burst is not worth keeping for it.
	m.pendingAt = nil
	m.qmu.Unlock()
	for i := 0; i < len(batch); i += maxChunk {
		end := min(i+maxChunk, len(batch))
		var f []fold
		if folds != nil {
			f = folds[i:end]
		}
		m.apply(batch[i:end], f)
	}
	n := len(batch)
	// Drop the references so applied payloads can be collected, and the
	// queue itself if an overload grew it far beyond QueueLen, or if it
	// is far larger than what now arrives (a burst ended in a slower
	// stream): memory held for the next burst would stay in the
	// process's RSS until then.
	clear(batch)
	m.qmu.Lock()
	if c := cap(batch); c <= restQueueLen || (c <= 2*m.opts.QueueLen && n >= c/4) {
		m.spare = batch[:0]
	}
	grown := cap(m.spare) > restQueueLen || cap(m.pending) > restQueueLen
	m.qmu.Unlock()

	m.amu.Lock()
	m.applied += uint64(n)
	close(m.appliedCh)
	m.appliedCh = make(chan struct{})
	m.amu.Unlock()
	m.logLosses()
	return grown
}

// releaseQueue gives back the queue's memory beyond its size at rest once
// records stopped coming: after a burst, the queue and its spare hold up
// to 2 × QueueLen records each (about 14 MB with the defaults), which
// would otherwise stay in the process's RSS until the next burst. A queue
// that is not empty is left alone; the next drain swaps it out anyway.
func (m *Model) releaseQueue() {
	m.qmu.Lock()
	defer m.qmu.Unlock()
	if cap(m.spare) > restQueueLen {
		m.spare = nil
	}
	if len(m.pending) == 0 && cap(m.pending) > restQueueLen {
		m.pending = make([]message.Message, 0, min(restQueueLen, m.opts.QueueLen))
	}
}

// queueCap is the records the queue and its spare have room for.
func (m *Model) queueCap() int {
	m.qmu.Lock()
	defer m.qmu.Unlock()
	return cap(m.pending) + cap(m.spare) + cap(m.folds)
}

// logLosses warns, at most every 10 s, when records were dropped or refused
// since the last warning: losses must be visible, but one line per lost
// message would flood the log exactly when the machine is busiest.
func (m *Model) logLosses() {
	now := time.Now()
	if now.Sub(m.lastLogged) < 10*time.Second {
		return
	}
	dropped := m.dropped.Load()
	m.mu.RLock()
	over := m.t.overLimit
	m.mu.RUnlock()
	if dropped == m.lastDropped && over == m.lastOver {
		return
	}
	m.log.Warn("topic model is losing messages",
		"dropped_queue_full", dropped, "queue_len", m.opts.QueueLen,
		"over_node_limit", over, "max_nodes", m.opts.MaxNodes)
	m.lastLogged, m.lastDropped, m.lastOver = now, dropped, over
}

// Sync waits until every record queued before the call has been applied
// (it needs Serve to be running) or ctx is done.
func (m *Model) Sync(ctx context.Context) error {
	m.qmu.Lock()
	target := m.accepted
	m.qmu.Unlock()
	for _, ch := range []chan struct{}{m.wake, m.hurry} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	for {
		m.amu.Lock()
		done, ch := m.applied >= target, m.appliedCh
		m.amu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("topics: wait for queued records to be applied: %w", ctx.Err())
		}
	}
}

// apply applies one chunk of records under the write lock; folds, if not
// nil, says what each record replaced.
func (m *Model) apply(recs []message.Message, folds []fold) {
	start := time.Now()
	now := m.opts.clock()
	win, _ := m.window(now)
	m.mu.Lock()
	m.t.applyBatch(recs, folds, now.UnixNano(), win)
	m.mu.Unlock()
	m.applyNanos.Add(int64(time.Since(start)))
}

// window returns the rate window now falls in and how far into it (0..1).
func (m *Model) window(now time.Time) (uint32, float64) {
	d := max(now.Sub(m.epoch), 0)
	w := m.opts.RateWindow
	return uint32(d / w), float64(d%w) / float64(w)
}
