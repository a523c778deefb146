package topics

import (
	"slices"
	"time"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/message"
)

// PreviewBytes is how much of a payload NodeSummary.Preview holds.
const PreviewBytes = 64

// NodeSummary is what a tree row shows of one node. Its strings are shared
// with the model (they never change) and its slices are copies.
type NodeSummary struct {
	ID, Parent NodeID // Parent is 0 for a source's root
	Source     string
	// Topic is the node's full path, "" for a root. The first level of
	// "/a" is also "": tell them apart by Parent.
	Topic string
	// Name is the last level of Topic; for a root, the source's name.
	Name     string
	Children int
	// Messages were published to exactly this topic; SubtreeMessages to it
	// and every topic below.
	Messages        uint64
	SubtreeMessages uint64
	SubtreeTopics   int // topics with messages in the subtree, this one included
	SubtreeRetained int // of those, how many hold a retained message
	// Retained: the broker holds a retained message for this topic (a
	// retained publish with a payload sets it, one without clears it).
	Retained bool
	// Rate is the subtree's messages per second over Options.RateWindow.
	Rate float64
	// FirstSeen and LastSeen are the receive times of the first and last
	// message to this topic; zero for a level that never got one.
	FirstSeen, LastSeen time.Time
	PayloadLen          int    // of the last message
	Preview             string // its first PreviewBytes bytes, not splitting a UTF-8 character
	Changed             Version
}

// NodeDetail is what an inspector shows: the summary and the last message
// whole.
type NodeDetail struct {
	NodeSummary
	// Last is the last message with Source and Topic set. Its Seq is 0: the
	// model does not know the capture's sequence numbers.
	Last message.Message
	// HistoryLen counts the messages History returns (Last included) and
	// HistoryBytes their encoded size in RAM.
	HistoryLen   int
	HistoryBytes int
}

// Stats are the model's totals.
type Stats struct {
	Version Version
	Sources int
	Nodes   int // every level of every tree, roots included
	Topics  int // nodes that received messages
	// Messages counts the messages applied, Coalesced ones included.
	Messages uint64
	Rate     float64
	// Coalesced counts messages an overloaded queue skipped because a
	// newer message on the same topic replaced them before they were
	// applied: they are in the topics' counts and rates but not in their
	// history, and the tree still shows every topic's newest message.
	Coalesced uint64
	// Dropped counts records Ingest refused because even an overloaded
	// queue was full (their topics may show an older message), OverLimit
	// records not applied because their topic would have exceeded
	// Options.MaxNodes.
	Dropped   uint64
	OverLimit uint64
	Queued    int
	// ApplyTime is the wall time spent applying (waiting for the write
	// lock included); ApplyTime / Messages is the apply cost per message.
	ApplyTime time.Duration
	// HistoryEntries and HistoryBytes are the earlier messages held (last
	// messages excluded), the bytes counted against the caps.
	// BufferBytes is what the last messages' slabs and the history ring
	// hold, unused room included.
	HistoryEntries int
	HistoryBytes   int64
	BufferBytes    int64
}

// Matches are the topics of one source that pass a Filter.
type Matches struct {
	Topics    []NodeID // in the order their nodes were created
	Truncated bool     // there were more than the limit
	Version   Version
	shown     map[NodeID]struct{}
}

// Shows reports whether a filtered tree shows id: a matching topic or one
// of its ancestors.
func (ms *Matches) Shows(id NodeID) bool {
	_, ok := ms.shown[id]
	return ok
}

// View reads one consistent snapshot of the model. It is valid only inside
// the function given to Model.View, which holds the model's read lock: keep
// that function short, since applying waits for it.
type View struct {
	m    *Model
	t    *tree
	win  uint32
	frac float64
	live *bool
}

// View calls fn with a snapshot of the model.
func (m *Model) View(fn func(View)) {
	win, frac := m.window(m.opts.clock())
	live := true
	m.mu.RLock()
	defer func() {
		live = false
		m.mu.RUnlock()
	}()
	fn(View{m: m, t: &m.t, win: win, frac: frac, live: &live})
}

func (v View) check() {
	if v.live == nil || !*v.live {
		panic("topics: View used outside the function passed to Model.View")
	}
}

// Version is the version the snapshot shows.
func (v View) Version() Version {
	v.check()
	return v.t.version
}

// Sources returns each source's root, in natural order of their names.
func (v View) Sources() []NodeSummary {
	v.check()
	out := make([]NodeSummary, 0, len(v.t.sources))
	for _, s := range v.t.sources {
		out = append(out, v.summary(s.root))
	}
	slices.SortFunc(out, func(a, b NodeSummary) int { return naturalCompare(a.Name, b.Name) })
	return out
}

