package broker

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/mqttwire"
)

// Byte budget. mochi bounds a subscriber's queue by message count (8,192)
// and gives every subscriber its own copy of the payload, so 50 queued 10 MB
// messages cost 500 MB per subscriber that stopped reading. The budget
// charges every message a subscriber is given (payload plus the ~1 KiB
// packet mochi keeps for it) to that subscriber and to a broker-wide total,
// and refuses what does not fit: QoS 0 may fill only three quarters of a
// budget, so when memory runs short QoS 0 goes first and the rest is kept
// for QoS 1/2. A refused QoS 0 message is dropped and counted (the spec
// allows it); a refused QoS 1/2 message breaks the guarantee the broker
// gave by acknowledging it, so a connected subscriber is also disconnected
// with 0x97 "quota exceeded" (3.1.1 has no reason codes: its connection is
// closed) and comes back to a session that says what it lost by what is
// missing. A subscriber with nothing charged may always take one message,
// so no payload is too big to deliver at all. Once the total is spent,
// subscribers that still read keep a quarter of their own budget (flow
// control holds publishers at an eighth), so a few stuck clients that
// spent the total cannot starve the rest; stuck ones get nothing more.
//
// mochi decides delivery in OnACLCheck, which sees only the subscriber and
// the topic; the packet's size reaches it through sizeTable, keyed by the
// address of the topic string, which is the publisher's own (each decoded
// PUBLISH allocates its topic) from OnPublish until OnPublished. Only
// messages the flat charge does not fit are listed there (sized): QoS 0
// with up to smallPayload bytes, most telemetry, is charged as
// msgCost(smallPayload) without a table entry, which was ~4 % of fan-in's
// CPU (docs/PERFORMANCE.md). A delivery that finds no entry is such a
// message, unless its subscriber is subscribing: then it is a retained
// message, charged its stored size.
// Charges are released when mochi lets go of the copy: QoS 0 once written
// (wrote), QoS 1/2 once acknowledged (acked) or dropped (qosDropped),
// either when mochi drops it (publishDropped); packetHooks calls these
// from mochi's hooks of the same names. Paths mochi has no hook for (a
// client closing with messages queued) leave a charge behind; reconcile
// clears what a client with nothing queued and nothing in flight still
// carries, and a release never takes an account below zero.

const (
	// DefaultMaxQueuedBytesPerClient holds 6 × 10 MB messages or the whole
	// 8,192-message queue of 6 KiB messages: budgets bite only on large
	// payloads, never on ordinary telemetry.
	DefaultMaxQueuedBytesPerClient = 64 << 20
	// DefaultMaxQueuedBytes keeps the broker's queues to 512 MiB, a
	// sixteenth of an 8 GB laptop, whatever the number of subscribers.
	DefaultMaxQueuedBytes = 512 << 20

	// msgOverhead is what mochi holds per queued message besides the
	// payload: its 800-byte packets.Packet, allocator rounding and a queue slot.
	msgOverhead = 1024
	// smallPayload is the least payload a message is charged for: a
	// smaller one costs a quarter more at most, and a QoS 0 message that
	// small needs no size-table entry (sized).
	smallPayload = msgOverhead / 4
	// kickWriteTimeout bounds the DISCONNECT write to a subscriber that
	// stopped reading.
	kickWriteTimeout = time.Second
)

// msgCost is what a message with payload bytes is charged, and released.
func msgCost(payload int) int64 { return msgOverhead + int64(max(payload, smallPayload)) }

// sized reports whether a publish needs a size-table entry, that is
// whether a delivery without one (charged msgCost(0) at QoS 0) would be
// charged wrongly.
func sized(qos byte, payload int) bool { return qos > 0 || payload > smallPayload }

