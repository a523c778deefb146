package broker

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// durableAcks makes a PUBACK (PUBREC for QoS 2) a promise that the message
// survives the broker being killed: the acknowledgement leaves only once the
// session store holds everything the publish changed there.
//
// mochi writes the acknowledgement before it fans the message out, and the
// fan-out is what queues the message for persistent sessions (the store's
// inflight records); the store writes those in the background. So the
// acknowledgement of a QoS 1/2 publish is held back in the publisher's
// connection (ackHoldConn) and released in OnPacketProcessed, after the
// fan-out, once the store has written the records this publish queued (a
// retained message, a delivery to a persistent session). Publishes that queued
// nothing for the store (no persistent subscriber, not retained) release
// their acknowledgement without waiting.
//
// The wait is on the publisher's own goroutine, so a publisher waits for
// the store one publish at a time while others keep running, and
// concurrent waits share one store write (SessionStore.Flush).
type durableAcks struct {
	srv   *mqtt.Server
	store SessionStore
	log   *slog.Logger

	flushErrLog onceASecond
}

func newDurableAcks(srv *mqtt.Server, store SessionStore, log *slog.Logger) *durableAcks {
	return &durableAcks{srv: srv, store: store, log: log}
}

// publish (OnPublish) marks the start of a QoS 1/2 publish and holds the
// publisher's connection: mochi writes the acknowledgement (only
// processPublish writes a successful PUBACK or PUBREC, on this goroutine)
// before OnPacketProcessed, which mochi calls however processing the
// PUBLISH ends, and which lets it go. Holding here rather than when the
// acknowledgement is encoded keeps the encode path free of store checks;
// a delivery to this client in between waits for the acknowledgement, as
// it would have behind it.
func (h *durableAcks) publish(cl *mqtt.Client, pk *packets.Packet) {
	if c := holdConnOf(cl); c != nil && pk.FixedHeader.Qos > 0 {
		c.needsFlush.Store(false)
		c.publishing.Store(true)
		c.hold()
	}
}

// retainMessage (OnRetainMessage): a retained publish changes the store's
// retained record.
func (h *durableAcks) retainMessage(cl *mqtt.Client) {
	if c := holdConnOf(cl); c != nil && c.publishing.Load() {
		c.needsFlush.Store(true)
	}
}

// qosPublish (OnQosPublish): a delivery queued for a persistent session is
// stored; the publisher (pk.Origin) must wait for it. Retained deliveries
// to a new subscription also come here and may mark a publisher
// needlessly, which only costs that publish one store write.
func (h *durableAcks) qosPublish(cl *mqtt.Client, pk *packets.Packet) {
	if pk.Origin == "" || !sessionOutlivesConnection(cl) {
		return
	}
	if pub, ok := h.srv.Clients.Get(pk.Origin); ok {
		if c := holdConnOf(pub); c != nil {
			c.needsFlush.Store(true)
		}
	}
}

// processed (OnPacketProcessed) ends a publish: it waits for the store if
// the publish queued anything there, then lets the acknowledgement (and
// whatever queued behind it) go out.
func (h *durableAcks) processed(cl *mqtt.Client, pk *packets.Packet) {
	if pk.FixedHeader.Type != packets.Publish {
		return
	}
	c := holdConnOf(cl)
	if c == nil || !c.publishing.Swap(false) {
		return
	}
	if c.needsFlush.Swap(false) {
		// Flush returns at Stop at the latest. A failed write is logged
		// by the store; the message is still delivered from memory, so
		// the acknowledgement goes out rather than the publisher hanging.
		if err := h.store.Flush(context.Background()); err != nil && h.flushErrLog.Allow() {
			h.log.Warn("acknowledging a QoS 1/2 publish the session store could not write; it is lost if the broker dies",
				"client", cl.ID, "error", err)
		}
	}
	if err := c.release(); err != nil {
		h.log.Debug("writing held acknowledgement", "client", cl.ID, "error", err)
	}
}

func holdConnOf(cl *mqtt.Client) *ackHoldConn {
	c, _ := cl.Net.Conn.(*ackHoldConn)
	return c
}

// ackHoldConn is a client connection whose writes can be held back, in
// order, until release.
type ackHoldConn struct {
	net.Conn
	publishing atomic.Bool // between OnPublish and OnPacketProcessed of a QoS 1/2 publish
	needsFlush atomic.Bool // that publish changed the store

	mu   sync.Mutex
	held bool
	buf  []byte
}

func (c *ackHoldConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		c.buf = append(c.buf, b...)
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *ackHoldConn) hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

func (c *ackHoldConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	if cap(c.buf) > writeBufferSize { // a large delivery was held: do not keep its memory
		c.buf = nil
	}
	return err
}

// durableListener hands mochi every connection as an ackHoldConn.
type durableListener struct {
	listeners.Listener
}

func (l durableListener) Serve(establish listeners.EstablishFn) {
	l.Listener.Serve(func(id string, c net.Conn) error {
		return establish(id, &ackHoldConn{Conn: c})
	})
}
