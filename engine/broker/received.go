package broker

import (
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// received counts the PUBLISH packets clients send, and their payload
// bytes, by QoS (Counters). Each connection counts its own, since its
// reader goroutine is the only one that adds to them: with 100 publishers
// on two cores, adding every message to the same two shared words was
// about 1 % of fan-in's CPU (docs/PERFORMANCE.md). A connection's counts
// join the totals when it ends, under the lock readers take, so a total
// never goes down.
type received struct {
	mu    sync.Mutex
	live  map[*ackConn]struct{}
	ended qosCounts // connections that ended, and publishes not on an ackConn
}

// qosCounts is messages and payload bytes by QoS.
type qosCounts struct {
	msgs, bytes [3]atomic.Int64
}

func (q *qosCounts) add(qos byte, payload int) {
	q.msgs[qos%3].Add(1)
	q.bytes[qos%3].Add(int64(payload))
}

func (q *qosCounts) addTo(msgs, bytes *[3]int64) {
	for i := range 3 {
		msgs[i] += q.msgs[i].Load()
		bytes[i] += q.bytes[i].Load()
	}
}

// join starts counting what c receives on c itself.
func (r *received) join(c *ackConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live == nil {
		r.live = map[*ackConn]struct{}{}
	}
	r.live[c] = struct{}{}
	c.counting = true
}

// leave adds what c received to the totals, once its reader has stopped.
func (r *received) leave(c *ackConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.live, c)
	for q := range 3 {
		r.ended.msgs[q].Add(c.in.msgs[q].Load())
		r.ended.bytes[q].Add(c.in.bytes[q].Load())
	}
}

// count adds a publish cl sent.
func (r *received) count(cl *mqtt.Client, qos byte, payload int) {
	if c := ackConnOf(cl); c != nil && c.counting {
		c.in.add(qos, payload)
		return
	}
	r.ended.add(qos, payload)
}

// totals sums the counts: messages and payload bytes by QoS.
func (r *received) totals() (msgs, bytes [3]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended.addTo(&msgs, &bytes)
	for c := range r.live {
		c.in.addTo(&msgs, &bytes)
	}
	return msgs, bytes
}