// Root returns the root of source's tree.
func (v View) Root(source string) (NodeID, bool) {
	v.check()
	if s := v.t.bySource[source]; s != nil {
		return NodeID(s.root), true
	}
	return 0, false
}

// Lookup returns the node of topic in source's tree.
func (v View) Lookup(source, topic string) (NodeID, bool) {
	v.check()
	if s := v.t.bySource[source]; s != nil {
		id := v.t.index.find(v.t, s.idx, topic)
		return NodeID(id), id != 0
	}
	return 0, false
}

// Summary returns one node's row.
func (v View) Summary(id NodeID) (NodeSummary, bool) {
	v.check()
	if !v.t.valid(id) {
		return NodeSummary{}, false
	}
	return v.summary(uint32(id)), true
}

// Summaries appends the rows of ids to dst, in the same order; an unknown
// ID gets a zero row (ID 0).
func (v View) Summaries(dst []NodeSummary, ids []NodeID) []NodeSummary {
	v.check()
	for _, id := range ids {
		var s NodeSummary
		if v.t.valid(id) {
			s = v.summary(uint32(id))
		}
		dst = append(dst, s)
	}
	return dst
}

// ChildIDs returns id's children in natural order of their names.
func (v View) ChildIDs(id NodeID) []NodeID {
	v.check()
	if !v.t.valid(id) {
		return nil
	}
	kids := v.t.node(uint32(id)).children
	out := make([]NodeID, len(kids))
	for i, k := range kids {
		out[i] = NodeID(k)
	}
	return out
}

// Children returns the rows of id's children in natural order.
func (v View) Children(id NodeID) []NodeSummary {
	v.check()
	if !v.t.valid(id) {
		return nil
	}
	kids := v.t.node(uint32(id)).children
	out := make([]NodeSummary, len(kids))
	for i, k := range kids {
		out[i] = v.summary(k)
	}
	return out
}

// Node returns id's row and its last message.
func (v View) Node(id NodeID) (NodeDetail, bool) {
	v.check()
	if !v.t.valid(id) {
		return NodeDetail{}, false
	}
	n := v.t.node(uint32(id))
	d := NodeDetail{NodeSummary: v.summary(uint32(id))}
	if last := v.t.last(n); len(last) > 0 {
		body, _ := entryAt(last, 0)
		e := parseEntry(body)
		d.Last = e.record(d.Source, n.path)
		d.HistoryLen = 1
		var scratch []byte
		v.t.hist.historyOf(n, &scratch, func([]byte) { d.HistoryLen++ })
		d.HistoryBytes = int(n.histBytes) + len(last)
	}
	return d, true
}

// History returns the messages of id's topic held in RAM, newest (the last
// message) first. Older ones are in the capture store: continue there
// before the oldest one's Time.
func (v View) History(id NodeID) []message.Message {
	v.check()
	if !v.t.valid(id) {
		return nil
	}
	n := v.t.node(uint32(id))
	src := v.t.sources[n.src].name
	var out []message.Message
	add := func(entry []byte) {
		body, _ := entryAt(entry, 0)
		e := parseEntry(body)
		out = append(out, e.record(src, n.path))
	}
	var scratch []byte
	v.t.hist.historyOf(n, &scratch, add)
	if last := v.t.last(n); len(last) > 0 {
		add(last)
	}
	slices.Reverse(out)
	return out
}

// RetainedTopics returns the topics in id's subtree (id included) for
// which the broker holds a retained message, in tree order: what "delete
// retained messages" must clear. It descends only into branches that
// count retained messages, so a large tree with few of them is cheap.
func (v View) RetainedTopics(id NodeID) []string {
	v.check()
	if !v.t.valid(id) {
		return nil
	}
	var out []string
	var walk func(x uint32)
	walk = func(x uint32) {
		n := v.t.node(x)
		if n.subRetained == 0 {
			return
		}
		if n.flags&retained != 0 {
			out = append(out, n.path)
		}
		for _, k := range n.children {
			walk(k)
		}
	}
	walk(uint32(id))
	return out
}

// Changes reports which nodes changed after version since; pass the
// returned To next time.
func (v View) Changes(since Version) ChangeSet {
	v.check()
	return v.t.changesSince(since)
}

// Match returns up to limit topics of source that pass f (limit <= 0: no
// limit), with what a filtered tree shows.
func (v View) Match(source string, f Filter, limit int) Matches {
	v.check()
	ms := Matches{Version: v.t.version, shown: make(map[NodeID]struct{})}
	s := v.t.bySource[source]
	if s == nil {
		return ms
	}
	var buf []byte
	for id := uint32(1); id < v.t.count; id++ {
		n := v.t.node(id)
		if n.src != s.idx || n.flags&hasMessage == 0 || !f.match(n.path, &buf) {
			continue
		}
		if limit > 0 && len(ms.Topics) == limit {
			ms.Truncated = true
			break
		}
		ms.Topics = append(ms.Topics, NodeID(id))
		for x := id; x != 0; x = v.t.node(x).parent {
			if _, seen := ms.shown[NodeID(x)]; seen {
				break
			}
			ms.shown[NodeID(x)] = struct{}{}
		}
	}
	return ms
}

