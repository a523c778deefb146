package studio

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/iotstudio/iotstudio/engine/message"
)

// sinkSet is a set of sinks that may change while messages flow: adding
// or removing copies the list, so the per-message path is one atomic load.
type sinkSet struct {
	mu   sync.Mutex // serialises changes
	list atomic.Pointer[[]message.Sink]
}

// add adds r and returns the function that removes it again.
func (s *sinkSet) add(r message.Sink) (remove func()) {
	s.change(func(cur []message.Sink) []message.Sink { return append(cur, r) })
	var once sync.Once
	return func() {
		once.Do(func() {
			s.change(func(cur []message.Sink) []message.Sink {
				if i := slices.Index(cur, r); i >= 0 {
					return slices.Delete(cur, i, i+1)
				}
				return cur
			})
		})
	}
}

func (s *sinkSet) change(f func([]message.Sink) []message.Sink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur []message.Sink
	if p := s.list.Load(); p != nil {
		cur = slices.Clone(*p)
	}
	next := f(cur)
	s.list.Store(&next)
}

// Ingest offers m to every sink; like message.Tee it reports false if any
// dropped it and still offers it to the rest.
func (s *sinkSet) Ingest(m message.Message) bool {
	p := s.list.Load()
	if p == nil {
		return true
	}
	ok := true
	for _, x := range *p {
		if !x.Ingest(m) {
			ok = false
		}
	}
	return ok
}
