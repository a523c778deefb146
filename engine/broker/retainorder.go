package broker

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/message"
)

// retainOrder keeps a subscriber from getting one retained message twice.
// mochi adds a subscription, writes the SUBACK and only then reads the
// retained messages to send it, on the subscriber's goroutine; a retained
// message published meanwhile goes to the new subscription live and is read
// back from the retained store as well. The two copies have their own
// packet IDs, so no client can tell them apart, even at QoS 2 (mosquitto
// handles a SUBSCRIBE in one step and sends one copy).
//
// retainOrder makes a subscribe and a retained publish exclusive when one
// of the subscribe's filters matches the publish's topic. A subscribe runs
// from OnSubscribe (before mochi adds it) until its packet is processed
// (retained messages queued); a retained publish from OnPublish (before
// mochi stores it) until its packet is processed (its subscribers chosen).
// A subscribe waits for matching publishes in progress and, while it
// waits, holds back new ones so that a busy topic cannot starve it.
//
// Each side may block on a network write (the SUBACK, the PUBACK) to a
// client that stopped reading, which must not stall the others: a section
// running longer than orderMaxWait is judged stuck and holds no one back
// any more, and no one waits longer than that (stuck counts the sections
// so judged). Non-retained publishes never wait.
// Retained wills and $SYS messages, which mochi stores without a PUBLISH
// packet, are not ordered.
type retainOrder struct {
	log     *slog.Logger
	maxWait time.Duration // orderMaxWait; tests shorten it
	stuck   atomic.Int64

	mu      sync.Mutex
	changed chan struct{}             // closed and replaced when a section ends
	subs    map[*mqtt.Client]*section // subscribes waiting or running
	pubs    []*section                // retained publishes running
	waiting int                       // sections blocked in wait
	waited  chan struct{}             // closed the first time a section waits (for tests)
	once    sync.Once
}

// section is one subscribe (filters) or retained publish (topic).
type section struct {
	cl      *mqtt.Client
	filters []string
	topic   string
	since   time.Time
	stuck   bool // judged stuck: holds no one back
}

// orderMaxWait bounds how long a subscribe or a retained publish holds the
// other back; they normally take microseconds.
const orderMaxWait = 2 * time.Second

func newRetainOrder(log *slog.Logger) *retainOrder {
	return &retainOrder{
		log:     log,
		maxWait: orderMaxWait,
		changed: make(chan struct{}),
		subs:    map[*mqtt.Client]*section{},
		waited:  make(chan struct{}),
	}
}

// subscribe starts a subscribe that will be sent retained messages
// (OnSubscribe).
func (o *retainOrder) subscribe(cl *mqtt.Client, pk *packets.Packet) {
	s := &section{cl: cl}
	for _, sub := range pk.Filters {
		// Shared subscriptions get no retained messages [MQTT-4.8.2]; nor
		// does Retain Handling 2; mochi refuses invalid filters.
		if sub.RetainHandling != 2 && !mqtt.IsSharedFilter(sub.Filter) && mqtt.IsValidFilter(sub.Filter, false) {
			s.filters = append(s.filters, sub.Filter)
		}
	}
	if len(s.filters) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s.since = time.Now()
	o.subs[cl] = s
	o.wait(cl, func(yield func(*section) bool) {
		for _, p := range o.pubs {
			if matchesAny(s.filters, p.topic) && !yield(p) {
				return
			}
		}
	})
	s.since = time.Now() // running from here; waiting held back new publishes only
}

// publish starts a retained publish (OnPublish), after flow control has
// let it go.
func (o *retainOrder) publish(cl *mqtt.Client, pk *packets.Packet) {
	if !pk.FixedHeader.Retain {
		return
	}
	p := &section{cl: cl, topic: pk.TopicName}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.wait(cl, func(yield func(*section) bool) {
		for _, s := range o.subs {
			if matchesAny(s.filters, p.topic) && !yield(s) {
				return
			}
		}
	})
	p.since = time.Now()
	o.pubs = append(o.pubs, p)
}

// processed (OnPacketProcessed) ends the subscribe or retained publish pk began, if it
// began one. A network client sends one packet at a time; the app's inline
// client may publish from several goroutines, but never with a topic alias,
// so its packet still names the topic.
func (o *retainOrder) processed(cl *mqtt.Client, pk *packets.Packet) {
	switch {
	case pk.FixedHeader.Type == packets.Subscribe:
		o.mu.Lock()
		if _, ok := o.subs[cl]; ok {
			delete(o.subs, cl)
			o.ended()
		}
		o.mu.Unlock()
	case pk.FixedHeader.Type == packets.Publish && pk.FixedHeader.Retain:
		o.mu.Lock()
		for i, p := range o.pubs {
			if p.cl == cl && (!cl.Net.Inline || p.topic == pk.TopicName) {
				o.pubs = append(o.pubs[:i], o.pubs[i+1:]...)
				o.ended()
				break
			}
		}
		o.mu.Unlock()
	}
}

// wait returns once every section that blocking lists has ended or been
// judged stuck, and at the latest after maxWait. It is called, and returns,
// with o.mu held; cl is the waiting client.
func (o *retainOrder) wait(cl *mqtt.Client, blocking func(yield func(*section) bool)) {
	deadline := time.Now().Add(o.maxWait)
	var timer *time.Timer
	for {
		now := time.Now()
		var until time.Time // when the next live blocker is judged stuck
		for s := range blocking {
			switch {
			case s.stuck:
			case now.Sub(s.since) >= o.maxWait || !now.Before(deadline):
				s.stuck = true
				o.stuck.Add(1)
				o.log.Warn("stopped waiting for a client that seems stuck; a subscriber may get a retained message twice",
					"client", cl.ID, "stuck", s.cl.ID)
			case until.IsZero() || s.since.Add(o.maxWait).Before(until):
				until = s.since.Add(o.maxWait)
			}
		}
		if until.IsZero() {
			return
		}
		o.once.Do(func() { close(o.waited) })
		if deadline.Before(until) {
			until = deadline
		}
		if timer == nil {
			timer = time.NewTimer(until.Sub(now))
			defer timer.Stop()
		} else {
			timer.Reset(until.Sub(now))
		}
		changed := o.changed
		o.waiting++
		o.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
		}
		o.mu.Lock()
		o.waiting--
	}
}

// ended wakes the waiters to look again; o.mu is held.
func (o *retainOrder) ended() {
	if o.waiting > 0 {
		close(o.changed)
		o.changed = make(chan struct{})
	}
}

func matchesAny(filters []string, topic string) bool {
	for _, f := range filters {
		if message.MatchTopic(f, []byte(topic)) {
			return true
		}
	}
	return false
}
