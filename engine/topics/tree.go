package topics

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/iotstudio/iotstudio/engine/message"
)

// NodeID names a node for the model's lifetime; IDs are never reused. Zero
// means no node.
type NodeID uint32

// Version numbers the model's states: it grows by one with every applied
// chunk of records.
type Version uint64

// chunkBits sizes node chunks (1,024 nodes, about 150 KB): growing the tree
// never copies nodes, and at most one chunk is partly unused.
const (
	chunkBits = 10
	chunkSize = 1 << chunkBits
)

// Node flags.
const (
	hasMessage = 1 << iota // at least one message was published to this exact topic
	retained               // the broker holds a retained message for it
	unsorted               // children appended in this batch, not yet in order
)

// node is one topic level. It is kept small (136 bytes) because a busy
// broker has hundreds of thousands of them: no per-node maps, the name is a
// substring of the path, and offsets are uint32.
type node struct {
	path     string   // full topic of this level; "" for a source's root
	children []uint32 // in natural order of names once the batch ends

	// History in the ring (history.go): positions + 1 of the oldest and
	// newest entries, 0 when none.
	histOld, histNew uint64

	msgs    uint64 // messages published to exactly this topic
	subMsgs uint64 // messages in the subtree, this node included
	first   int64  // Unix ns of the first and last message to this topic
	last    int64
	changed Version // the last version in which anything shown changed
	rate    rate    // of the subtree's messages

	parent      uint32
	subTopics   uint32 // nodes in the subtree (this one included) with messages
	subRetained uint32 // nodes in the subtree holding a retained message
	histBytes   uint32 // encoded bytes of the history entries
	lastSlot    uint32 // where the last message is (lastmsg.go)
	src         uint16
	lastCls     uint16 // 0 before the first message
	nameOff     uint16 // the name is path[nameOff:]
	flags       uint8
}

func (n *node) name() string { return n.path[n.nameOff:] }

// source is one tree.
type source struct {
	name string
	idx  uint16
	root uint32 // not in the index: its path "" is also the first level of "/a"
}

// tree is the state behind Model.mu.
type tree struct {
	opts     *Options
	chunks   [][]node
	count    uint32 // IDs handed out, counting the unused ID 0
	sources  []*source
	bySource map[string]*source
	lastSrc  *source // the source of the previous record: nearly always the next one's
	index    index   // every node but the roots, by source and path
	paths    pathArena

	version   Version
	messages  uint64
	topics    int
	overLimit uint64
	rate      rate

	hist    histState
	lasts   lastStore
	changes changeLog
	// restoring: the batch being applied is Model.Restore's, whose
	// messages arrived earlier and must not count in the rates.
	restoring bool

	// Parents whose children were appended to in this batch, and how many
	// of their children were in order before.
	resort  []resortEntry
	scratch []uint32
	ids     []uint32 // prefetch's scratch, reused
	hashes  []uint64
	srcs    []int32
	sink    uint64
}

type resortEntry struct{ parent, sorted uint32 }

func (t *tree) init(o *Options) {
	t.opts = o
	t.bySource = make(map[string]*source)
	t.index.init()
	t.count = 1 // ID 0 is "no node"
	t.chunks = [][]node{make([]node, chunkSize)}
	t.version = 1
	t.changes.init(o.MaxChanges, t.version)
}

func (t *tree) node(id uint32) *node { return &t.chunks[id>>chunkBits][id&(chunkSize-1)] }

// valid reports whether id names an existing node.
func (t *tree) valid(id NodeID) bool { return id != 0 && uint32(id) < t.count }

func (t *tree) newNode(parent uint32, path string, nameOff int, src uint16) uint32 {
	id := t.count
	if int(id>>chunkBits) == len(t.chunks) {
		t.chunks = append(t.chunks, make([]node, chunkSize))
	}
	t.count++
	n := t.node(id)
	*n = node{path: path, parent: parent, src: src, nameOff: uint16(nameOff)}
	if parent != 0 {
		p := t.node(parent)
		if p.flags&unsorted == 0 {
			p.flags |= unsorted
			t.resort = append(t.resort, resortEntry{parent, uint32(len(p.children))})
		}
		p.children = append(p.children, id)
	}
	return id
}

