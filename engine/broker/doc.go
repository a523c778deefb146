// Package broker runs IoT Studio's embedded MQTT broker: it wraps
// mochi-mqtt with the listeners the app offers (TCP, WebSocket, TLS), the
// users and ACL hook, session persistence, and a live view of clients and
// traffic counters. It never imports Fyne; the UI and the serve command both
// drive it through Broker.
//
// Every connection passes the gate (gate.go) before mochi sees it: the
// connect guard (connguard.go) reads and judges the first packet within the
// connect timeout and a CONNECT-sized limit, and the listeners (accept.go)
// cap open sockets below the descriptor limit and outlive accept errors.
//
// What the broker does with each message beyond mochi (flow control and
// the queue byte budget, retained-message order, packet-ID aliasing, the
// capture tap, durable acknowledgements, CONNACK fixes) runs in one mochi
// hook, packetHooks, since mochi copies the whole packet into every hook
// on that path. Every connection mochi writes to is an ackConn (ackconn.go),
// which holds a publish's acknowledgement for the session store, sends
// the acknowledgements of one read in one write, and batches what mochi
// writes to a client with more queued (mochi's own write buffer is off).
package broker
