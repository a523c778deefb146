// Package transport is how IoT Studio reaches an MQTT broker and how its
// own broker serves MQTT over WebSocket: broker URL parsing (Target,
// ParseURL), dialling TCP, TLS and WebSocket (Dial), and the one adapter
// that turns a WebSocket into an MQTT byte stream (WSConn). It depends on
// the standard library and gorilla/websocket only, so the broker can use
// WSConn without pulling in the MQTT client libraries.
package transport
