package subscribe

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iotstudio/iotstudio/engine/client"
)

// interest is what the UI wants shown, handed to the refresh goroutine
// under a mutex held only for copies.
type interest struct {
	mu    sync.Mutex
	state viewKey
	pause bool
}

// viewKey is what a view is filtered by; a different key means the view
// is built again rather than extended.
type viewKey struct {
	source string
	text   string // lower case
	gen    uint64 // bumped by Clear
}

func (in *interest) get() (viewKey, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.state, in.pause
}

func (in *interest) set(fn func(k *viewKey, pause *bool)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	fn(&in.state, &in.pause)
}

// connInfo is one open connection as the UI shows it.
type connInfo struct {
	status client.Status
	subs   []held
}

// update is what one refresh pass hands the UI.
type update struct {
	conns   []connInfo // nil: unchanged
	view    []*entry   // the messages to list, oldest first, when viewSet
	viewSet bool
	key     viewKey // what view is filtered by
	counts  counts
}

// refresher is the refresh goroutine's own state.
type refresher struct {
	cols    colours
	lastSeq uint64 // the newest entry tagged
	key     viewKey
	built   bool     // view holds a view for key
	view    []*entry // oldest first; never changed where the UI can see
	frozen  []*entry // while paused: every entry kept when Pause was pressed
	// lastPaused: the previous pass was paused, so the view missed what
	// arrived meanwhile.
	lastPaused bool
	conns      []connInfo

	connsDirty, connsUnsent, viewUnsent bool
	sent                                counts
	sentPaused                          bool
	buf                                 []byte
	scratch                             []*entry
}

// Serve refreshes the panel until ctx ends, then stops the subscribe and
// unsubscribe calls under way, waits for them and returns nil. Only one
// Serve may be active at a time.
func (p *Panel) Serve(ctx context.Context) error {
	if !p.serving.CompareAndSwap(false, true) {
		return errors.New("subscribe panel: Serve called while the panel is already serving")
	}
	defer p.serving.Store(false)
	changed, stop := p.mgr.Watch()
	p.refreshSources()
	p.loop(ctx, changed)
	stop()
	p.actions.Stop()
	return nil
}

func (p *Panel) loop(ctx context.Context, changed <-chan struct{}) {
	st := &refresher{connsDirty: true}
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			// Connections opened or closed: Ingest must know their names
			// now; the rest waits for the tick.
			p.refreshSources()
			st.connsDirty = true
			continue
		case <-tick.C:
		case <-p.kick:
		}
		select { // a change that came with the tick counts for this pass
		case <-changed:
			p.refreshSources()
			st.connsDirty = true
		default:
		}
		p.pass(st)
	}
}

// refreshSources tells Ingest which sources are open connections, so
// that records from elsewhere (the embedded broker's own tap, if the app
// tees it in) never push the panel's messages out.
func (p *Panel) refreshSources() {
	names := map[string]bool{}
	for _, s := range p.mgr.Snapshot() {
		names[s.Name] = true
	}
	p.sources.Store(&names)
}

// pass takes what arrived since the last pass, extends or rebuilds the
// view, and hands the UI one update if anything it shows changed and it
// has applied the previous one.
func (p *Panel) pass(st *refresher) {
	if st.connsDirty {
		p.readConns(st)
	}
	key, paused := p.in.get()
	shown := st.lastSeq // the newest entry the last pass put in the view
	var oldest uint64
	st.scratch, oldest = p.store.since(st.lastSeq, st.scratch[:0])
	p.tagAll(st, st.scratch)
	p.buildView(st, key, paused, oldest, shown)
	clear(st.scratch) // keep no evicted entry alive through the scratch space

	c := p.store.counts(key.source)
	if !st.connsUnsent && !st.viewUnsent && c == st.sent && paused == st.sentPaused {
		return
	}
	if !p.pending.CompareAndSwap(false, true) {
		return // the UI is behind: this pass's news goes with the next
	}
	u := &update{counts: c, key: st.key}
	if st.connsUnsent {
		u.conns = st.conns
	}
	if st.viewUnsent {
		u.view, u.viewSet = st.view, true
	}
	st.connsUnsent, st.viewUnsent, st.sent, st.sentPaused = false, false, c, paused
	p.do(func() {
		p.pending.Store(false)
		p.apply(u)
	})
}