// sourceFor returns the tree of the named source, creating it (nil if the
// node limit does not allow its root).
func (t *tree) sourceFor(name string) *source {
	if s := t.lastSrc; s != nil && s.name == name {
		return s
	}
	s := t.bySource[name]
	if s == nil {
		if int(t.count) > t.opts.MaxNodes || len(t.sources) > 1<<16-1 {
			return nil
		}
		s = &source{name: strings.Clone(name), idx: uint16(len(t.sources))}
		s.root = t.newNode(0, "", 0, s.idx)
		t.sources = append(t.sources, s)
		t.bySource[s.name] = s
	}
	t.lastSrc = s
	return s
}

// addTopic creates the nodes of topic that do not exist yet and returns the
// topic's node, or false if that would exceed MaxNodes. The caller has
// checked that the topic itself is not there.
func (t *tree) addTopic(s *source, topic string) (uint32, bool) {
	if len(topic) > 1<<16-1 { // MQTT's own limit; nameOff relies on it
		return 0, false
	}
	// The levels that exist are a prefix of the topic's levels.
	parent, start := s.root, 0
	for {
		i := strings.IndexByte(topic[start:], '/')
		if i < 0 {
			break
		}
		id := t.index.find(t, s.idx, topic[:start+i])
		if id == 0 {
			break
		}
		parent, start = id, start+i+1
	}
	if int(t.count)-1+strings.Count(topic[start:], "/")+1 > t.opts.MaxNodes {
		return 0, false
	}
	// One copy of the topic: the new levels' paths and names are
	// substrings of it, so shared levels cost no further strings.
	path := t.paths.clone(topic)
	for {
		end := len(path)
		i := strings.IndexByte(path[start:], '/')
		if i >= 0 {
			end = start + i
		}
		id := t.newNode(parent, path[:end], start, s.idx)
		t.index.add(t, id)
		if i < 0 {
			return id, true
		}
		parent, start = id, end+1
	}
}

// applyBatch applies recs as one new version; folds, if not nil, says
// what each record replaced in an overloaded queue.
func (t *tree) applyBatch(recs []message.Message, folds []fold, nowNs int64, win uint32) {
	t.version++
	v := t.version
	t.changes.begin(v)
	ids := t.prefetch(recs)
	for i := range recs {
		var f fold
		if folds != nil {
			f = folds[i]
		}
		t.applyOne(&recs[i], f, ids[i], v, nowNs, win)
	}
	t.resortChildren()
	t.changes.end()
}

// prefetch looks up the nodes of recs and touches the memory applying them
// will need, before applying any. With 100,000 topics nearly each of
// those reads misses the cache; applying a message is a chain of such
// dependent reads (index slot, node, path, buffer, parent), but the reads
// of different messages do not depend on each other. So the chain is
// taken one link at a time for the whole batch, each link a short loop
// of independent reads, and the CPU waits for many misses at once instead
// of one after another. It returns each record's node (0: look it up
// again when applying; the topic may be created by an earlier record).
func (t *tree) prefetch(recs []message.Message) []uint32 {
	x := &t.index
	mask := uint64(len(x.slots) - 1)
	var sink uint64
	hashes := t.hashes[:0]
	srcs := t.srcs[:0]
	for i := range recs {
		s := t.sourceFor(recs[i].Source)
		if s == nil {
			hashes, srcs = append(hashes, 0), append(srcs, -1)
			continue
		}
		h := x.hash(s.idx, recs[i].Topic)
		hashes, srcs = append(hashes, h), append(srcs, int32(s.idx))
		sink += x.slots[h&mask]
	}
	// Candidates: the first slot with the record's fingerprint.
	ids := t.ids[:0]
	for i, h := range hashes {
		var id uint32
		if srcs[i] >= 0 {
			for j := h & mask; x.slots[j] != 0; j = (j + 1) & mask {
				if e := x.slots[j]; uint32(e>>32) == uint32(h>>32) {
					id = uint32(e)
					sink += uint64(len(t.node(id).path))
					break
				}
			}
		}
		ids = append(ids, id)
	}
	for i, id := range ids {
		if id != 0 {
			if n := t.node(id); int32(n.src) != srcs[i] || n.path != recs[i].Topic {
				ids[i] = 0 // a fingerprint collision: applyOne looks it up properly
			}
		}
	}
	for _, id := range ids {
		if id != 0 {
			n := t.node(id)
			if b := t.last(n); len(b) > 0 {
				sink += uint64(b[0])
			}
			sink += t.node(n.parent).subMsgs
		}
	}
	// The nodes the global cap will evict from next, about one per
	// message: the ring's oldest records.
	h := &t.hist
	for p, k := h.tail, 0; p < h.head && k < len(recs); k++ {
		id, _, size, _ := h.record(p, &h.scratch)
		sink += t.node(id).histOld
		p += uint64(size)
	}
	t.sink = sink // keeps the reads from being optimised away
	t.ids, t.hashes, t.srcs = ids, hashes, srcs
	return ids
}