// account is what one client's queue and inflight window hold.
type account struct {
	cl     *mqtt.Client
	queued *int32 // mochi's ClientState.outboundQty, nil if not found

	bytes atomic.Int64
	// sent is written by the client's write loop on every PUBLISH, bytes
	// by every publisher: on one cache line each write would evict the
	// line from the other core.
	_      [56]byte
	sent   atomic.Int64 // PUBLISH packets written: progress, for flow control
	kicked atomic.Bool

	// Kept by flow control's scans.
	lastSent  atomic.Int64
	silence   atomic.Int64 // ns congested with nothing written, in scan steps
	gap       atomic.Int64 // longest recent silence that ended in a write
	gapAt     atomic.Int64
	freeUntil atomic.Int64             // after a long silence, holds no one until then
	lastBytes int64                    // owned by whoever holds flowHook.listing
	filters   atomic.Pointer[[]string] // what it subscribes to, read by held publishers
	holding   atomic.Bool              // congested, still draining: holds its publishers
	stuck     atomic.Bool              // congested, nothing written for flowStuckAfter
}

// budget is the accounting half of flowHook.
type budget struct {
	perClient int64 // <= 0: unlimited
	total     int64 // <= 0: unlimited

	byClient sync.Map // *mqtt.Client -> *account
	queued   atomic.Int64
	dropped  atomic.Int64
	kicks    atomic.Int64
	sizes    sizeTable
}

// account is cl's account, made on first use. Every message looks one up,
// twice: the connection keeps a pointer to it, so that takes no map lookup.
func (h *flowHook) account(cl *mqtt.Client) *account {
	c := ackConnOf(cl)
	if c != nil {
		if a := c.acct.Load(); a != nil {
			return a
		}
	}
	v, _ := h.byClient.LoadOrStore(cl, &account{cl: cl, queued: outboundCounter(cl)})
	a := v.(*account)
	if c != nil {
		c.acct.Store(a)
	}
	return a
}

// existing is cl's account, or nil if nothing was ever charged to it.
func (h *flowHook) existing(cl *mqtt.Client) *account {
	if c := ackConnOf(cl); c != nil {
		return c.acct.Load()
	}
	if v, ok := h.byClient.Load(cl); ok {
		return v.(*account)
	}
	return nil
}

// admit charges a message for cl, or refuses it when it does not fit.
func (h *flowHook) admit(cl *mqtt.Client, topic string) bool {
	if cl.Net.Inline {
		return true
	}
	cost, qos, ok := h.sizes.lookup(topic)
	if !ok {
		cost, qos = h.unlisted(cl, topic)
	}
	if qos == 0 && cl.Closed() {
		return true // mochi queues no QoS 0 for an absent client
	}
	a := h.account(cl)
	b := a.bytes.Add(cost)
	t := h.queued.Add(cost)
	if b == cost || fits(b, h.perClient, qos) && (fits(t, h.total, qos) || !a.stuck.Load() && fits(b, h.perClient/4, qos)) {
		return true
	}
	a.bytes.Add(-cost)
	h.queued.Add(-cost)
	h.dropped.Add(1)
	if qos > 0 {
		h.kickOverBudget(a)
	}
	return false
}

func fits(n, limit int64, qos byte) bool {
	if limit <= 0 {
		return true
	}
	if qos == 0 {
		limit -= limit / 4
	}
	return n <= limit
}

// unlisted sizes a message the size table does not list for cl: a
// retained one sent while cl subscribes, or else a small QoS 0 message
// (or one whose entry was lost: a will delayed past sizeStale).
func (h *flowHook) unlisted(cl *mqtt.Client, topic string) (int64, byte) {
	if c := ackConnOf(cl); c != nil && c.subscribing.Load() {
		if pk, ok := h.srv.Topics.Retained.Get(topic); ok {
			return msgCost(len(pk.Payload)), pk.FixedHeader.Qos
		}
	}
	return msgCost(0), 0
}

// release returns up to cost from a's charge, never below zero: one add on
// the hot path, and a second only for a charge reconcile already cleared.
func (h *flowHook) release(a *account, cost int64) {
	d := cost
	if v := a.bytes.Add(-cost); v < 0 {
		back := min(cost, -v)
		a.bytes.Add(back)
		d -= back
	}
	if d > 0 {
		h.queued.Add(-d)
	}
}

