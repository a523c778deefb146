package topics

import "encoding/binary"

// Every topic's last message lives in slots of a few shared slabs rather
// than in a buffer of its own. With 100,000 topics a buffer per topic was
// 100,000 small heap objects, allocated in the middle of a burst among
// the burst's garbage of the same sizes (payloads, packets), so after the
// burst they held on to most of the spans they were scattered over: in
// the window, about 60 MB of partly filled spans stayed resident besides
// the 34 MB of buffers themselves, which also kept room for a larger next
// message. Slabs are few large objects, filled densely.
//
// Slots come in classes of slotStep bytes up to maxSlot; a class keeps its
// slots dense, the slots in use being 0..len(owners)-1: freeing one moves
// the class's last slot into the hole (and tells its node). So a class
// holds at most one partly used slab beyond what its messages need, and a
// slab emptied at the end is given back. An entry larger than maxSlot gets
// a buffer of its own (big), a few per model at most.
const (
	slotStep  = 16
	maxSlot   = 4096
	slabBytes = 32 << 10
	// bigClass marks a node whose last message is in lastStore.big.
	bigClass = maxSlot/slotStep + 1
)

// lastStore holds every node's last message; node.lastCls (0: none, else
// class + 1, or bigClass) and node.lastSlot say where.
type lastStore struct {
	classes [maxSlot / slotStep]slotClass
	big     [][]byte
	bigOwn  []uint32 // the node of each big entry
}

// slotClass is the slots of one size.
type slotClass struct {
	slabs  [][]byte
	owners []uint32 // node of each slot in use
}

// classFor returns the class (0-based) whose slots hold need bytes, or -1
// if need is larger than maxSlot.
func classFor(need int) int {
	if need > maxSlot {
		return -1
	}
	return (need+slotStep-1)/slotStep - 1
}

func slotSize(c int) int { return (c + 1) * slotStep }

func slotsPerSlab(c int) uint32 { return uint32(slabBytes / slotSize(c)) }

// slot returns the bytes of slot k of class c.
func (s *lastStore) slot(c int, k uint32) []byte {
	size := slotSize(c)
	per := slotsPerSlab(c)
	off := int(k%per) * size
	return s.classes[c].slabs[k/per][off : off+size : off+size]
}

// last returns n's last message, the encoded entry (history.go) exactly,
// or nil before the first. It aliases the store: valid until the next
// write.
func (t *tree) last(n *node) []byte {
	switch n.lastCls {
	case 0:
		return nil
	case bigClass:
		return t.lasts.big[n.lastSlot]
	}
	b := t.lasts.slot(int(n.lastCls)-1, n.lastSlot)
	body, k := binary.Uvarint(b)
	return b[:k+int(body)]
}

// lastRoom returns room for exactly need bytes for node id's new last
// message, reusing its slot where it fits and is not much larger. The
// previous message is gone after the call.
func (t *tree) lastRoom(id uint32, n *node, need int) []byte {
	s := &t.lasts
	c := classFor(need)
	if c < 0 {
		if n.lastCls == bigClass {
			b := s.big[n.lastSlot]
			if cap(b) < need || cap(b) > 2*need {
				t.hist.alloc -= int64(cap(b))
				b = make([]byte, need)
				t.hist.alloc += int64(need)
			}
			s.big[n.lastSlot] = b[:need]
			return s.big[n.lastSlot]
		}
		t.freeLast(n)
		n.lastCls, n.lastSlot = bigClass, uint32(len(s.big))
		s.big = append(s.big, make([]byte, need))
		s.bigOwn = append(s.bigOwn, id)
		t.hist.alloc += int64(need)
		return s.big[n.lastSlot]
	}
	// A slot up to a quarter larger than needed is kept: payloads of a
	// topic vary, and moving at every message would cost a copy each.
	if old := int(n.lastCls) - 1; n.lastCls != 0 && n.lastCls != bigClass && old >= c && slotSize(old) <= need+need/4+slotStep {
		return s.slot(old, n.lastSlot)[:need]
	}
	t.freeLast(n)
	cl := &s.classes[c]
	k := uint32(len(cl.owners))
	if k/slotsPerSlab(c) == uint32(len(cl.slabs)) {
		cl.slabs = append(cl.slabs, make([]byte, slabBytes))
		t.hist.alloc += slabBytes
	}
	t.hist.alloc -= 4 * int64(cap(cl.owners))
	cl.owners = append(cl.owners, id)
	t.hist.alloc += 4 * int64(cap(cl.owners))
	n.lastCls, n.lastSlot = uint16(c+1), k
	return s.slot(c, k)[:need]
}

// freeLast frees n's slot, if any: the last slot of its class moves into
// it, so that the class stays dense.
func (t *tree) freeLast(n *node) {
	s := &t.lasts
	switch n.lastCls {
	case 0:
		return
	case bigClass:
		k, end := n.lastSlot, uint32(len(s.big)-1)
		t.hist.alloc -= int64(cap(s.big[k]))
		if k != end {
			s.big[k], s.bigOwn[k] = s.big[end], s.bigOwn[end]
			t.node(s.bigOwn[k]).lastSlot = k
		}
		s.big[end] = nil
		s.big, s.bigOwn = s.big[:end], s.bigOwn[:end]
		n.lastCls, n.lastSlot = 0, 0
		return
	}
	c := int(n.lastCls) - 1
	cl := &s.classes[c]
	k, end := n.lastSlot, uint32(len(cl.owners)-1)
	if k != end {
		copy(s.slot(c, k), s.slot(c, end))
		moved := cl.owners[end]
		cl.owners[k] = moved
		t.node(moved).lastSlot = k
	}
	cl.owners = cl.owners[:end]
	n.lastCls, n.lastSlot = 0, 0
	// Give back the last slab once the slots in use leave half a slab
	// free before it, so that one topic going back and forth between two
	// sizes does not allocate a slab each time.
	per := slotsPerSlab(c)
	for len(cl.slabs) > 0 && uint32(len(cl.owners))+per/2 <= uint32(len(cl.slabs)-1)*per {
		cl.slabs[len(cl.slabs)-1] = nil
		cl.slabs = cl.slabs[:len(cl.slabs)-1]
		t.hist.alloc -= slabBytes
	}
	if len(cl.owners) == 0 && len(cl.slabs) > 0 {
		cl.slabs = nil
		t.hist.alloc -= slabBytes
	}
}
