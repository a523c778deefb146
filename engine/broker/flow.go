package broker

import (
	"reflect"
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
// some subscriber's queue (or its window of unacknowledged QoS 1/2
// messages) is deeper than the limit, the publisher sleeps, up to
// flowMaxWait per message.
//
// A subscriber that stays congested longer than flowSlowAfter is judged
// slow (a paused process, a dead link) and stops holding publishers back:
// from then on its overflow is dropped and counted, as mochi would, so one
// bad client cannot throttle the whole broker.
const (
	flowMaxWait    = 100 * time.Millisecond
	flowSlowAfter  = 2 * time.Second
	flowScanEvery  = 50 * time.Microsecond
	flowRelistEach = 20 * time.Millisecond
	flowNap        = 50 * time.Microsecond
)

type flowHook struct {
	mqtt.HookBase
	srv   *mqtt.Server
	limit int32

	list    atomic.Pointer[flowList]
	listing atomic.Bool  // one caller rebuilds the list at a time
	depth   atomic.Int32 // deepest queue found by the last scan
	scanned atomic.Int64 // unix ns of the last scan's start or end

	held     atomic.Int64 // publishes that waited
	heldTime atomic.Int64 // total ns publishers waited
}

type flowList struct {
	at      int64 // unix ns
	clients []*flowClient
}

type flowClient struct {
	cl        *mqtt.Client
	queued    *int32       // mochi's unexported ClientState.outboundQty
	overSince atomic.Int64 // unix ns the client went over the limit, 0 if not
}

func newFlowHook(srv *mqtt.Server, limit int32) *flowHook {
	return &flowHook{srv: srv, limit: limit}
}

func (h *flowHook) ID() string { return "iotstudio-flow" }

func (h *flowHook) Provides(b byte) bool { return b == mqtt.OnPublish }

func (h *flowHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline || h.deepest() <= h.limit {
		return pk, nil
	}
	start := time.Now()
	for h.deepest() > h.limit && time.Since(start) < flowMaxWait {
		time.Sleep(flowNap)
	}
	h.held.Add(1)
	h.heldTime.Add(int64(time.Since(start)))
	return pk, nil
}

// deepest returns the deepest queue among subscribers that are not slow. At
// most every flowScanEvery one caller rescans and the others reuse its
// answer; a scanner descheduled for over a millisecond is not waited for.
func (h *flowHook) deepest() int32 {
	now := time.Now().UnixNano()
	last := h.scanned.Load()
	if now-last < int64(flowScanEvery) {
		return h.depth.Load()
	}
	if now-last < int64(time.Millisecond) && !h.scanned.CompareAndSwap(last, now) {
		return h.depth.Load()
	}
	var deepest int32
	for _, c := range h.clients(now) {
		d := max(atomic.LoadInt32(c.queued), int32(c.cl.State.Inflight.Len()))
		switch {
		case d <= h.limit:
			c.overSince.Store(0)
		case c.overSince.Load() == 0:
			c.overSince.Store(now)
			deepest = max(deepest, d)
		case now-c.overSince.Load() < int64(flowSlowAfter):
			deepest = max(deepest, d)
		}
	}
	h.depth.Store(deepest)
	h.scanned.Store(time.Now().UnixNano())
	return deepest
}

// clients lists the connected clients that hold subscriptions (only they
// receive), rebuilt at most every flowRelistEach, keeping each client's
// congestion history.
func (h *flowHook) clients(now int64) []*flowClient {
	l := h.list.Load()
	if l != nil && now-l.at < int64(flowRelistEach) || !h.listing.CompareAndSwap(false, true) {
		if l == nil {
			return nil
		}
		return l.clients
	}
	defer h.listing.Store(false)
	prev := map[*mqtt.Client]*flowClient{}
	if l != nil {
		for _, c := range l.clients {
			prev[c.cl] = c
		}
	}
	next := &flowList{at: now}
	for _, cl := range h.srv.Clients.GetAll() {
		if cl.Net.Inline || cl.Closed() || cl.State.Subscriptions.Len() == 0 {
			continue
		}
		if c, ok := prev[cl]; ok {
			next.clients = append(next.clients, c)
		} else if q := outboundCounter(cl); q != nil {
			next.clients = append(next.clients, &flowClient{cl: cl, queued: q})
		}
	}
	h.list.Store(next)
	return next.clients
}

// outboundCounter points at mochi's unexported count of queued outbound
// packets (ClientState.outboundQty, kept with atomic adds). mochi exports no
// queue length; TestOutboundCounterFound fails if a mochi upgrade renames
// the field, and until then flow control just sees that client as empty.
func outboundCounter(cl *mqtt.Client) *int32 {
	f := reflect.ValueOf(cl).Elem().FieldByName("State").FieldByName("outboundQty")
	if !f.IsValid() || f.Kind() != reflect.Int32 {
		return nil
	}
	return (*int32)(unsafe.Pointer(f.UnsafeAddr()))
}