func (h *flowHook) kickOverBudget(a *account) {
	cl := a.cl
	if cl.Closed() || !a.kicked.CompareAndSwap(false, true) {
		return
	}
	h.kicks.Add(1)
	h.log.Warn("subscriber over its queued-bytes budget: QoS 1/2 messages dropped, disconnecting it (quota exceeded); "+
		"it reads too slowly for what it subscribes to, or raise --max-queued-bytes-per-client",
		"client", cl.ID, "remote", cl.Net.Remote, "queued_bytes", a.bytes.Load())
	h.kicking.Add(1)
	go func() {
		defer h.kicking.Done()
		deadline := time.Now().Add(kickWriteTimeout)
		if cl.Net.Conn != nil {
			_ = cl.Net.Conn.SetWriteDeadline(deadline)
		}
		awaitDrained(a, deadline)
		_ = kick(h.srv, cl, packets.ErrQuotaExceeded)
	}()
}

// awaitDrained waits until mochi has written what a's client had queued, or
// until deadline (past which those writes fail at once). mochi buffers a
// packet written while others are queued and drops that buffer when the
// client stops, so a DISCONNECT written sooner was lost, in 5 of 40 runs
// of TestBudgetTellsAnMQTT5SubscriberQuotaExceeded.
func awaitDrained(a *account, deadline time.Time) {
	for a.queued != nil && atomic.LoadInt32(a.queued) > 0 && !a.cl.Closed() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// will tells the budget the size of a will about to be published (OnWill):
// mochi publishes it without OnPublish, under the topic string OnWill returns.
func (h *flowHook) will(w *mqtt.Will) {
	h.sizes.put(w.TopicName, msgCost(len(w.Payload)), w.Qos, h.now())
}

func (h *flowHook) willSent(pk *packets.Packet) { h.sizes.drop(pk.TopicName) }

// wrote ends the charges of the QoS 0 messages mochi wrote to a's
// connection (ackConn.Write: whole packets, often a few hundred at once),
// marks progress and counts the messages. Per write rather than per packet
// (OnPacketSent), which cost every delivery a hook call, a copy of the
// 800-byte packet and five atomic adds. a is nil for a client nothing was
// ever charged to (no PUBLISH reaches a client that admit has not seen).
func (h *flowHook) wrote(a *account, b []byte) {
	var n, size [3]int64
	var free int64
	v5 := a != nil && a.cl.Properties.ProtocolVersion == 5
	for {
		first, body, rest, ok := mqttwire.NextFrame(b)
		if !ok {
			break
		}
		b = rest
		if first>>4 != packets.Publish {
			continue
		}
		qos := (first >> 1 & 3) % 3 // 3 is no QoS; mochi never writes it
		p := publishPayloadLen(body, qos, v5)
		n[qos]++
		size[qos] += int64(p)
		if qos == 0 {
			free += msgCost(p)
		}
	}
	for q := range n {
		if n[q] > 0 {
			h.outByQoS[q].Add(n[q])
			h.outBytesByQoS[q].Add(size[q])
		}
	}
	if a == nil || n == [3]int64{} {
		return
	}
	a.sent.Add(n[0] + n[1] + n[2])
	if free > 0 {
		h.release(a, free)
	}
}

// publishPayloadLen is the payload's length in the body of a PUBLISH:
// what follows the topic, the packet ID (QoS 1/2) and, for MQTT 5, the
// properties.
func publishPayloadLen(body []byte, qos byte, v5 bool) int {
	if len(body) < 2 {
		return 0
	}
	off := 2 + int(binary.BigEndian.Uint16(body))
	if qos > 0 {
		off += 2
	}
	if v5 && off < len(body) {
		n, size, ok := mqttwire.Varint(body[off:])
		if !ok {
			return 0
		}
		off += size + n
	}
	return max(len(body)-off, 0)
}

// qosPublish charges a resent QoS 1/2 message (Dup, OnQosPublish): mochi
// resends only the inflight messages of a session taken over by a new
// connection, whose account has not paid for them yet.
func (h *flowHook) qosPublish(cl *mqtt.Client, pk *packets.Packet) {
	if pk.FixedHeader.Type != packets.Publish || !pk.FixedHeader.Dup || cl.Net.Inline {
		return
	}
	a := h.account(cl)
	cost := msgCost(len(pk.Payload))
	a.bytes.Add(cost)
	h.queued.Add(cost)
}

// acked ends a QoS 1/2 message's charge when the subscriber acknowledges
// it (PUBACK, or PUBREC for QoS 2, after which mochi keeps only a PUBREL;
// called as the ack is read). It reads the message's size from
// mochi's inflight entry, which mochi deletes right after, on this
// goroutine: no map of charges per packet ID to keep, and no lock that
// publishers and the subscriber's reader would contend for on every
// message.
func (h *flowHook) acked(cl *mqtt.Client, id uint16) {
	if out, ok := cl.State.Inflight.Get(id); ok && out.FixedHeader.Type == packets.Publish {
		if a := h.existing(cl); a != nil {
			h.release(a, msgCost(len(out.Payload)))
		}
	}
}

// qosDropped ends the charge of an inflight message mochi dropped
// (OnQosDropped: expired, or cleared with a session). Its other calls carry
// the ack or just a packet ID, for a message whose charge ended when it was read.
func (h *flowHook) qosDropped(cl *mqtt.Client, pk *packets.Packet) {
	if pk.FixedHeader.Type != packets.Publish {
		return
	}
	if a := h.existing(cl); a != nil {
		h.release(a, msgCost(len(pk.Payload)))
	}
}

// publishDropped returns the charge of a message mochi found no room for
// (OnPublishDropped; for QoS 1/2 mochi also deletes its inflight entry,
// without a hook).
func (h *flowHook) publishDropped(cl *mqtt.Client, pk *packets.Packet) {
	if a := h.existing(cl); a != nil {
		h.release(a, msgCost(len(pk.Payload)))
	}
}

// reconcile drops accounts of clients mochi no longer knows, and clears a
// charge a client with nothing queued or in flight has carried unchanged
// since the last call: one left behind by a path mochi has no hook for.
func (h *flowHook) reconcile(current map[string]*mqtt.Client) {
	h.byClient.Range(func(k, v any) bool {
		a := v.(*account)
		if current[a.cl.ID] != a.cl {
			h.byClient.Delete(k)
			h.queued.Add(-a.bytes.Swap(0))
			return true
		}
		b := a.bytes.Load()
		idle := b > 0 && b == a.lastBytes && a.cl.State.Inflight.Len() == 0 &&
			(a.queued == nil || atomic.LoadInt32(a.queued) == 0)
		if idle && a.bytes.CompareAndSwap(b, 0) {
			h.queued.Add(-b)
			b = 0
		}
		a.lastBytes = b
		return true
	})
}

// budgetedAuth puts the budget behind the ACL: mochi grants a check if any
// hook does, so the budget cannot be a hook of its own.
type budgetedAuth struct {
	*auth.Hook
	flow *flowHook
}

func (a budgetedAuth) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if !a.Hook.OnACLCheck(cl, topic, write) {
		return false
	}
	return write || a.flow.admit(cl, topic)
}

