package topics

import "sort"

// ChangeSet says what changed between two versions.
type ChangeSet struct {
	From, To Version
	// All means the reader should treat every node as changed: it never
	// looked before (From 0), or fell so far behind that the log no longer
	// covers From. Nodes is then empty.
	All bool
	// Nodes changed in (From, To], each listed once: topics that received
	// messages, their ancestors (whose subtree counts changed), new nodes,
	// and new sources' roots (Parent 0).
	Nodes []NodeID
}

// changeLog remembers which nodes each recent version changed, in at most
// max entries. A node changed in several versions is logged in each, but
// a reader reports only the entry of the version its node.changed names,
// so each node is listed once without a map or a sort.
type changeLog struct {
	max     int
	ids     []uint32
	batches []batchMark // in version order; ids[start:next start] changed in v
	// allThrough: a reader whose last look is older than this version gets
	// All, because entries it would need were dropped.
	allThrough Version
	cur        Version
	overflow   bool // the current batch alone outgrew the log
}

type batchMark struct {
	v     Version
	start int
}

func (c *changeLog) init(max int, v Version) {
	c.max = max
	c.allThrough = v // nothing before the first version is logged
}

func (c *changeLog) begin(v Version) {
	c.cur, c.overflow = v, false
	c.batches = append(c.batches, batchMark{v, len(c.ids)})
}

// add logs that id changed in the current version; the caller logs each
// node at most once per version.
func (c *changeLog) add(id uint32) {
	if c.overflow {
		return
	}
	if len(c.ids) >= c.max && !c.trim() {
		// Even alone this version changed more than the log holds: anyone
		// who looked before it rebuilds.
		c.ids, c.batches = c.ids[:0], c.batches[:0]
		c.allThrough, c.overflow = c.cur, true
		return
	}
	c.ids = append(c.ids, id)
}

// end forgets the current version's mark if it changed nothing.
func (c *changeLog) end() {
	if k := len(c.batches); k > 0 && c.batches[k-1].v == c.cur && c.batches[k-1].start == len(c.ids) {
		c.batches = c.batches[:k-1]
	}
}

// trim drops the oldest versions, about half the entries but never the
// current version, and reports whether it dropped anything. Dropping half
// at a time moves each entry at most a few times over its life.
func (c *changeLog) trim() bool {
	b := 1
	for b < len(c.batches)-1 && c.batches[b].start < len(c.ids)/2 {
		b++
	}
	if b >= len(c.batches) {
		return false
	}
	c.allThrough = c.batches[b-1].v
	off := c.batches[b].start
	c.ids = c.ids[:copy(c.ids, c.ids[off:])]
	c.batches = c.batches[:copy(c.batches, c.batches[b:])]
	for i := range c.batches {
		c.batches[i].start -= off
	}
	return true
}

// changesSince is Model.Changes under the read lock.
func (t *tree) changesSince(since Version) ChangeSet {
	cs := ChangeSet{From: since, To: t.version}
	c := &t.changes
	switch {
	case since == t.version:
		return cs
	case since > t.version || since < c.allThrough:
		cs.All = true
		return cs
	}
	i := sort.Search(len(c.batches), func(i int) bool { return c.batches[i].v > since })
	for ; i < len(c.batches); i++ {
		end := len(c.ids)
		if i+1 < len(c.batches) {
			end = c.batches[i+1].start
		}
		v := c.batches[i].v
		for _, id := range c.ids[c.batches[i].start:end] {
			if t.node(id).changed == v {
				cs.Nodes = append(cs.Nodes, NodeID(id))
			}
		}
	}
	return cs
}
