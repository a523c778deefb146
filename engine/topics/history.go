package topics

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// A node's messages are entries packed into node.hist:
//
//	hist[:head]         dead bytes (evicted, not reclaimed yet)
//	hist[head:lastOff]  history: earlier messages, oldest first
//	hist[lastOff:]      the last message (absent only before the first)
//
// One buffer per node instead of one allocation per message: applying a
// message allocates nothing once the buffer has room and the GC sees one
// pointer per node. Each entry is
//
//	length     uvarint, of the rest
//	time       8 bytes LE, Unix ns
//	flags      1 byte: bit0 Retain, bit1 PayloadFormat present, bit2 MessageExpiry present
//	protocol   1 byte
//	qos        1 byte
//	payloadFormat 1 byte, if flagged; messageExpiry 4 bytes LE, if flagged
//	clientID, contentType, responseTopic, correlationData: uvarint length + bytes
//	userProps  uvarint count, then uvarint length + key, uvarint length + value
//	payload    the rest
//
// Topic and source are the node's and are not repeated.
//
// Caps count the encoded bytes of history entries; the last message is
// never evicted, so each topic always shows its last message whole. The
// global cap is enforced through a FIFO of history entries in the order
// they were superseded (a message becomes history when the next one on its
// topic arrives): the entry superseded longest ago goes first. The
// per-topic cap keeps one busy topic from taking the whole budget. What
// buffers hold beyond the counted bytes (dead bytes below, room for the
// next message, see reserve) is in Stats.BufferBytes.
//
// With 100,000 topics every touch of another topic's memory is a cache
// miss, and those misses are most of the apply cost. So evicting for the
// global cap touches only the evicted node's struct: the FIFO slot carries
// the entry's size, and a per-node count of stale slots (entries the
// per-topic cap evicted first) replaces reading the entry to check it. The
// evicted bytes become dead and are reclaimed when that node is next
// written (its buffer is in cache then), or at once while the model's dead
// bytes exceed deadBudget, which bounds what laziness may hold.
const (
	entryRetain        = 1 << 0
	entryPayloadFormat = 1 << 1
	entryMessageExpiry = 1 << 2

	entryFixed = 8 + 3 // time, flags+protocol+qos
)

// histState is the model-wide side of history, guarded by Model.mu.
type histState struct {
	bytes   int64 // encoded bytes of all history entries (last messages excluded)
	entries int
	alloc   int64 // cap of every node's buffer: what history and last messages really hold
	dead    int64 // evicted bytes still in buffers (every node's head)

	// fifo holds nodeID<<32 | entry size of history entries in the order
	// they were superseded, from fifoHead on. Entries evicted by the
	// per-topic cap stay in it until popped or compacted; stale counts
	// them here and node.stale per node.
	fifo     []uint64
	fifoHead int
	stale    int
}

// deadBudget is how many evicted bytes may wait in buffers to be reclaimed
// lazily: half the history cap, at least 1 MiB.
func (t *tree) deadBudget() int64 { return max(t.opts.HistoryBytes/2, 1<<20) }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func strLen(n int) int { return uvarintLen(uint64(n)) + n }

// bodyLen is the encoded length of r's entry after its length prefix.
func bodyLen(r *capture.Record) int {
	n := entryFixed
	if r.PayloadFormat != nil {
		n++
	}
	if r.MessageExpiry != nil {
		n += 4
	}
	n += strLen(len(r.ClientID)) + strLen(len(r.ContentType)) + strLen(len(r.ResponseTopic)) +
		strLen(len(r.CorrelationData)) + uvarintLen(uint64(len(r.UserProps)))
	for _, p := range r.UserProps {
		n += strLen(len(p.Key)) + strLen(len(p.Value))
	}
	return n + len(r.Payload)
}

