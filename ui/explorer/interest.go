package explorer

import (
	"maps"
	"sync"

	"github.com/iotstudio/iotstudio/engine/topics"
)

// interest is what the UI wants from the refresh goroutine. The UI
// goroutine changes it and the refresh goroutine copies it out (take) at
// the start of each pass; the mutex is held only for that, never while the
// model is read, so neither side waits on the other's work.
type interest struct {
	mu sync.Mutex
	// gen changes when everything shown must be read again: a new filter,
	// or Collapse all dropping what the UI held.
	gen      uint64
	filter   topics.Filter
	paused   bool
	open     map[topics.NodeID]struct{} // open branches
	selected topics.NodeID
	// What the tree asked for and the UI did not have: child lists of
	// branches being opened, rows of nodes scrolled into view.
	wantKids map[topics.NodeID]struct{}
	wantRows map[topics.NodeID]struct{}
	expand   bool // Expand all was pressed
}

// request is one pass's copy of interest.
type request struct {
	gen      uint64
	filter   topics.Filter
	paused   bool
	open     map[topics.NodeID]struct{}
	selected topics.NodeID
	wantKids []topics.NodeID
	wantRows []topics.NodeID
	expand   bool
}

func (in *interest) init() {
	in.open = make(map[topics.NodeID]struct{})
	in.wantKids = make(map[topics.NodeID]struct{})
	in.wantRows = make(map[topics.NodeID]struct{})
}

// set changes interest under its mutex.
func (in *interest) set(fn func(*interest)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	fn(in)
}

// take copies interest for one pass and clears the one-shot requests.
func (in *interest) take() request {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := request{
		gen: in.gen, filter: in.filter, paused: in.paused, selected: in.selected, expand: in.expand,
		open: maps.Clone(in.open),
	}
	for id := range in.wantKids {
		r.wantKids = append(r.wantKids, id)
	}
	for id := range in.wantRows {
		r.wantRows = append(r.wantRows, id)
	}
	clear(in.wantKids)
	clear(in.wantRows)
	in.expand = false
	return r
}
