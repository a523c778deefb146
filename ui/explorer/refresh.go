package explorer

import (
	"context"
	"errors"
	"time"

	"github.com/iotstudio/iotstudio/engine/topics"
)

const (
	// expandRows bounds how many rows Expand all opens: fyne's tree lays
	// out every open row on each refresh, so opening 100,000 topics at
	// once would freeze the window. The filter is the way to narrow a
	// tree that large.
	expandRows = 2000
	// autoExpandRows bounds how far a new filter opens its matches.
	autoExpandRows = 500
	// matchLimit bounds the topics a filter shows, and so the memory of
	// its set of shown nodes.
	matchLimit = 50000
)

// rowData is one node as the tree shows it.
type rowData struct {
	topics.NodeSummary
	// branch: the node has children the tree shows (with a filter, those
	// that lead to a match).
	branch bool
	// hot: it changed since the previous pass; if it received a message
	// the row lights up.
	hot bool
	// filtered: a filter is on, and shownKids of the node's Children lead
	// to a match.
	filtered  bool
	shownKids int
}

// kidList is the child list of one node (0: the tree's root, whose
// children are the sources).
type kidList struct {
	id  topics.NodeID
	ids []topics.NodeID
}

// update is what one pass hands the UI.
type update struct {
	gen uint64
	// tick: a timed pass, which took the model's changes; a pass run at
	// once for a user action only serves what was asked for.
	tick bool
	// reset: the UI must drop what it holds and take this instead.
	reset bool
	kids  []kidList
	rows  []rowData
	// expand lists branches to open, parents first; expandCut says that
	// more would not fit in the row budget.
	expand     []topics.NodeID
	expanded   bool // an expansion was computed (Expand all, or a new filter)
	expandCut  bool
	expandRows int
	stats      topics.Stats
	// With a filter: how many topics match, and whether matchLimit cut
	// the list.
	filtered  bool
	matches   int
	truncated bool
	readTook  time.Duration // holding the model's read lock
}

// presenter is the refresh goroutine's state: what the UI was sent, so
// that it can send the UI only what changed in that. Only that goroutine
// touches it.
type presenter struct {
	model   *topics.Model
	started bool
	gen     uint64
	since   topics.Version // changes up to here are in what the UI holds

	filter      topics.Filter
	filtered    bool
	shown       map[topics.NodeID]struct{} // with a filter: matches and their ancestors
	shownKids   map[topics.NodeID]int      // how many children of a node are shown; 0 counts shown sources
	shownTopics int
	truncated   bool

	// sent holds the nodes whose rows the UI has, with the version each
	// was last read at: their later changes are forwarded. kidsKnown holds, for the open branches (and 0, the root),
	// the length of the child list the UI has: when the node's child
	// count differs the list is sent again.
	sent      map[topics.NodeID]topics.Version
	kidsKnown map[topics.NodeID]int
}

func newPresenter(m *topics.Model) *presenter {
	return &presenter{model: m}
}

// pass reads the model once for req. tick passes take the change set;
// others serve only req's requests (and a reset), so that user actions are
// answered at once while the tree still takes changes at most every
// refreshInterval.
func (pr *presenter) pass(req request, tick bool) *update {
	u := &update{gen: req.gen, tick: tick}
	pr.model.View(func(v topics.View) {
		start := time.Now()
		defer func() { u.readTook = time.Since(start) }()
		// Branches the user closed are no longer followed.
		for id := range pr.kidsKnown {
			if _, open := req.open[id]; id != 0 && !open {
				delete(pr.kidsKnown, id)
			}
		}
		var cs topics.ChangeSet
		reset := !pr.started || req.gen != pr.gen
		if !reset && tick && !req.paused {
			cs = v.Changes(pr.since)
			// All: too much changed to say what; read everything again.
			reset = cs.All
		}
		if reset {
			pr.reset(v, req, u)
		} else if tick && !req.paused {
			prev := pr.since
			pr.since = cs.To
			pr.applyChanges(v, cs.Nodes, prev, u)
		}
		// While paused, what the UI has stays as it was: a request for
		// it (the tree asks again until an answer arrives, so one can
		// cross the answer) is not served with newer data.
		for _, id := range req.wantKids {
			if _, known := pr.kidsKnown[id]; !known || !req.paused {
				pr.loadKids(v, id, 0, u)
			}
		}
		for _, id := range req.wantRows {
			if _, known := pr.sent[id]; !known || !req.paused {
				pr.loadRow(v, id, u)
			}
		}
		if req.selected != 0 {
			if _, ok := pr.sent[req.selected]; !ok {
				pr.loadRow(v, req.selected, u)
			}
		}
		if req.expand {
			pr.expandAll(v, expandRows, u)
		}
		u.stats = v.Stats()
		u.filtered, u.matches, u.truncated = pr.filtered, pr.shownTopics, pr.truncated
	})
	return u
}

