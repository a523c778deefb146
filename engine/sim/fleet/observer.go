package fleet

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// Observer turns a fleet's stream messages, as the studio sees them
// arrive, into delivered, lost and end-to-end latency. A Runner has one;
// the window makes its own for a fleet running in another process, from
// the client IDs that process reports.
type Observer struct {
	byClient  map[string]*seen // fixed at creation: read without a lock
	delivered atomic.Uint64
	lost      atomic.Uint64
	latency   hist

	// arrived counts deliveries by the millisecond they arrived in, since
	// start, for DeliveredBy: each bucket is ms<<arrivalCountBits | count,
	// reused when a later millisecond maps to it.
	arrived [arrivalSpan]atomic.Uint64
	start   time.Time        // wall clock only, like the times DeliveredBy is given
	now     func() time.Time // time.Now; tests set it
}

const (
	arrivalSpan      = 4096 // milliseconds of arrivals DeliveredBy can look back over
	arrivalCountBits = 24
)

// seen is what one device's messages have shown so far.
type seen struct {
	mu   sync.Mutex
	next uint64 // the sim-seq expected next
	any  bool
}

// Observed is what an Observer has counted.
type Observed struct {
	Delivered, Lost        uint64
	LatencyP50, LatencyP99 time.Duration
}

// NewObserver observes the devices with the given client IDs.
func NewObserver(clientIDs []string) *Observer {
	o := &Observer{byClient: make(map[string]*seen, len(clientIDs)), now: time.Now}
	o.start = o.now().Round(0)
	for _, id := range clientIDs {
		o.byClient[id] = &seen{}
	}
	return o
}

// Ingest is a message.Sink: fed the broker's tap (or a monitoring
// subscription), it matches the fleet's messages by client ID (or the
// sim-client property, for a broker that does not say who published) and
// counts them delivered, a gap in a device's sim-seq as lost, and now −
// sim-ts as the end-to-end latency. It never blocks and never drops.
func (o *Observer) Ingest(m message.Message) bool {
	d := o.byClient[m.ClientID]
	var seq uint64
	var ts int64
	var haveSeq, haveTS bool
	for _, u := range m.UserProps {
		switch u.Key {
		case PropClient:
			if d == nil {
				d = o.byClient[u.Value]
			}
		case PropSeq:
			v, err := strconv.ParseUint(u.Value, 10, 64)
			seq, haveSeq = v, err == nil
		case PropTime:
			v, err := strconv.ParseInt(u.Value, 10, 64)
			ts, haveTS = v, err == nil
		}
	}
	if !haveSeq || d == nil {
		return true // not a stream message (status, replies), or not this fleet's
	}
	d.mu.Lock()
	switch {
	case !d.any || seq >= d.next:
		// Observing may start mid-stream: only gaps after the first
		// message seen count.
		if d.any && seq > d.next {
			o.lost.Add(seq - d.next)
		}
		d.next, d.any = seq+1, true
	default:
		// Late, after a gap was counted for it: it was not lost after all.
		for {
			l := o.lost.Load()
			if l == 0 || o.lost.CompareAndSwap(l, l-1) {
				break
			}
		}
	}
	d.mu.Unlock()
	at := o.now().Round(0)
	o.delivered.Add(1)
	o.arrive(at)
	if haveTS {
		o.latency.observe(at.Sub(time.Unix(0, ts)))
	}
	return true
}

// arrive counts a delivery in at's millisecond.
func (o *Observer) arrive(at time.Time) {
	ms := uint64(max(at.Sub(o.start), 0) / time.Millisecond)
	b := &o.arrived[ms%arrivalSpan]
	for {
		v := b.Load()
		next := ms<<arrivalCountBits | 1
		if v>>arrivalCountBits == ms {
			next = v + 1
		}
		if b.CompareAndSwap(v, next) {
			return
		}
	}
}

// DeliveredBy is how many messages had been delivered before t's
// millisecond: what to show beside a Sent that was read at t in another
// process, which counts a message sent before writing it (counted now,
// deliveries while the line travelled ran ahead of Sent). For a t further
// back than arrivalSpan it is every delivery so far.
func (o *Observer) DeliveredBy(t time.Time) uint64 {
	total := o.delivered.Load() // first: arrivals after it only make the result smaller
	if t.Before(o.start) {
		return 0
	}
	tms := uint64(t.Sub(o.start) / time.Millisecond)
	nowMS := uint64(max(o.now().Round(0).Sub(o.start), 0) / time.Millisecond)
	if nowMS >= tms+arrivalSpan-1 {
		return total
	}
	var later uint64
	for i := range o.arrived {
		v := o.arrived[i].Load()
		if ms := v >> arrivalCountBits; ms >= tms && ms <= nowMS {
			later += v & (1<<arrivalCountBits - 1)
		}
	}
	return total - min(later, total)
}

// Counts is what has been observed so far.
func (o *Observer) Counts() Observed {
	return Observed{
		Delivered:  o.delivered.Load(),
		Lost:       o.lost.Load(),
		LatencyP50: o.latency.quantile(0.50),
		LatencyP99: o.latency.quantile(0.99),
	}
}
