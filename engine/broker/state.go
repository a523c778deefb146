package broker

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mochi-mqtt/server/v2/system"
)

// Stats is a point-in-time view of the broker's traffic counters.
type Stats struct {
	ClientsConnected int64
	SessionsOffline  int64 // persistent sessions whose client is away
	MessagesIn       int64
	MessagesOut      int64
	BytesIn          int64
	BytesOut         int64
	InPerSec         float64 // over the last second
	OutPerSec        float64
	Retained         int64 // retained messages, not counting the broker's own $SYS topics
	Subscriptions    int64
	Inflight         int64
	// Dropped counts messages the broker could not deliver: a subscriber's
	// queue was full or its inflight window was exhausted.
	Dropped         int64
	DeniedPublishes int64
	// PublishesHeld counts publishes that flow control made wait for a
	// subscriber to catch up.
	PublishesHeld int64
	Uptime        time.Duration

	// ConnectionsRefused counts connections closed before CONNECT: too
	// slow, too large or not MQTT, or over the socket limit.
	ConnectionsRefused int64
	// DroppedOverBudget counts the part of Dropped refused by the queue
	// byte budgets; QueuedBytes is what those budgets are charged now.
	DroppedOverBudget int64
	QueuedBytes       int64
	// SessionStoreDiskFull says the disk is full: sessions and retained
	// messages are held in memory until space is freed.
	SessionStoreDiskFull bool
}

// ClientInfo describes one client session known to the broker.
type ClientInfo struct {
	ID              string
	Username        string
	Address         string
	Listener        string
	ProtocolVersion byte // 3 (3.1), 4 (3.1.1) or 5
	Connected       bool
	ConnectedSince  time.Time
	Subscriptions   []Subscription
	Inflight        int // QoS 1/2 messages sent (or held for an offline session) and not yet acknowledged
	Queued          int // messages waiting for the connection's writer
}

// Subscription is one topic filter a client holds.
type Subscription struct {
	Filter string
	QoS    byte
}

// stateHook records what mochi does not keep (connect times) and turns
// mochi's once-a-second $SYS tick into rates, so no extra goroutine is needed.
type stateHook struct {
	mqtt.HookBase
	keepAliveCap uint16

	since sync.Map // client ID -> time.Time

	mu       sync.Mutex
	lastIn   int64
	lastOut  int64
	lastTick time.Time
	inRate   float64
	outRate  float64
	ticked   atomic.Bool

	// established counts sessions established (Counters.Connections).
	established atomic.Int64
}

func (h *stateHook) ID() string { return "iotstudio-state" }

// Provides is asked for every hook on every event, so it is a switch.
func (h *stateHook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnect, mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnSysInfoTick:
		return true
	}
	return false
}

// OnConnect caps the keep-alive of MQTT 5 clients and tells them so
// ([MQTT-3.2.2-21]); a zero keep-alive would let a vanished device hold its
// session and will forever.
func (h *stateHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if h.keepAliveCap > 0 && cl.Properties.ProtocolVersion == 5 &&
		(cl.State.Keepalive == 0 || cl.State.Keepalive > h.keepAliveCap) {
		cl.State.Keepalive = h.keepAliveCap
		cl.State.ServerKeepalive = true
	}
	return nil
}

func (h *stateHook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	h.since.Store(cl.ID, time.Now())
	h.established.Add(1)
}

func (h *stateHook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	if !cl.IsTakenOver() {
		h.since.Delete(cl.ID)
	}
}

func (h *stateHook) OnSysInfoTick(info *system.Info) {
	now := time.Now()
	in, out := atomic.LoadInt64(&info.MessagesReceived), atomic.LoadInt64(&info.MessagesSent)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ticked.Load() {
		secs := now.Sub(h.lastTick).Seconds()
		if secs > 0 {
			h.inRate = float64(in-h.lastIn) / secs
			h.outRate = float64(out-h.lastOut) / secs
		}
	}
	h.lastIn, h.lastOut, h.lastTick = in, out, now
	h.ticked.Store(true)
}

func (h *stateHook) rates() (in, out float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inRate, h.outRate
}

func (h *stateHook) connectedSince(id string) time.Time {
	if v, ok := h.since.Load(id); ok {
		return v.(time.Time)
	}
	return time.Time{}
}

func clientInfo(cl *mqtt.Client, since time.Time) ClientInfo {
	ci := ClientInfo{
		ID:              cl.ID,
		Username:        string(cl.Properties.Username),
		Address:         cl.Net.Remote,
		Listener:        cl.Net.Listener,
		ProtocolVersion: cl.Properties.ProtocolVersion,
		Connected:       !cl.Closed(),
		ConnectedSince:  since,
		Inflight:        cl.State.Inflight.Len(),
	}
	if q := outboundCounter(cl); q != nil {
		ci.Queued = int(atomic.LoadInt32(q))
	}
	for filter, sub := range cl.State.Subscriptions.GetAll() {
		ci.Subscriptions = append(ci.Subscriptions, Subscription{Filter: filter, QoS: sub.Qos})
	}
	sort.Slice(ci.Subscriptions, func(i, j int) bool { return ci.Subscriptions[i].Filter < ci.Subscriptions[j].Filter })
	return ci
}
