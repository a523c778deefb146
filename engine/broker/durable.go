package broker

import (
	"context"
	"log/slog"

	mqtt "github.com/mochi-mqtt/server/v2"
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
// connection (ackConn) and released in OnPacketProcessed, after the
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

// retainMessage (OnRetainMessage): a retained publish changes the store's
// retained record.
func (h *durableAcks) retainMessage(cl *mqtt.Client) {
	if c := ackConnOf(cl); c != nil && c.publishing.Load() {
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
		if c := ackConnOf(pub); c != nil {
			c.needsFlush.Store(true)
		}
	}
}

// wait (OnPacketProcessed of a held publish) waits for the store if the
// publish queued anything there; packetHooks then releases the
// acknowledgement.
func (h *durableAcks) wait(cl *mqtt.Client, c *ackConn) {
	if !c.needsFlush.Swap(false) {
		return
	}
	if err := c.flushDeferred(); err != nil {
		return // the connection is gone: nobody to acknowledge
	}
	// Flush returns at Stop at the latest. A failed write is logged by the
	// store; the message is still delivered from memory, so the
	// acknowledgement goes out rather than the publisher hanging.
	if err := h.store.Flush(context.Background()); err != nil && h.flushErrLog.Allow() {
		h.log.Warn("acknowledging a QoS 1/2 publish the session store could not write; it is lost if the broker dies",
			"client", cl.ID, "error", err)
	}
}
