package broker

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// ackConn is every client connection as mochi sees it. It holds a QoS 1/2
// publish's acknowledgement while the publish is processed, so that
// durableAcks can make it wait for the session store, and then defers it
// until mochi's reader has nothing more to read, so that the
// acknowledgements of the publishes one read brought in leave in one write.
//
// mochi writes a PUBACK as soon as it has processed a publish, one write
// (a syscall, and on loopback the receiver's wake-up) each: with 20
// publishers keeping 128 QoS 1 messages in flight, those writes were a
// quarter of the broker's CPU (docs/PERFORMANCE.md). A publisher that
// pipelines sends many publishes per read; mosquitto also answers a whole
// read at once. The deferral adds no wait of its own: what was deferred is
// written before the reader may block (Read), before a flow-control nap
// or a session-store wait, on DISCONNECT, ahead of any other write to the
// connection, and once ackBatchBytes have piled up.
//
// It also gathers what mochi's writer sends while more is queued for the
// client, and writes it in one syscall with the last packet queued (or at
// writeBufferSize). mochi can do that itself, in a bytes.Buffer it
// allocates for each batch and regrows by doubling (Options.
// ClientNetWriteBufferSize): that was 15 % of all a fan-in allocated and
// a share of the collector's work (docs/PERFORMANCE.md), so mochi's
// buffer is off (writeThrough) and this one, kept between batches, does it.
type ackConn struct {
	net.Conn
	flow        *flowHook               // told of every write (budget.go); nil in tests of the conn alone
	publishing  atomic.Bool             // between hold and release
	needsFlush  atomic.Bool             // the held publish changed the session store (durableAcks)
	deferred    atomic.Bool             // buf holds acknowledgements released but not yet written
	acct        atomic.Pointer[account] // its byte budget account, once it has one (budget.go)
	subscribing atomic.Bool             // mochi is processing its SUBSCRIBE: retained messages are sent (budget.go)
	counting    bool                    // in counts what it receives (received.go)
	in          qosCounts

	mu     sync.Mutex
	held   bool
	buf    []byte
	pooled *[]byte // buf's array is batchBuffers', while it gathers a batch
	mark   int     // while held: how much of buf was deferred before the hold
}

// batchBuffers lend the connections whose writer is busy a buffer to
// gather a batch in (ackConn.Write): kept by each connection, 64 KiB each
// would add up with thousands of subscribers, and made anew for each
// batch they would be the garbage mochi's buffer was.
var batchBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, writeBufferSize)
	return &b
}}

// ackBatchBytes bounds what one connection defers: 64 PUBACKs, so that a
// publisher whose window is larger than one read is not kept waiting for
// the whole read.
const ackBatchBytes = 256

func ackConnOf(cl *mqtt.Client) *ackConn {
	c, _ := cl.Net.Conn.(*ackConn)
	return c
}

