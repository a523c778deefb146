package broker

import (
	"errors"
	"io/fs"
	"sync/atomic"

	"github.com/iotstudio/iotstudio/engine/auth"
)

// Counters are the broker's counters a monitoring system wants beyond
// Stats, and the breakdown of those Stats folds together (engine/metrics). Like Stats, every value
// is read from counters the broker keeps anyway, so taking one costs a walk
// of the clients and nothing per message. Counters restart from zero when
// the broker does.
type Counters struct {
	Running bool
	// Connections counts sessions established since the broker started.
	Connections int64
	// Refusals by cause: before CONNECT (too slow, too large, not MQTT),
	// over the open-socket limit, and CONNECTs refused for their
	// credentials.
	RefusedBeforeConnect, RefusedSocketLimit, RefusedLogin int64
	// RefusedBusy counts CONNECTs refused because --max-connections
	// clients were connected.
	RefusedBusy int64
	// The parts of Stats.Dropped besides Stats.DroppedOverBudget: a
	// subscriber's outbound queue was full, or its inflight window was.
	DroppedQueueFull, DroppedInflight int64
	// DeniedSubscribes counts SUBSCRIBE filters the ACL refused
	// (Stats.DeniedPublishes, the PUBLISH packets).
	DeniedSubscribes int64
	// Queued is how many messages wait for their connection's writer, all
	// clients together.
	Queued int64
	// PUBLISH packets received from clients and accepted (not refused by
	// the ACL) and sent to them, by QoS (the QoS they were sent at).
	MessagesInByQoS, MessagesOutByQoS [3]int64
	// Their payload bytes, by QoS.
	PayloadBytesInByQoS, PayloadBytesOutByQoS [3]int64
}

// Counters reads the counters; zero (Running false) when stopped.
func (b *Broker) Counters() Counters {
	v := b.viewed()
	srv, stats, authz, flow, gate, slots := v.srv, v.stats, v.authz, v.flow, v.gate, v.slots
	if srv == nil {
		return Counters{}
	}
	c := Counters{
		Running:          true,
		Connections:      stats.established.Load(),
		RefusedLogin:     authz.FailedLogins(),
		DroppedQueueFull: atomic.LoadInt64(&srv.Info.MessagesDropped),
		DroppedInflight:  atomic.LoadInt64(&srv.Info.InflightDropped),
		DeniedSubscribes: authz.DeniedSubscribes(),
	}
	c.MessagesInByQoS, c.PayloadBytesInByQoS = flow.in.totals()
	for q := range 3 {
		c.MessagesOutByQoS[q], c.PayloadBytesOutByQoS[q] = flow.outByQoS[q].Load(), flow.outBytesByQoS[q].Load()
	}
	if v.encode != nil {
		c.RefusedBusy = v.encode.busy.Load()
	}
	if gate != nil {
		c.RefusedBeforeConnect = gate.refused.Load()
	}
	if slots != nil {
		c.RefusedSocketLimit = slots.refused.Load()
	}
	for _, cl := range srv.Clients.GetAll() {
		if q := outboundCounter(cl); q != nil && !cl.Net.Inline {
			c.Queued += int64(atomic.LoadInt32(q))
		}
	}
	return c
}

// Users reads the users file the broker reads (Config.UsersFile or
// DATA/users.yaml); nil when the default file does not exist. engine/metrics
// asks it the broker's question before its endpoint may be reachable from
// other machines (at least one user), and checks scrapers' passwords with it.
func (c Config) Users() (*auth.Users, error) {
	users, err := auth.Load(c.usersPath())
	if errors.Is(err, fs.ErrNotExist) && c.UsersFile == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return users, nil
}
