package topics

import (
	"encoding/binary"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A node keeps its last message, one encoded entry, always whole, in a
// slot of the last-message slabs (lastmsg.go). Its earlier messages (the in-RAM
// history) live in one ring shared by every topic (histRing): a message
// becomes history when the next one on its topic arrives, and is copied to
// the ring's head then, so the ring holds history entries in the order they
// were superseded and evicting at its tail evicts the entry superseded
// longest ago, which is what the global cap wants. Each ring record is
//
//	node     4 bytes LE: the node it belongs to
//	next     8 bytes LE: ring position + 1 of the node's next newer entry (0: none yet)
//	entry    as a last message
//
// and a node finds its history through histOld (position + 1 of its oldest
// entry) and the next links, up to histNew. Positions grow forever; a
// record's bytes are at position mod len(ring), and may wrap.
//
// Why a ring rather than each node's history in its own buffer, as before:
// with 100,000 topics each buffer had to hold the previous and the new
// message at every write, and kept that room (or paid a reallocation per
// message to give it back): 58 MB of room for 37 MB of messages. The ring
// costs its cap and 12 bytes a record; a node's slot holds one message.
//
// An entry is
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
// Caps count the encoded bytes of history entries (last messages are never
// evicted). The per-topic cap evicts a topic's oldest entries; their ring
// records stay, dead, until the tail passes them. The ring itself may grow
// to the global cap plus a quarter (record headers and dead records), so a
// topic far busier than the rest can make it evict before the global cap
// is reached: the history of quiet topics then reaches less far back.
const (
	entryRetain        = 1 << 0
	entryPayloadFormat = 1 << 1
	entryMessageExpiry = 1 << 2

	entryFixed = 8 + 3 // time, flags+protocol+qos
)

// recHeader is the ring record's header: node ID and next link.
const recHeader = 4 + 8

// histState is the model-wide side of history, guarded by Model.mu.
type histState struct {
	bytes   int64 // encoded bytes of all history entries (last messages excluded)
	entries int
	alloc   int64 // cap of every node's last-message buffer, plus the ring
	dead    int64 // ring bytes of records the per-topic cap evicted

	ring       []byte
	tail, head uint64 // ring positions: records live in [tail, head)
	scratch    []byte // a record that wraps the ring's end, read whole
}

// ringMax is how large the ring may grow: the global cap, plus room for
// record headers and dead records.
func (t *tree) ringMax() int64 {
	return t.opts.HistoryBytes + t.opts.HistoryBytes/4 + 4<<10
}

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
func bodyLen(r *message.Message) int {
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

func appendEntry(b []byte, r *message.Message, body int, at int64) []byte {
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
func (e *decodedEntry) record(source, topic string) message.Message {
	rec := message.Message{
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
		rec.UserProps = make([]message.UserProp, e.nProps)
		r := entryReader{b: e.props}
		for i := range rec.UserProps {
			rec.UserProps[i] = message.UserProp{Key: string(r.bytes()), Value: string(r.bytes())}
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
func (t *tree) store(id uint32, n *node, r *message.Message, at int64) {
	if prev := len(t.last(n)); prev > 0 && t.opts.HistoryBytes > 0 {
		if prev > t.opts.HistoryBytesPerTopic || int64(prev) > t.opts.HistoryBytes {
			// The superseded message alone is over a cap: it and
			// everything older go.
			for n.histOld != 0 {
				t.evictOldest(n)
			}
		} else {
			t.pushHistory(id, n)
			for int(n.histBytes) > t.opts.HistoryBytesPerTopic {
				t.evictOldest(n)
			}
		}
	}
	body := bodyLen(r)
	need := uvarintLen(uint64(body)) + body
	appendEntry(t.lastRoom(id, n, need)[:0], r, body, at)
	for t.hist.bytes > t.opts.HistoryBytes && t.evictTail() {
	}
}

// pushHistory copies n's last message to the ring's head as its newest
// history entry.
func (t *tree) pushHistory(id uint32, n *node) {
	h := &t.hist
	last := t.last(n)
	size := recHeader + len(last)
	t.ringRoom(size)
	pos := h.head
	var hdr [recHeader]byte
	binary.LittleEndian.PutUint32(hdr[:4], id)
	t.ringWrite(pos, hdr[:])
	t.ringWrite(pos+recHeader, last)
	h.head += uint64(size)
	if n.histNew != 0 {
		var next [8]byte
		binary.LittleEndian.PutUint64(next[:], pos+1)
		t.ringWrite(n.histNew-1+4, next[:])
	} else {
		n.histOld = pos + 1
	}
	n.histNew = pos + 1
	n.histBytes += uint32(len(last))
	h.bytes += int64(len(last))
	h.entries++
}

// ringRoom makes room for size more bytes at the ring's head: it grows
// the ring up to ringMax, then evicts at the tail.
func (t *tree) ringRoom(size int) {
	h := &t.hist
	for h.head+uint64(size)-h.tail > uint64(len(h.ring)) {
		if int64(len(h.ring)) < t.ringMax() {
			t.growRing(size)
			continue
		}
		if !t.evictTail() {
			// An empty ring smaller than one record: only a cap
			// change could do this, but never loop forever.
			t.growRing(size)
		}
	}
}

// growRing grows the ring (at least to hold need more bytes), keeping
// every record at its position. It doubles while small, then grows by a
// sixteenth of its bound: doubling to the bound would leave up to a fifth
// of it unused where history fills just over a power of two (issue 11's
// 17.8 MB of records in a ring of 21 MB). The copies this costs are paid
// once, while history first fills.
func (t *tree) growRing(need int) {
	h := &t.hist
	used := h.head - h.tail
	step := max(min(len(h.ring), int(t.ringMax()/16)), 64<<10)
	size := max(len(h.ring)+step, int(used)+need)
	size = int(min(int64(size), max(t.ringMax(), int64(used)+int64(need))))
	nb := make([]byte, size)
	for p := h.tail; p < h.head; {
		o, n := p%uint64(len(h.ring)), p%uint64(size)
		k := min(h.head-p, uint64(len(h.ring))-o, uint64(size)-n)
		copy(nb[n:n+k], h.ring[o:o+k])
		p += k
	}
	h.alloc += int64(size - len(h.ring))
	h.ring = nb
}

// ringWrite copies b to the ring at pos, wrapping at its end.
func (t *tree) ringWrite(pos uint64, b []byte) {
	r := t.hist.ring
	o := int(pos % uint64(len(r)))
	k := copy(r[o:], b)
	copy(r, b[k:])
}

// ringRead returns n bytes of the ring at pos: a slice of the ring, or,
// where they wrap its end, a copy in *scratch (readers under the read lock
// bring their own).
func (h *histState) ringRead(pos uint64, n int, scratch *[]byte) []byte {
	o := int(pos % uint64(len(h.ring)))
	if o+n <= len(h.ring) {
		return h.ring[o : o+n]
	}
	b := append((*scratch)[:0], h.ring[o:]...)
	b = append(b, h.ring[:n-(len(h.ring)-o)]...)
	*scratch = b
	return b
}

// record reads the ring record at pos: its node, next link, size in the
// ring, and entry (length prefix included; it may alias *scratch).
func (h *histState) record(pos uint64, scratch *[]byte) (id uint32, next uint64, size int, entry []byte) {
	hdr := h.ringRead(pos, recHeader+binary.MaxVarintLen64, scratch)
	id = binary.LittleEndian.Uint32(hdr)
	next = binary.LittleEndian.Uint64(hdr[4:])
	n, k := binary.Uvarint(hdr[recHeader:])
	size = recHeader + k + int(n)
	return id, next, size, h.ringRead(pos+recHeader, k+int(n), scratch)
}

// evictOldest drops n's oldest history entry for a cap; the caller ensures
// it has one. Its record stays in the ring, dead, until the tail passes.
func (t *tree) evictOldest(n *node) {
	h := &t.hist
	_, next, size, _ := h.record(n.histOld-1, &h.scratch)
	t.unlinkOldest(n, next, size)
	h.dead += int64(size)
}

func (t *tree) unlinkOldest(n *node, next uint64, size int) {
	h := &t.hist
	if next == 0 {
		n.histNew = 0
	}
	n.histOld = next
	entry := size - recHeader
	n.histBytes -= uint32(entry)
	h.bytes -= int64(entry)
	h.entries--
}

// evictTail drops the ring's oldest record, the history entry superseded
// longest ago (or a dead one), and reports whether the ring had one. A
// live record at the tail is always its node's oldest entry: the node's
// older ones are behind the tail already or were evicted first.
func (t *tree) evictTail() bool {
	h := &t.hist
	if h.tail == h.head {
		return false
	}
	id, next, size, _ := h.record(h.tail, &h.scratch)
	if n := t.node(id); n.histOld == h.tail+1 {
		t.unlinkOldest(n, next, size)
	} else {
		h.dead -= int64(size)
	}
	h.tail += uint64(size)
	return true
}

// historyOf calls fn with each of n's history entries, oldest first; entry
// may alias *scratch, so fn must copy what it keeps.
func (h *histState) historyOf(n *node, scratch *[]byte, fn func(entry []byte)) {
	for pos := n.histOld; pos != 0; {
		_, next, _, entry := h.record(pos-1, scratch)
		fn(entry)
		pos = next
	}
}