// sizeTable maps a PUBLISH in fan-out, by the address of its topic string,
// to its cost and QoS, without locks: a slot is claimed with one CAS, and a
// lookup is made by the goroutine that claimed it, so the value it reads
// was stored before. A slot whose owner never let go (mochi skips
// OnPublished when the publisher's connection closed mid-publish) is
// reclaimed after sizeStale, by a later claim or by sweep.
//
// A claimed slot's line was most likely last written by another core: the
// table is small (16 KiB, a publish holds its slot only while mochi fans
// it out) and a slot is one word besides its key. live lets a delivery
// skip the lookup while nothing is listed, as with small QoS 0 traffic.
type sizeTable struct {
	slots [sizeSlots]sizeSlot
	_     [64]byte
	live  atomic.Int64 // claimed slots; read by every delivery, written by sized publishes
	_     [64]byte
}

const (
	sizeSlots = 1024
	sizeProbe = 8
	sizeStale = 10 // seconds
)

// sizeClaiming marks a slot between its claim and its value's store, so
// that no one judges the new claim by the old value. No string is at
// address 1.
const sizeClaiming uintptr = 1

type sizeSlot struct {
	key atomic.Uintptr
	val atomic.Int64 // cost<<34 | claimed at (unix s, low 32 bits)<<2 | qos
}