// reset forgets what the UI was sent and sends the roots, the open
// branches and the selection afresh; with a new filter it finds the
// matches first.
func (pr *presenter) reset(v topics.View, req request, u *update) {
	newFilter := !pr.started || pr.filter != req.filter
	pr.started, pr.gen, pr.filter = true, req.gen, req.filter
	pr.since = v.Version()
	pr.sent = make(map[topics.NodeID]topics.Version)
	pr.kidsKnown = make(map[topics.NodeID]int)
	pr.match(v)
	u.reset = true
	pr.loadKids(v, 0, 0, u)
	for id := range req.open {
		pr.loadKids(v, id, 0, u)
	}
	// A new filter opens its matches, as far as they fit: finding them is
	// why the user typed it.
	if newFilter && pr.filtered {
		pr.expandAll(v, autoExpandRows, u)
	}
}

// match finds the topics that pass the filter, up to matchLimit, and
// their ancestors.
func (pr *presenter) match(v topics.View) {
	pr.filtered = pr.filter.String() != ""
	pr.shown, pr.shownKids, pr.shownTopics, pr.truncated = nil, nil, 0, false
	if !pr.filtered {
		return
	}
	pr.shown = make(map[topics.NodeID]struct{})
	pr.shownKids = make(map[topics.NodeID]int)
	for _, src := range v.Sources() {
		ms := v.Match(src.Source, pr.filter, matchLimit-pr.shownTopics)
		for _, id := range ms.Topics {
			pr.show(v, id, nil)
		}
		if ms.Truncated {
			pr.truncated = true
		}
		if pr.shownTopics >= matchLimit {
			pr.truncated = true
			break
		}
	}
}

// show adds a matching topic and its ancestors to the shown set and
// returns the nodes that were not shown before.
func (pr *presenter) show(v topics.View, id topics.NodeID, added []topics.NodeID) []topics.NodeID {
	pr.shownTopics++
	for x := id; x != 0; {
		if _, ok := pr.shown[x]; ok {
			break
		}
		s, ok := v.Summary(x)
		if !ok {
			break
		}
		pr.shown[x] = struct{}{}
		pr.shownKids[s.Parent]++
		added = append(added, x)
		x = s.Parent
	}
	return added
}

// applyChanges forwards the changes of cs to the UI: new matches of the
// filter, child lists of open branches whose children changed, and the
// rows the UI holds.
func (pr *presenter) applyChanges(v topics.View, nodes []topics.NodeID, prev topics.Version, u *update) {
	// New matches first, so that the rows and lists below see them.
	var added []topics.NodeID
	if pr.filtered {
		for _, id := range nodes {
			if _, ok := pr.shown[id]; ok {
				continue
			}
			if pr.shownTopics >= matchLimit {
				pr.truncated = true
				break
			}
			if s, ok := v.Summary(id); ok && s.Messages > 0 && pr.filter.Match(s.Topic) {
				added = pr.show(v, id, added)
			}
		}
	}
	check := func(id topics.NodeID) {
		if known, ok := pr.kidsKnown[id]; ok && pr.childCount(v, id) != known {
			pr.loadKids(v, id, prev, u)
		}
	}
	check(0) // a new source
	for _, id := range nodes {
		check(id)
	}
	for _, id := range added {
		if s, ok := v.Summary(id); ok {
			check(s.Parent)
		}
	}
	for _, id := range nodes {
		// A row read after prev (by a pass serving a request) may already
		// show this change: then it is neither sent again nor lit.
		if at, ok := pr.sent[id]; ok {
			if s, ok := v.Summary(id); ok && s.Changed > at {
				u.rows = append(u.rows, pr.rowOf(s, max(prev, at)))
				pr.sent[id] = v.Version()
			}
		}
	}
}

// childCount is how many children of id the tree shows.
func (pr *presenter) childCount(v topics.View, id topics.NodeID) int {
	if pr.filtered {
		return pr.shownKids[id]
	}
	if id == 0 {
		return len(v.Sources())
	}
	s, _ := v.Summary(id)
	return s.Children
}

