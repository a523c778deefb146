// Package broker runs IoT Studio's embedded MQTT broker: it wraps
// mochi-mqtt with the listeners the app offers (TCP, WebSocket, TLS), the
// users and ACL hook, session persistence, and a live view of clients and
// traffic counters. It never imports Fyne; the UI and the serve command both
// drive it through Broker.
package broker