func topicKey(topic string) uintptr {
	if topic == "" {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.StringData(topic)))
}

func (t *sizeTable) home(k uintptr) int {
	return int(uint64(k>>3) * 0x9E3779B97F4A7C15 >> (64 - 10))
}

func (t *sizeTable) put(topic string, cost int64, qos byte, now int64) {
	k := topicKey(topic)
	if k == 0 {
		return
	}
	sec := now / int64(time.Second) & 0xFFFFFFFF
	for i, h := 0, t.home(k); i < sizeProbe; i++ {
		s := &t.slots[(h+i)%sizeSlots]
		old := s.key.Load()
		// A slot left behind by this topic string's previous publish (an
		// alias's string is reused) is taken over at once.
		if old == sizeClaiming || old != 0 && old != k && !stale(s.val.Load(), sec) || !s.key.CompareAndSwap(old, sizeClaiming) {
			continue
		}
		s.val.Store(cost<<34 | sec<<2 | int64(qos))
		s.key.Store(k)
		if old == 0 {
			t.live.Add(1)
		}
		return
	}
}

// stale reports whether a slot whose value is v was claimed sizeStale or
// more seconds before sec (both wrap at 32 bits).
func stale(v, sec int64) bool {
	claimed := v >> 2 & 0xFFFFFFFF
	return (sec-claimed)&0xFFFFFFFF >= sizeStale
}

func (t *sizeTable) lookup(topic string) (cost int64, qos byte, ok bool) {
	k := topicKey(topic)
	if k == 0 || t.live.Load() == 0 {
		return 0, 0, false
	}
	for i, h := 0, t.home(k); i < sizeProbe; i++ {
		s := &t.slots[(h+i)%sizeSlots]
		if s.key.Load() == k {
			v := s.val.Load()
			return v >> 34, byte(v & 3), true
		}
	}
	return 0, 0, false
}

func (t *sizeTable) drop(topic string) {
	k := topicKey(topic)
	if k == 0 {
		return
	}
	for i, h := 0, t.home(k); i < sizeProbe; i++ {
		if t.slots[(h+i)%sizeSlots].key.CompareAndSwap(k, 0) {
			t.live.Add(-1)
			return
		}
	}
}

// sweep frees the slots claimed sizeStale or more seconds before now
// (unix ns): without it, one lost claim would keep live above zero and
// cost every small delivery a lookup until a claim probed its slot.
func (t *sizeTable) sweep(now int64) {
	if t.live.Load() == 0 {
		return
	}
	sec := now / int64(time.Second) & 0xFFFFFFFF
	for i := range t.slots {
		s := &t.slots[i]
		if k := s.key.Load(); k != 0 && k != sizeClaiming && stale(s.val.Load(), sec) && s.key.CompareAndSwap(k, 0) {
			t.live.Add(-1)
		}
	}
}

// queueBudgets resolves the configured budgets: 0 is the default, a
// negative value unlimited.
func (c Config) queueBudgets() (perClient, total int64) {
	pick := func(v, def int64) int64 {
		if v == 0 {
			return def
		}
		return v
	}
	return pick(c.MaxQueuedBytesPerClient, DefaultMaxQueuedBytesPerClient), pick(c.MaxQueuedBytes, DefaultMaxQueuedBytes)
}
