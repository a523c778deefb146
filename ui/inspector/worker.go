package inspector

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/topics"
)

// slot hands the newest request from the UI goroutine to one worker
// goroutine. A request that was not taken yet is replaced by the next: each
// request states everything the UI wants now, so only the last one
// matters, and a worker busy with a 10 MB payload never builds a backlog
// of selections the user has already left.
type slot[T any] struct {
	mu   sync.Mutex
	req  T
	has  bool
	kick chan struct{}
}

func newSlot[T any]() *slot[T] { return &slot[T]{kick: make(chan struct{}, 1)} }

// put never blocks, so the UI goroutine can call it.
func (s *slot[T]) put(v T) {
	s.mu.Lock()
	s.req, s.has = v, true
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *slot[T]) take() (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.req, s.has
	var zero T
	s.req, s.has = zero, false
	return v, ok
}

// serve runs fn on each request until ctx is done.
func (s *slot[T]) serve(ctx context.Context, fn func(context.Context, T)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		if v, ok := s.take(); ok {
			fn(ctx, v)
		}
	}
}

// target is what Show asked for: the node and the generation of that
// request, so that late answers about an earlier selection are ignored.
type target struct {
	id  topics.NodeID
	gen uint64
}

func (in *Inspector) setTarget(t target) {
	in.tmu.Lock()
	in.target = t
	in.tmu.Unlock()
	select {
	case in.kick <- struct{}{}:
	default:
	}
}

func (in *Inspector) currentTarget() target {
	in.tmu.Lock()
	defer in.tmu.Unlock()
	return in.target
}

// Serve refreshes the inspector until ctx is done: it loads what Show asks
// for and, at most every 100 ms, re-reads the shown topic if it received
// messages. Decoding, comparing, charting and reading the capture store
// happen on goroutines Serve starts and waits for, never on the UI
// goroutine. Call it once, on its own goroutine; it returns nil when ctx
// is done and its goroutines have stopped, or an error at once if it was
// already called.
func (in *Inspector) Serve(ctx context.Context) error {
	if !in.running.CompareAndSwap(false, true) {
		return errors.New("inspector: Serve called twice; an inspector serves once")
	}
	var wg sync.WaitGroup
	wg.Go(func() { in.decodes.serve(ctx, in.decodeLoop()) })
	wg.Go(func() { in.charts.serve(ctx, in.chartLoop()) })
	wg.Go(func() { in.pages.serve(ctx, in.loadOlder) })
	wg.Go(func() { in.copies.serve(ctx, in.copyPayloadText) })
	in.watch(ctx)
	wg.Wait()
	return nil
}

// watch is Serve's own loop: it reads the model for the shown topic.
func (in *Inspector) watch(ctx context.Context) {
	tick := time.NewTicker(in.interval)
	defer tick.Stop()
	var (
		cur    target
		loaded bool
		seen   counts // the node's counters at the last read
		buf    []topics.NodeSummary
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-in.kick:
		case <-tick.C:
		}
		if t := in.currentTarget(); t != cur {
			cur, loaded = t, false
		}
		if cur.id == 0 {
			continue
		}
		if loaded {
			// One node's counters: cheap enough to poll at 10 Hz whatever
			// the rest of the tree does, so other topics cost nothing here.
			buf = in.model.Summaries(buf[:0], []topics.NodeID{cur.id})
			if buf[0].ID == 0 || countsOf(buf[0]) == seen || in.pending.Load() {
				// Unchanged, or the UI has not applied the last update yet:
				// look again next tick rather than queue behind it.
				continue
			}
		}
		var (
			sum  topics.NodeSummary
			ok   bool
			hist []message.Message
		)
		// One snapshot, so the history and the counters agree.
		in.model.View(func(v topics.View) {
			if sum, ok = v.Summary(cur.id); ok {
				hist = v.History(cur.id)
			}
		})
		first := !loaded
		loaded, seen = true, countsOf(sum)
		gen := cur.gen
		in.pending.Store(true)
		in.do(func() {
			in.pending.Store(false)
			in.applyNode(gen, sum, ok, hist, first)
		})
	}
}

// counts are what a node's view shows of it and of its subtree: a level
// with no messages of its own changes only below (a retained message
// deleted under it), so its own count alone would never show that.
type counts struct {
	messages, subMessages  uint64
	subTopics, subRetained int
	retained               bool
}

func countsOf(s topics.NodeSummary) counts {
	return counts{s.Messages, s.SubtreeMessages, s.SubtreeTopics, s.SubtreeRetained, s.Retained}
}