// loadKids sends id's (shown) children and follows the list from now on,
// with the rows of the children the UI does not have yet: the rows it has
// are kept current by the change sets, and a busy branch gaining a child
// every pass would otherwise resend all its children every pass. Rows
// that changed after hotAfter (0: none) light up.
func (pr *presenter) loadKids(v topics.View, id topics.NodeID, hotAfter topics.Version, u *update) []topics.NodeID {
	var ids []topics.NodeID
	if id == 0 {
		for _, s := range v.Sources() {
			if pr.shows(s.ID) {
				ids = append(ids, s.ID)
			}
		}
	} else {
		for _, c := range v.ChildIDs(id) {
			if pr.shows(c) {
				ids = append(ids, c)
			}
		}
	}
	var missing []topics.NodeID
	for _, c := range ids {
		if _, ok := pr.sent[c]; !ok {
			missing = append(missing, c)
		}
	}
	for _, s := range v.Summaries(nil, missing) {
		if s.ID != 0 {
			u.rows = append(u.rows, pr.rowOf(s, hotAfter))
			pr.sent[s.ID] = v.Version()
		}
	}
	u.kids = append(u.kids, kidList{id: id, ids: ids})
	pr.kidsKnown[id] = len(ids)
	return ids
}

// loadRow sends one node's row and follows it from now on.
func (pr *presenter) loadRow(v topics.View, id topics.NodeID, u *update) {
	if s, ok := v.Summary(id); ok {
		u.rows = append(u.rows, pr.rowOf(s, 0))
		pr.sent[id] = v.Version()
	}
}

func (pr *presenter) shows(id topics.NodeID) bool {
	if !pr.filtered {
		return true
	}
	_, ok := pr.shown[id]
	return ok
}

func (pr *presenter) rowOf(s topics.NodeSummary, hotAfter topics.Version) rowData {
	d := rowData{NodeSummary: s, branch: s.Children > 0, hot: hotAfter != 0 && s.Changed > hotAfter}
	if pr.filtered {
		d.filtered, d.shownKids = true, pr.shownKids[s.ID]
		d.branch = d.shownKids > 0
	}
	return d
}

// expandAll sends the tree's levels breadth first, as many branches as
// keep the open rows within limit, and lists them in u.expand to be
// opened.
func (pr *presenter) expandAll(v topics.View, limit int, u *update) {
	queue := pr.loadKids(v, 0, 0, u)
	rows := len(queue)
	for i := 0; i < len(queue); i++ {
		id := queue[i]
		n := pr.childCount(v, id)
		if n == 0 {
			continue
		}
		if rows+n > limit {
			u.expandCut = true
			continue
		}
		queue = append(queue, pr.loadKids(v, id, 0, u)...)
		u.expand = append(u.expand, id)
		rows += n
	}
	u.expanded, u.expandRows = true, rows
}

// Serve shows the model's changes about ten times a second until ctx is
// done, then cancels the actions the panel's buttons started, waits for
// them and returns nil. Only one Serve may be active at a time.
func (p *Panel) Serve(ctx context.Context) error {
	if !p.serving.CompareAndSwap(false, true) {
		return errors.New("explorer: Serve called while the panel is already serving")
	}
	defer p.serving.Store(false)
	p.refreshLoop(ctx)
	p.actions.Stop()
	return nil
}

// refreshNow asks the refresh goroutine for a pass without waiting for
// the next tick (for what a user action asked for).
func (p *Panel) refreshNow() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *Panel) refreshLoop(ctx context.Context) {
	pr := newPresenter(p.model)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	applied := make(chan struct{}, 1)
	tick := true
	// owed: a tick or a kick came while the UI still applied the last
	// update. It is served the moment the UI is done, not at the next
	// tick, so a slow refresh under load costs one late refresh instead
	// of a missed one (a gap of a refresh's time, not of up to another
	// interval on top), and an action the user took meanwhile shows at once.
	owed, owedTick := false, false
	for {
		if p.pending.CompareAndSwap(false, true) {
			u := pr.pass(p.in.take(), tick)
			owed, owedTick = false, false
			p.do(func() {
				p.apply(u)
				// Only now: the next pass must see what this one asked for
				// (open branches, bound rows) as the UI has it.
				p.pending.Store(false)
				select {
				case applied <- struct{}{}:
				default:
				}
			})
		} else {
			// Nothing is lost meanwhile: the owed pass takes everything since.
			owed, owedTick = true, owedTick || tick
		}
		if !p.waitForPass(ctx, t.C, applied, &tick, owed, owedTick) {
			return
		}
	}
}

// waitForPass waits for the next reason to refresh: a tick, a kick, or the
// UI done with an update while a pass is owed. It sets *tick to whether
// the pass takes the model's changes, and reports false once ctx is done.
func (p *Panel) waitForPass(ctx context.Context, ticks <-chan time.Time, applied <-chan struct{}, tick *bool, owed, owedTick bool) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-ticks:
			*tick = true
			return true
		case <-p.kick:
			*tick = false
			return true
		case <-applied:
			if owed {
				*tick = owedTick
				return true
			}
		}
	}
}
