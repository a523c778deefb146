package broker

import (
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// reconnectWait bounds how long a reconnecting client waits for its
// previous connection's teardown (a few hook calls and map deletes).
const reconnectWait = 2 * time.Second

// reconnectHook makes a client that comes back with the same client ID
// wait until its previous connection is torn down. mochi tears a
// connection down on that connection's goroutine: for a session that ends
// with it (clean start, or no session expiry), it removes the client ID's
// subscriptions and then the client ID from its client list (attachClient
// in its server.go). A client reconnecting at once (after a kick, a
// network blip, a keep-alive timeout) could register and subscribe in
// between, and the old teardown then removed the new connection's
// subscriptions and list entry: connected, its subscription granted, it
// received nothing (1 in 300 quick reconnects under -race here; mochi
// issues 173 and 177 are the same family). The same happened when the
// old connection was still open: a kick writes the DISCONNECT before it
// closes the connection, and a client back within that moment met mochi's
// takeover, whose teardown races the same way. OnSessionEstablish runs
// just before mochi looks for an existing session; for an old session
// that ends with its connection (nothing to inherit) the hook ends the old
// connection itself, as mochi's takeover would (DISCONNECT "session taken
// over"), and waits until it has left the list.
type reconnectHook struct {
	mqtt.HookBase
	srv *mqtt.Server
}

func (h *reconnectHook) ID() string { return "iotstudio-reconnect" }

func (h *reconnectHook) Provides(b byte) bool { return b == mqtt.OnSessionEstablish }

func (h *reconnectHook) OnSessionEstablish(cl *mqtt.Client, _ packets.Packet) {
	old, ok := h.srv.Clients.Get(cl.ID)
	if !ok || old == cl || old.Net.Inline || old.IsTakenOver() || !endsWithConnection(old) {
		return
	}
	if !old.Closed() {
		_ = kick(h.srv, old, packets.ErrSessionTakenOver)
	}
	deadline := time.Now().Add(reconnectWait)
	for time.Now().Before(deadline) {
		if now, ok := h.srv.Clients.Get(cl.ID); !ok || now != old || old.IsTakenOver() {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// endsWithConnection reports whether cl's session ends when its
// connection does, as mochi decides it when tearing the connection down.
func endsWithConnection(cl *mqtt.Client) bool {
	if cl.Properties.ProtocolVersion == 5 {
		return cl.Properties.Props.SessionExpiryInterval == 0
	}
	return cl.Properties.Clean
}