// Stats returns the model's totals.
func (v View) Stats() Stats {
	v.check()
	t := v.t
	m := v.m
	m.qmu.Lock()
	queued := len(m.pending)
	m.qmu.Unlock()
	return Stats{
		Version:        t.version,
		Sources:        len(t.sources),
		Nodes:          int(t.count) - 1,
		Topics:         t.topics,
		Messages:       t.messages,
		Rate:           t.rate.perSecond(v.win, v.frac, m.opts.RateWindow),
		Coalesced:      m.coalesced.Load(),
		Dropped:        m.dropped.Load(),
		OverLimit:      t.overLimit,
		Queued:         queued,
		ApplyTime:      time.Duration(m.applyNanos.Load()),
		HistoryEntries: t.hist.entries,
		HistoryBytes:   t.hist.bytes,
		BufferBytes:    t.hist.alloc,
	}
}

func (v View) summary(id uint32) NodeSummary {
	t := v.t
	n := t.node(id)
	src := t.sources[n.src].name
	s := NodeSummary{
		ID:              NodeID(id),
		Parent:          NodeID(n.parent),
		Source:          src,
		Topic:           n.path,
		Name:            n.name(),
		Children:        len(n.children),
		Messages:        n.msgs,
		SubtreeMessages: n.subMsgs,
		SubtreeTopics:   int(n.subTopics),
		SubtreeRetained: int(n.subRetained),
		Retained:        n.flags&retained != 0,
		Rate:            n.rate.perSecond(v.win, v.frac, v.m.opts.RateWindow),
		Changed:         n.changed,
	}
	if n.parent == 0 {
		s.Name = src
	}
	if n.flags&hasMessage != 0 {
		s.FirstSeen, s.LastSeen = time.Unix(0, n.first), time.Unix(0, n.last)
	}
	if last := t.last(n); len(last) > 0 {
		body, _ := entryAt(last, 0)
		p := parseEntry(body).payload
		s.PayloadLen = len(p)
		s.Preview = preview(p)
	}
	return s
}

// preview cuts p to PreviewBytes, backing off to a UTF-8 character
// boundary so that text never ends in a broken character.
func preview(p []byte) string {
	if len(p) <= PreviewBytes {
		return string(p)
	}
	cut := PreviewBytes
	for cut > PreviewBytes-utf8.UTFMax && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return string(p[:cut])
}

// The methods below are View's, each in its own snapshot.

// Sources: see View.Sources.
func (m *Model) Sources() (out []NodeSummary) {
	m.View(func(v View) { out = v.Sources() })
	return out
}

// Lookup: see View.Lookup.
func (m *Model) Lookup(source, topic string) (id NodeID, ok bool) {
	m.View(func(v View) { id, ok = v.Lookup(source, topic) })
	return id, ok
}

// Summaries: see View.Summaries.
func (m *Model) Summaries(dst []NodeSummary, ids []NodeID) (out []NodeSummary) {
	m.View(func(v View) { out = v.Summaries(dst, ids) })
	return out
}

// Children: see View.Children.
func (m *Model) Children(id NodeID) (out []NodeSummary) {
	m.View(func(v View) { out = v.Children(id) })
	return out
}

// ChildIDs: see View.ChildIDs.
func (m *Model) ChildIDs(id NodeID) (out []NodeID) {
	m.View(func(v View) { out = v.ChildIDs(id) })
	return out
}

// Node: see View.Node.
func (m *Model) Node(id NodeID) (d NodeDetail, ok bool) {
	m.View(func(v View) { d, ok = v.Node(id) })
	return d, ok
}

// History: see View.History.
func (m *Model) History(id NodeID) (out []message.Message) {
	m.View(func(v View) { out = v.History(id) })
	return out
}

// RetainedTopics: see View.RetainedTopics.
func (m *Model) RetainedTopics(id NodeID) (out []string) {
	m.View(func(v View) { out = v.RetainedTopics(id) })
	return out
}

// Changes: see View.Changes.
func (m *Model) Changes(since Version) (cs ChangeSet) {
	m.View(func(v View) { cs = v.Changes(since) })
	return cs
}

// Match: see View.Match.
func (m *Model) Match(source string, f Filter, limit int) (ms Matches) {
	m.View(func(v View) { ms = v.Match(source, f, limit) })
	return ms
}

// Stats: see View.Stats.
func (m *Model) Stats() (s Stats) {
	m.View(func(v View) { s = v.Stats() })
	return s
}
