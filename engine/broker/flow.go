package broker

import (
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Flow control. mochi drops a message when a subscriber's outbound queue is
// full and never makes a publisher wait; with 100 publishers and one
// subscriber on 2 cores the publishers' read goroutines starve the
// subscriber's single writer and most messages are dropped (see
// docs/PERFORMANCE.md). mosquitto's event loop instead stops reading
// publishers while it writes, so TCP slows them down. flowHook does the
// same from OnPublish, which runs on the publisher's read goroutine: while
// a subscriber of the message's topic is congested (more than flowLimit
// queued or in flight, or an eighth of its byte budget), the publisher
// sleeps, up to flowMaxWait per message. Publishers whose messages the
// congested subscriber does not receive are not held.
//
// Holding only helps a subscriber that drains. One that stays congested
// while nothing is written to it for flowStuckAfter (a paused process, a
// full TCP window) is judged stuck and holds no one: its overflow is
// dropped and counted. That silence is counted only while publishers are
// active, in steps of at most flowSilenceStep, so a process the machine
// descheduled for a while finds no one stuck. Progress is seen per flush
// of the kernel's send buffer, which for a 4 MB buffer draining at 16 MB/s
// comes every ~125 ms, so each client's patience grows to twice the gaps
// it shows while draining, up to flowMaxPatience. One that was silent
// longer than that holds no one for another flowStuckAfter after it
// resumes: a reader back from a pause works off most of its backlog
// meanwhile instead of holding publishers for it (longer, and a slow
// reader the machine starved for a moment overflows while publishers run
// free). A subscriber that stays slow without stalling holds its
// publishers all along, so fan-in loses nothing.
const (
	flowMaxWait    = 100 * time.Millisecond
	flowStuckAfter = 100 * time.Millisecond
	// flowMaxPatience caps how long a reader that has shown it writes
	// in slow bursts may go without a write before it is judged stuck.
	flowMaxPatience = 300 * time.Millisecond
	flowGapMemory   = 10 * time.Second
	flowSilenceStep = 5 * time.Millisecond
	flowScanEvery   = 50 * time.Microsecond
	// flowScanPerAccount stretches the scan period with the subscribers:
	// 50 µs up to 100 of them, 5 ms at 10,000.
	flowScanPerAccount = 500 * time.Nanosecond
	flowRelistEach     = 20 * time.Millisecond
	// flowRelistPerClient stretches the relist period with the clients
	// connected: 20 ms up to 1,000 clients, 200 ms at 10,000.
	flowRelistPerClient = 20 * time.Microsecond
	flowRelistMax       = time.Second
	flowNap             = 50 * time.Microsecond
)

type flowHook struct {
	srv  *mqtt.Server
	log  *slog.Logger
	hold bool // flow control on: congested subscribers hold publishers
	// started and startedNS are the clock that now reads.
	started   time.Time
	startedNS int64
	budget

	list      atomic.Pointer[flowList]
	holders   atomic.Pointer[[]*account] // congested, not stuck
	scanning  atomic.Bool                // one scanner at a time, unless it stalls
	scanned   atomic.Int64               // unix ns of the last scan
	scanEvery atomic.Int64               // ns between scans (scanEvery)
	lastScan  atomic.Int64               // unix ns the last scan started
	listing   atomic.Bool                // one caller rebuilds the list at a time

	held     atomic.Int64 // publishes that waited
	heldTime atomic.Int64 // total ns publishers waited
	kicking  sync.WaitGroup

	// PUBLISH packets from clients (not the broker's own) and to them, and
	// their payload bytes, by QoS, for monitoring (Counters). Counted here,
	// in hooks every message runs anyway: a hook of their own would cost
	// every message a call. in is counted per connection (received.go);
	// connections' writers add to out once per write, on cache lines of
	// their own, off the lines every publish reads above (scanned,
	// scanEvery).
	in                      received
	_                       [64]byte
	outByQoS, outBytesByQoS [3]atomic.Int64
	_                       [64]byte
}

type flowList struct {
	at       int64 // unix ns
	accounts []*account
	clients  int // connected clients when listed, for relistEvery
}

// newFlowHook bounds queues by the byte budgets (<= 0: unlimited) and, if
// hold, holds publishers of congested subscribers.
func newFlowHook(srv *mqtt.Server, log *slog.Logger, hold bool, perClient, total int64) *flowHook {
	h := &flowHook{srv: srv, log: log, hold: hold, started: time.Now()}
	h.startedNS = h.started.UnixNano()
	h.perClient, h.total = perClient, total
	h.scanEvery.Store(int64(flowScanEvery))
	return h
}

// Stop waits for the disconnects of subscribers over budget.
func (h *flowHook) Stop() error {
	h.kicking.Wait()
	return nil
}

// now is the time in unix ns as the flow control tells it, from the
// monotonic clock alone: every publish reads it, and time.Now reads the
// wall clock too, a second system clock read for nothing.
func (h *flowHook) now() int64 { return h.startedNS + int64(time.Since(h.started)) }

// publish tells the budget the message's size, and holds the publisher
// while a subscriber of its topic is congested.
func (h *flowHook) publish(cl *mqtt.Client, pk *packets.Packet) {
	if cl.Net.Inline {
		// The app may publish one topic string from several goroutines at
		// once; a copy gives each publish its own key.
		pk.TopicName = strings.Clone(pk.TopicName)
	} else {
		h.in.count(cl, pk.FixedHeader.Qos, len(pk.Payload))
	}
	now := h.now()
	h.scan(now)
	if !cl.Net.Inline && h.congested(pk.TopicName) {
		now = h.holdBack(cl, pk.TopicName)
	}
	// Only now: a held publisher would keep its size-table slot while it waits.
	if sized(pk.FixedHeader.Qos, len(pk.Payload)) {
		h.sizes.put(pk.TopicName, msgCost(len(pk.Payload)), pk.FixedHeader.Qos, now)
	}
}

// holdBack makes a publisher wait while a subscriber of topic is
// congested, up to flowMaxWait, and returns the time it let go (unix ns).
func (h *flowHook) holdBack(cl *mqtt.Client, topic string) int64 {
	if c := ackConnOf(cl); c != nil {
		_ = c.flush() // the acknowledgements of its earlier publishes are not held with it
	}
	start := time.Now()
	for time.Since(start) < flowMaxWait {
		time.Sleep(flowNap)
		h.scan(h.now())
		if !h.congested(topic) {
			break
		}
	}
	h.held.Add(1)
	h.heldTime.Add(int64(time.Since(start)))
	return h.now()
}

func (h *flowHook) published(pk *packets.Packet) {
	if sized(pk.FixedHeader.Qos, len(pk.Payload)) {
		h.sizes.drop(pk.TopicName)
	}
}

// congested reports whether a subscriber of topic holds its publishers.
func (h *flowHook) congested(topic string) bool {
	hs := h.holders.Load()
	if hs == nil {
		return false
	}
	for _, a := range *hs {
		if f := a.filters.Load(); a.holding.Load() && f != nil && matchesAny(*f, topic) {
			return true
		}
	}
	return false
}

// scan updates which subscribers hold their publishers. At most every
// flowScanEvery one caller scans and the others go on with the last
// answer; a scanner descheduled for over a millisecond (with 100 busy
// publishers Go may not run it again for most of a second) is not waited
// for, so the state scans update is atomic.
func (h *flowHook) scan(now int64) {
	last, every := h.scanned.Load(), h.scanEvery.Load()
	if now-last < every {
		return
	}
	if h.scanning.CompareAndSwap(false, true) {
		defer h.scanning.Store(false)
	} else if now-last < every+int64(time.Millisecond) {
		return
	}
	step := min(now-h.lastScan.Swap(now), int64(flowSilenceStep))
	var holders []*account
	accounts := h.accounts(now)
	for _, a := range accounts {
		if h.holds(a, now, step) {
			holders = append(holders, a)
		}
	}
	if old := h.holders.Load(); len(holders) > 0 || (old != nil && len(*old) > 0) {
		h.holders.Store(&holders)
	}
	h.scanEvery.Store(scanEvery(len(accounts)))
	h.scanned.Store(h.now())
}

// scanEvery is how often to scan n subscribers, in ns: flowScanEvery, and
// longer with many, so that a fleet of 10,000 devices that each subscribe
// to their commands does not make every publish walk 10,000 accounts
// (5 ms apart then: a congested subscriber is still held within a few
// scans, long before flowStuckAfter).
func scanEvery(n int) int64 {
	return int64(max(flowScanEvery, time.Duration(n)*flowScanPerAccount))
}

// holds decides whether a is congested but still draining. Silence is
// counted in scan steps of at most flowSilenceStep, so time the whole
// process spent descheduled (a busy machine) or with no publisher active
// makes no subscriber look stuck.
func (h *flowHook) holds(a *account, now, step int64) bool {
	// Inflight.Len takes a lock that the client's own goroutines write, so
	// it is asked last and only of a client holding charges: every queued
	// and unacknowledged message is charged (admit, until its ack), so no
	// charge means no inflight; with 10,000 subscribing devices the lock
	// alone was half the broker's CPU.
	b := a.bytes.Load()
	deep := a.queued != nil && atomic.LoadInt32(a.queued) > flowLimit ||
		h.perClient > 0 && b > h.perClient/8 ||
		b > 0 && a.cl.State.Inflight.Len() > flowLimit
	gap := a.gap.Load()
	patience := int64(min(max(flowStuckAfter, 2*time.Duration(gap)), flowMaxPatience))
	if sent := a.sent.Load(); sent != a.lastSent.Swap(sent) {
		// Learn how far apart a congested reader's writes come: a slow
		// reader behind a big kernel buffer is woken only when half of it
		// has drained. The longest recent gap counts, one older than
		// flowGapMemory is forgotten, and a pause longer than twice the
		// patience is no rhythm and is not learnt.
		silence := a.silence.Swap(0)
		if deep && silence > 0 && silence <= 2*patience && (silence >= gap || now-a.gapAt.Load() > int64(flowGapMemory)) {
			a.gap.Store(silence)
			a.gapAt.Store(now)
		}
	} else if deep {
		a.silence.Add(step)
	}
	if !deep {
		a.silence.Store(0)
		a.freeUntil.Store(0)
		a.holding.Store(false)
		a.stuck.Store(false)
		return false
	}
	silence := a.silence.Load()
	if silence >= int64(flowMaxPatience) {
		a.freeUntil.Store(now + int64(flowStuckAfter))
	}
	stuck := now < a.freeUntil.Load() || silence >= patience
	a.stuck.Store(stuck)
	hold := h.hold && !stuck
	if hold && !a.holding.Load() {
		f := subscriptionFilters(a.cl)
		a.filters.Store(&f)
	}
	a.holding.Store(hold)
	return hold
}

func subscriptionFilters(cl *mqtt.Client) []string {
	subs := cl.State.Subscriptions.GetAll()
	out := make([]string, 0, len(subs))
	for f := range subs {
		if strings.HasPrefix(f, "$share/") {
			if _, rest, ok := strings.Cut(f[len("$share/"):], "/"); ok {
				f = rest
			}
		}
		out = append(out, f)
	}
	return out
}

// accounts lists the accounts of connected clients that hold
// subscriptions (only they receive), rebuilt at most every flowRelistEach,
// when the budget is also reconciled.
func (h *flowHook) accounts(now int64) []*account {
	l := h.list.Load()
	if l != nil && now-l.at < relistEvery(l.clients) || !h.listing.CompareAndSwap(false, true) {
		if l == nil {
			return nil
		}
		return l.accounts
	}
	defer h.listing.Store(false)
	all := h.srv.Clients.GetAll()
	h.reconcile(all)
	h.sizes.sweep(now)
	next := &flowList{at: now, clients: len(all)}
	for _, cl := range all {
		if cl.Net.Inline || cl.Closed() || cl.State.Subscriptions.Len() == 0 {
			continue
		}
		next.accounts = append(next.accounts, h.account(cl))
	}
	h.list.Store(next)
	return next.accounts
}

// relistEvery is how long a list of accounts serves, in ns: flowRelistEach,
// longer with many clients, so that copying mochi's client map (all of
// it, with a fleet of 10,000 devices) costs the publishers about the same
// share of time at any size; a new subscriber joins flow control that
// much later (at most flowRelistMax), and the byte budget still bounds it.
func relistEvery(clients int) int64 {
	return int64(min(max(flowRelistEach, time.Duration(clients)*flowRelistPerClient), flowRelistMax))
}

// outboundCounter points at mochi's unexported count of queued outbound
// packets (ClientState.outboundQty, kept with atomic adds). mochi exports no
// queue length; TestMochiFieldsFound fails if a mochi upgrade renames
// the field, and until then flow control just sees that client as empty.
func outboundCounter(cl *mqtt.Client) *int32 {
	f := reflect.ValueOf(cl).Elem().FieldByName("State").FieldByName("outboundQty")
	if !f.IsValid() || f.Kind() != reflect.Int32 {
		return nil
	}
	return (*int32)(unsafe.Pointer(f.UnsafeAddr()))
}