// readConns takes every connection's status and subscriptions.
func (p *Panel) readConns(st *refresher) {
	st.connsDirty = false
	snap := p.mgr.Snapshot()
	open := make(map[string]bool, len(snap))
	conns := make([]connInfo, 0, len(snap))
	for _, s := range snap {
		var subs []client.Subscription
		if c := p.mgr.Get(s.Name); c != nil {
			subs = c.Subscriptions()
		}
		open[s.Name] = true
		conns = append(conns, connInfo{status: s, subs: st.cols.update(s.Name, subs)})
	}
	st.cols.forget(open)
	st.conns, st.connsUnsent = conns, true
}

// tagAll gives entries taken from the store (oldest first) their
// subscription, colour and preview, before any of them reaches the UI, and
// remembers the newest, so that the next pass takes only what is newer.
func (p *Panel) tagAll(st *refresher, entries []*entry) {
	reread := map[string]bool{}
	for _, e := range entries {
		if e.tagged {
			continue
		}
		e.tagged = true
		e.preview = preview(e.rec.Payload, e.size)
		h := st.cols.best(e.rec.Source, e.rec.Topic, &st.buf)
		if h == nil && !reread[e.rec.Source] {
			// A subscription's first messages (retained ones) can beat the
			// Manager's notice of it: read the connection's filters again,
			// once per pass.
			reread[e.rec.Source] = true
			if c := p.mgr.Get(e.rec.Source); c != nil {
				st.cols.update(e.rec.Source, c.Subscriptions())
				st.connsDirty = true
			}
			h = st.cols.best(e.rec.Source, e.rec.Topic, &st.buf)
		}
		if h != nil {
			e.filter, e.colour = h.Filter, h.colour
		}
	}
	if n := len(entries); n > 0 && entries[n-1].seq > st.lastSeq {
		st.lastSeq = entries[n-1].seq
	}
}

// buildView brings st.view up to date. While paused it is built only from
// what the list held when Pause was pressed (entries up to shown, the
// newest the previous pass took), so the list stands still while the text
// filter can still narrow it; what arrived since, even before this pass
// saw the pause, stays out. The UI may hold the previous view, so it is
// never written where the UI reads: it is rebuilt into a new slice, cut at
// the front, or appended to past its end.
func (p *Panel) buildView(st *refresher, key viewKey, paused bool, oldest, shown uint64) {
	if key.gen != st.key.gen {
		st.frozen = nil
	}
	if paused && st.frozen == nil {
		all, _ := p.store.since(0, nil)
		st.frozen = slices.DeleteFunc(all, func(e *entry) bool { return e.seq > shown })
		p.tagAll(st, st.frozen)
	}
	if !paused {
		st.frozen = nil
	}
	resumed := st.lastPaused && !paused
	st.lastPaused = paused
	switch {
	case paused:
		if st.built && key == st.key {
			return
		}
		st.view = filterView(nil, st.frozen, key)
	case !st.built || key != st.key || resumed:
		all, _ := p.store.since(0, nil)
		p.tagAll(st, all)
		st.view = filterView(nil, all, key)
	default:
		cut := 0
		for cut < len(st.view) && st.view[cut].seq < oldest {
			cut++
		}
		if oldest == 0 { // the store is empty
			cut = len(st.view)
		}
		n := len(st.view)
		st.view = filterView(st.view[cut:], st.scratch, key)
		if cut == 0 && len(st.view) == n {
			return
		}
	}
	st.key, st.built, st.viewUnsent = key, true, true
}

// filterView appends to dst the entries of src that key lets through.
func filterView(dst, src []*entry, key viewKey) []*entry {
	for _, e := range src {
		if e.rec.Source == key.source && (containsFold(e.rec.Topic, key.text) || containsFold(e.rec.Payload, key.text)) {
			dst = append(dst, e)
		}
	}
	return dst
}

// lowerText prepares the text filter for containsFold.
func lowerText(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