// applyOne makes r its topic's last message and counts it and the
// messages it replaced (f) along the topic's branch.
func (t *tree) applyOne(r *message.Message, f fold, id uint32, v Version, nowNs int64, win uint32) {
	s := t.sourceFor(r.Source)
	if s == nil {
		t.overLimit++
		return
	}
	if id == 0 {
		id = t.index.find(t, s.idx, r.Topic)
	}
	if id == 0 {
		var ok bool
		if id, ok = t.addTopic(s, r.Topic); !ok {
			t.overLimit++
			return
		}
	}
	n := t.node(id)
	at := nowNs
	if !r.Time.IsZero() {
		at = r.Time.UnixNano()
	}
	var newTopic, retDelta uint32 // added to every ancestor; uint32 wraps for -1
	if n.flags&hasMessage == 0 {
		n.flags |= hasMessage
		n.first = at
		newTopic = 1
		t.topics++
	}
	// MQTT keeps a retained message until a retained message with an empty
	// payload clears it; a non-retained publish leaves it in place, also
	// when it replaced the retained one in the queue (f.retain).
	effect := f.retain
	if r.Retain {
		effect = retainEffect(r)
	}
	was := n.flags&retained != 0
	switch {
	case effect > 0 && !was:
		n.flags |= retained
		retDelta = 1
	case effect < 0 && was:
		n.flags &^= retained
		retDelta = ^uint32(0)
	}
	count := 1 + f.skipped
	n.msgs += uint64(count)
	n.last = at
	t.messages += uint64(count)
	counting := !t.restoring
	if counting {
		t.rate.add(win, count)
	}
	t.store(id, n, r, at)

	marking := true
	for x := id; x != 0; {
		xn := t.node(x)
		xn.subMsgs += uint64(count)
		xn.subTopics += newTopic
		xn.subRetained += retDelta
		if counting {
			xn.rate.add(win, count)
		}
		// Once a node is marked in this version so are its ancestors.
		if marking {
			if xn.changed == v {
				marking = false
			} else {
				xn.changed = v
				t.changes.add(x)
			}
		}
		x = xn.parent
	}
}

// resortChildren puts the children appended in this batch in natural
// order. Apply finds nodes through the path index, so only readers need the
// order; sorting the few new children and merging them in costs O(new log
// new + all) per parent and batch, where inserting each one in place would
// cost O(all) per child.
func (t *tree) resortChildren() {
	for _, e := range t.resort {
		p := t.node(e.parent)
		p.flags &^= unsorted
		kids := p.children
		tail := append(t.scratch[:0], kids[e.sorted:]...)
		slices.SortFunc(tail, t.compareNames)
		// Merge from the back so the sorted head never needs moving twice.
		i, j, k := int(e.sorted)-1, len(tail)-1, len(kids)-1
		for j >= 0 {
			if i >= 0 && t.compareNames(kids[i], tail[j]) > 0 {
				kids[k] = kids[i]
				i--
			} else {
				kids[k] = tail[j]
				j--
			}
			k--
		}
		t.scratch = tail[:0]
	}
	t.resort = t.resort[:0]
}

func (t *tree) compareNames(a, b uint32) int {
	return naturalCompare(t.node(a).name(), t.node(b).name())
}

// pathArena holds the topics' paths back to back in chunks. A string of
// its own per topic would be 100,000 small heap objects at issue 11's
// burst, allocated among the burst's garbage of the same sizes (every
// packet's topic), each keeping a span of that garbage's size class
// resident after the burst. Nodes are never removed, so neither are the
// paths: a chunk needs no freeing.
type pathArena struct {
	chunk []byte // the chunk being filled; full ones are kept by their strings
}

// pathChunk is large enough that the chunks' unused tails are a few per
// cent, and small enough that a model with a handful of topics wastes
// little.
const pathChunk = 16 << 10

// clone returns a copy of s in the arena; s longer than an eighth of a
// chunk gets its own string, so that no chunk is left mostly unused.
func (a *pathArena) clone(s string) string {
	if len(s) == 0 || len(s) > pathChunk/8 {
		return strings.Clone(s)
	}
	if cap(a.chunk)-len(a.chunk) < len(s) {
		a.chunk = make([]byte, 0, pathChunk)
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, s...)
	// The bytes are never written again: the chunk only grows past them.
	return unsafe.String(&a.chunk[start], len(s))
}
