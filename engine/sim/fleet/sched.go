package fleet

import (
	"context"
	"sync"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim"
)

type eventKind uint8

const (
	evRamp      eventKind = iota // connect device dev, then schedule the next one
	evStream                     // stream's message of device dev is due
	evReconnect                  // device dev tries again
	evChaos                      // device dev drops at random
	evEffects                    // the rest of a handler's effects, after a Delay
	evTick                       // once a second: a sample for the send rate
)

// event is one thing due at a time. epoch ties stream and chaos events to
// the connection they were scheduled for: once the device reconnects (or
// drops) they are stale and ignored, which is cheaper than removing them
// from the heap.
type event struct {
	at      int64 // unix ns
	kind    eventKind
	stream  int32
	dev     int32
	epoch   uint32
	effects []sim.Effect
}

// sched is the one timer heap that drives every device of a fleet: its
// streams, ramp, reconnects, chaos and delayed effects. One goroutine and
// one timer for the whole fleet instead of a goroutine and a ticker per
// device is what lets 10,000 devices run on a fraction of a core.
type sched struct {
	mu   sync.Mutex
	h    []event // a binary min-heap on at; values, so pushing allocates nothing
	wake chan struct{}
}

func newSched() *sched { return &sched{wake: make(chan struct{}, 1)} }

// slack lets events due within it fire in the same pass: waking the
// goroutine for each of 10,000 messages a second spread over the second
// would cost more than sending them a millisecond early.
const slack = time.Millisecond

func (s *sched) add(e event) {
	s.mu.Lock()
	first := len(s.h) == 0 || e.at < s.h[0].at
	s.push(e)
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *sched) push(e event) {
	s.h = append(s.h, e)
	i := len(s.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s.h[p].at <= s.h[i].at {
			break
		}
		s.h[p], s.h[i] = s.h[i], s.h[p]
		i = p
	}
}

func (s *sched) pop() event {
	h := s.h
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = event{}
	h = h[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].at < h[m].at {
			m = l
		}
		if r < len(h) && h[r].at < h[m].at {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.h = h
	return top
}

// run fires due events, in time order, until ctx ends. fire runs on this
// goroutine and may add events.
func (s *sched) run(ctx context.Context, fire func(event)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due []event
	for {
		now := time.Now().UnixNano()
		s.mu.Lock()
		for len(s.h) > 0 && s.h[0].at <= now+int64(slack) {
			due = append(due, s.pop())
		}
		wait := time.Hour
		if len(s.h) > 0 {
			wait = time.Duration(s.h[0].at - now)
		}
		s.mu.Unlock()
		if len(due) > 0 {
			for i, e := range due {
				fire(e)
				due[i] = event{}
			}
			due = due[:0]
			if ctx.Err() != nil {
				return
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
	}
}
