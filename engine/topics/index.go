package topics

import "hash/maphash"

// index finds a node by source and path. It replaces a map[string]uint32
// per source because with 100,000 topics every lookup misses the cache:
// a Go map touches its control word, its slot and the key's bytes, where
// this table touches one 8-byte slot (2 MB for 100,000 topics, small
// enough to stay in the L3 cache) and then the node, which the caller
// reads anyway. Slots hold the hash's high 32 bits and the node ID (0:
// empty); probing is linear; nodes are never removed, so there are no
// tombstones.
type index struct {
	seed  maphash.Seed
	slots []uint64
	n     int
}

func (x *index) init() {
	x.seed = maphash.MakeSeed()
	x.slots = make([]uint64, 1024)
}

func (x *index) hash(src uint16, path string) uint64 {
	// Mixing the source in keeps the same topic of two sources apart
	// without hashing the source name on every message.
	return maphash.String(x.seed, path) ^ (uint64(src) * 0x9e3779b97f4a7c15)
}

// find returns the node of path in source src, or 0.
func (x *index) find(t *tree, src uint16, path string) uint32 {
	h := x.hash(src, path)
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := x.slots[i]
		if e == 0 {
			return 0
		}
		if uint32(e>>32) == uint32(h>>32) {
			if n := t.node(uint32(e)); n.src == src && n.path == path {
				return uint32(e)
			}
		}
	}
}

// add records node id, whose path is not in the index yet.
func (x *index) add(t *tree, id uint32) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow(t)
	}
	n := t.node(id)
	x.put(x.hash(n.src, n.path), id)
	x.n++
}

func (x *index) put(h uint64, id uint32) {
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = h>>32<<32 | uint64(id)
}

// grow doubles the table, rehashing every indexed node.
func (x *index) grow(t *tree) {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	for _, e := range old {
		if e != 0 {
			n := t.node(uint32(e))
			x.put(x.hash(n.src, n.path), uint32(e))
		}
	}
}