// Write sends b after whatever is held or deferred: while a publish is
// held, b waits behind its acknowledgement, as it would have queued behind
// it in mochi. While mochi has more queued for the client, b waits for it
// (see ackConn).
func (c *ackConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.held && len(c.buf) > 0 && len(c.buf)+len(b) > writeBufferSize {
		if err := c.writeBuf(); err != nil {
			return 0, err
		}
	}
	var err error
	switch {
	case c.held:
		c.buf = append(c.buf, b...)
	case len(c.buf)+len(b) <= writeBufferSize && c.morePending():
		c.gather(b)
	case len(c.buf) > 0:
		c.gather(b)
		err = c.writeBuf()
	default:
		err = c.send(b)
	}
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// gather appends b, which fits, to what waits, in a buffer of
// batchBuffers.
func (c *ackConn) gather(b []byte) {
	if c.pooled == nil {
		c.pooled = batchBuffers.Get().(*[]byte)
		c.buf = append((*c.pooled)[:0], c.buf...)
	}
	c.buf = append(c.buf, b...)
}

// morePending reports whether mochi's writer will write to the client
// again: its count of queued packets still includes the one being
// written, and it counts a packet only after queuing it, so more than one
// means at least one more Write.
func (c *ackConn) morePending() bool {
	a := c.acct.Load()
	return a != nil && a.queued != nil && atomic.LoadInt32(a.queued) > 1
}

// send writes b and tells the budget what mochi wrote: mochi writes whole
// packets, and is done with their messages once they are written (what
// ackConn keeps are copies).
func (c *ackConn) send(b []byte) error {
	if _, err := c.Conn.Write(b); err != nil {
		return err
	}
	if c.flow != nil {
		c.flow.wrote(c.acct.Load(), b)
	}
	return nil
}

// Read writes the deferred acknowledgements first: mochi's reader calls it
// only once it has processed every packet it had read.
func (c *ackConn) Read(p []byte) (int, error) {
	if c.deferred.Load() {
		if err := c.flush(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

// hold starts holding writes for a QoS 1/2 publish (OnPublish).
func (c *ackConn) hold() {
	c.mu.Lock()
	c.held = true
	c.mark = len(c.buf)
	c.mu.Unlock()
	c.needsFlush.Store(false)
	c.publishing.Store(true)
}

// release ends the hold (OnPacketProcessed): what it held is deferred, or
// written if that makes too much.
func (c *ackConn) release() error {
	if !c.publishing.Swap(false) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held, c.mark = false, 0
	if len(c.buf) == 0 {
		return nil
	}
	if len(c.buf) < ackBatchBytes {
		c.deferred.Store(true)
		return nil
	}
	return c.writeBuf()
}

// flush writes what was deferred, unless a publish is held.
func (c *ackConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		return nil
	}
	if len(c.buf) == 0 {
		c.deferred.Store(false) // flushDeferred wrote it all
		return nil
	}
	return c.writeBuf()
}

// flushDeferred writes, while a publish is held, what was deferred before
// the hold: earlier publishes' acknowledgements must not wait for this
// one's session-store write.
func (c *ackConn) flushDeferred() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mark == 0 {
		return nil
	}
	err := c.send(c.buf[:c.mark])
	c.buf = c.buf[:copy(c.buf, c.buf[c.mark:])]
	c.mark = 0
	return err
}

// releasedPending reports whether acknowledgements of processed
// publishes wait to be written.
func (c *ackConn) releasedPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		return c.mark > 0
	}
	return len(c.buf) > 0
}

// drainAcks writes, before the broker closes cl's connection itself (a
// kick, Stop), the acknowledgements of publishes it has processed: those
// were routed, and a client that never gets their PUBACK resends them or,
// starting clean, reports them lost. A publish still held keeps its
// acknowledgement (its store write may not be done).
//
// Every write to the closing connection is bounded by kickWriteTimeout
// first: a client that stopped reading blocks mochi's writer inside Write,
// holding c.mu, and waiting for that lock would hang the kick (a takeover,
// the window's Disconnect) for good.
func drainAcks(cl *mqtt.Client) {
	c := ackConnOf(cl)
	if c == nil {
		return
	}
	_ = c.Conn.SetWriteDeadline(time.Now().Add(kickWriteTimeout))
	if !c.releasedPending() {
		return
	}
	if c.flushDeferred() == nil {
		_ = c.flush()
	}
}

func (c *ackConn) writeBuf() error {
	err := c.send(c.buf)
	c.buf = c.buf[:0]
	if c.pooled != nil {
		if cap(c.buf) == writeBufferSize { // else a held write outgrew it
			*c.pooled = c.buf
			batchBuffers.Put(c.pooled)
		}
		c.buf, c.pooled = nil, nil
	}
	c.deferred.Store(false)
	if cap(c.buf) > writeBufferSize { // a large delivery was held: do not keep its memory
		c.buf = nil
	}
	return err
}

// ackListener hands mochi every connection as an ackConn.
type ackListener struct {
	listeners.Listener
	flow *flowHook
}

func (l ackListener) Serve(establish listeners.EstablishFn) {
	l.Listener.Serve(func(id string, c net.Conn) error {
		ac := &ackConn{Conn: c, flow: l.flow}
		l.flow.in.join(ac)
		defer l.flow.in.leave(ac) // establish returns when the client's reader has stopped
		return establish(id, ac)
	})
}