func appendEntry(b []byte, r *capture.Record, body int, at int64) []byte {
	b = binary.AppendUvarint(b, uint64(body))
	b = binary.LittleEndian.AppendUint64(b, uint64(at))
	var flags byte
	if r.Retain {
		flags |= entryRetain
	}
	if r.PayloadFormat != nil {
		flags |= entryPayloadFormat
	}
	if r.MessageExpiry != nil {
		flags |= entryMessageExpiry
	}
	b = append(b, flags, r.Protocol, r.QoS)
	if r.PayloadFormat != nil {
		b = append(b, *r.PayloadFormat)
	}
	if r.MessageExpiry != nil {
		b = binary.LittleEndian.AppendUint32(b, *r.MessageExpiry)
	}
	b = appendStr(b, r.ClientID)
	b = appendStr(b, r.ContentType)
	b = appendStr(b, r.ResponseTopic)
	b = binary.AppendUvarint(b, uint64(len(r.CorrelationData)))
	b = append(b, r.CorrelationData...)
	b = binary.AppendUvarint(b, uint64(len(r.UserProps)))
	for _, p := range r.UserProps {
		b = appendStr(b, p.Key)
		b = appendStr(b, p.Value)
	}
	return append(b, r.Payload...)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// entryAt returns the body of the entry at off and the offset after it.
// The model wrote every entry itself, so a malformed one is a bug, and
// slicing past the buffer panics rather than returning garbage.
func entryAt(b []byte, off uint32) (body []byte, next uint32) {
	n, k := binary.Uvarint(b[off:])
	start := int(off) + k
	end := start + int(n)
	return b[start:end:end], uint32(end)
}

// entryReader walks the variable part of an entry body.
type entryReader struct {
	b   []byte
	off int
}

func (r *entryReader) bytes() []byte {
	n, k := binary.Uvarint(r.b[r.off:])
	r.off += k
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

// decodedEntry is a parsed entry whose slices alias the node's buffer.
type decodedEntry struct {
	at          int64
	flags       byte
	protocol    byte
	qos         byte
	payloadFmt  byte
	expiry      uint32
	clientID    []byte
	contentType []byte
	respTopic   []byte
	correlation []byte
	nProps      int
	props       []byte // nProps encoded key/value pairs
	payload     []byte
}

func parseEntry(body []byte) decodedEntry {
	e := decodedEntry{
		at:    int64(binary.LittleEndian.Uint64(body)),
		flags: body[8], protocol: body[9], qos: body[10],
	}
	r := entryReader{b: body, off: entryFixed}
	if e.flags&entryPayloadFormat != 0 {
		e.payloadFmt = body[r.off]
		r.off++
	}
	if e.flags&entryMessageExpiry != 0 {
		e.expiry = binary.LittleEndian.Uint32(body[r.off:])
		r.off += 4
	}
	e.clientID = r.bytes()
	e.contentType = r.bytes()
	e.respTopic = r.bytes()
	e.correlation = r.bytes()
	n, k := binary.Uvarint(body[r.off:])
	r.off += k
	start := r.off
	for range n {
		r.bytes()
		r.bytes()
	}
	e.nProps = int(n)
	e.props = body[start:r.off]
	e.payload = body[r.off:]
	return e
}

// record copies the entry into a Record sharing no memory with the model.
func (e *decodedEntry) record(source, topic string) capture.Record {
	rec := capture.Record{
		Time:            time.Unix(0, e.at),
		Source:          source,
		ClientID:        string(e.clientID),
		Protocol:        e.protocol,
		Topic:           topic,
		Payload:         cloneBytes(e.payload),
		QoS:             e.qos,
		Retain:          e.flags&entryRetain != 0,
		ContentType:     string(e.contentType),
		ResponseTopic:   string(e.respTopic),
		CorrelationData: cloneBytes(e.correlation),
	}
	if e.flags&entryPayloadFormat != 0 {
		f := e.payloadFmt
		rec.PayloadFormat = &f
	}
	if e.flags&entryMessageExpiry != 0 {
		x := e.expiry
		rec.MessageExpiry = &x
	}
	if e.nProps > 0 {
		rec.UserProps = make([]capture.UserProp, e.nProps)
		r := entryReader{b: e.props}
		for i := range rec.UserProps {
			rec.UserProps[i] = capture.UserProp{Key: string(r.bytes()), Value: string(r.bytes())}
		}
	}
	return rec
}

// cloneBytes copies b; empty becomes nil, as capture decodes it.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// store makes r node n's last message; the previous last becomes history,
// and the caps evict what no longer fits.
func (t *tree) store(id uint32, n *node, r *capture.Record, at int64) {
	h := &t.hist
	if size := len(n.hist) - int(n.lastOff); size > t.opts.HistoryBytesPerTopic {
		// The superseded message alone is over the cap: it and everything
		// older go, without a FIFO slot that would only turn stale.
		for n.head < n.lastOff {
			t.evictOldest(n)
		}
		h.dead += int64(size)
		n.head = uint32(len(n.hist))
		n.lastOff = n.head
	} else if size > 0 {
		h.bytes += int64(size)
		h.entries++
		t.fifoPush(id, uint32(size))
		n.lastOff = uint32(len(n.hist))
		for int(n.lastOff-n.head) > t.opts.HistoryBytesPerTopic {
			t.evictOldest(n)
		}
	}
	body := bodyLen(r)
	t.reserve(n, uvarintLen(uint64(body))+body)
	n.lastOff = uint32(len(n.hist))
	n.hist = appendEntry(n.hist, r, body, at)
	for h.bytes > t.opts.HistoryBytes {
		if !t.evictGlobal() {
			break
		}
	}
	if h.stale > 1024 && h.stale > (len(h.fifo)-h.fifoHead)/2 {
		t.compactFIFO()
	}
}

// evictOldest drops n's oldest history entry for the per-topic cap; the
// caller ensures it has one. Its FIFO slot turns stale.
func (t *tree) evictOldest(n *node) {
	_, next := entryAt(n.hist, n.head)
	size := int64(next - n.head)
	t.hist.bytes -= size
	t.hist.dead += size
	t.hist.entries--
	t.hist.stale++
	n.stale++
	n.head = next
}

// reserve makes room for need more bytes at the end of n.hist. It
// reclaims dead bytes when they are many (at least half the live ones, or
// the model is over its dead budget) or when there is no room otherwise,
// and replaces a buffer much larger than its contents (a topic that once
// carried a large payload) so memory follows what is kept.
//
// Growing (to 1.5× what is needed) and shrinking (beyond 3× plus 512
// bytes) leave a wide band on purpose: under a binding global cap a
// topic's history loses and regains an entry or two all the time. With a
// narrow band (2× and 2× + 256) a third of all messages reallocated a
// buffer, which cost more than the rest of applying them; with this band
// about a tenth do (BenchmarkHeap100kTopics1MMessages' load).
func (t *tree) reserve(n *node, need int) {
	live := len(n.hist) - int(n.head)
	want := live + need
	c := cap(n.hist)
	switch {
	case c > 3*want+512:
		t.realloc(n, want+want/4)
	case want > c:
		t.realloc(n, grow(want))
	case n.head > 0 && (len(n.hist)+need > c || int(n.head) >= live/2 || t.hist.dead > t.deadBudget()):
		t.compact(n)
	}
}

// grow sizes a buffer that must hold want bytes: half as much again while
// small, a quarter more once larger, since history is capped anyway and
// slack is memory.
func grow(want int) int {
	if want < 4096 {
		return want + want/2
	}
	return want + want/4
}

// compact moves n's live entries to the front of its buffer.
func (t *tree) compact(n *node) {
	if n.head == 0 {
		return
	}
	k := copy(n.hist, n.hist[n.head:])
	n.hist = n.hist[:k]
	t.hist.dead -= int64(n.head)
	n.lastOff -= n.head
	n.head = 0
}

func (t *tree) realloc(n *node, size int) {
	// slices.Grow rounds up to the allocator's size class: the room is
	// allocated anyway, so take it as headroom.
	b := slices.Grow([]byte(nil), size)[:len(n.hist)-int(n.head)]
	copy(b, n.hist[n.head:])
	t.hist.alloc += int64(cap(b) - cap(n.hist))
	t.hist.dead -= int64(n.head)
	n.lastOff -= n.head
	n.hist, n.head = b, 0
}

// evictGlobal evicts the history entry superseded longest ago and reports
// whether the FIFO had anything left. A node's slots are in its own
// supersession order and both caps evict its oldest entry first, so its
// stale slots are always its first ones: a slot is stale exactly when its
// node still counts stale slots.
func (t *tree) evictGlobal() bool {
	h := &t.hist
	for h.fifoHead < len(h.fifo) {
		e := h.fifo[h.fifoHead]
		h.fifoHead++
		if h.fifoHead == len(h.fifo) {
			h.fifo, h.fifoHead = h.fifo[:0], 0
		}
		n := t.node(uint32(e >> 32))
		if n.stale > 0 {
			n.stale--
			h.stale--
			continue
		}
		size := uint32(e)
		n.head += size
		h.bytes -= int64(size)
		h.dead += int64(size)
		h.entries--
		if h.dead > t.deadBudget() {
			t.tidy(n)
		}
		return true
	}
	return false
}

// tidy reclaims a node's dead bytes now, shrinking its buffer only if it
// is far larger than what is left (the band of reserve, widened: the node
// will likely be written again before long and grow back).
func (t *tree) tidy(n *node) {
	live := len(n.hist) - int(n.head)
	if cap(n.hist) > 4*live+1024 {
		t.realloc(n, live+live/4)
	} else {
		t.compact(n)
	}
}

func (t *tree) fifoPush(id, size uint32) {
	h := &t.hist
	if len(h.fifo) == cap(h.fifo) && h.fifoHead > len(h.fifo)/2 {
		k := copy(h.fifo, h.fifo[h.fifoHead:])
		h.fifo, h.fifoHead = h.fifo[:k], 0
	}
	h.fifo = append(h.fifo, uint64(id)<<32|uint64(size))
}

// compactFIFO removes stale slots: each node's first node.stale slots.
func (t *tree) compactFIFO() {
	h := &t.hist
	k := 0
	for _, e := range h.fifo[h.fifoHead:] {
		if n := t.node(uint32(e >> 32)); n.stale > 0 {
			n.stale--
			continue
		}
		h.fifo[k] = e
		k++
	}
	h.fifo, h.fifoHead, h.stale = h.fifo[:k], 0, 0
	if cap(h.fifo) > 4*k+1024 {
		h.fifo = append(make([]uint64, 0, 2*k), h.fifo...)
	}
}
