// Package bridge joins the embedded broker to a remote broker through a
// saved connection (engine/client: its profiles, MQTT 5 and 3.1.1 dialers,
// TLS, presets and keyring secrets), forwarding messages by rules: a
// direction (out, in or both), a local and a remote topic filter that map
// onto each other by their literal prefixes (local plant/# is remote
// site1/plant/#), a QoS and retain handling.
//
// Local side: a Bridge is a message.Sink fed by the broker's tap
// (studio.Observe), and it publishes what it brings in through the broker's
// inline client under its own client ID (broker.PublishFrom). The tap sees
// every message once, whatever listener it came through, with its publisher's
// client ID, so the bridge skips exactly what it published itself: the
// local half of loop prevention, with no listener, login or ACL of the
// embedded broker involved and no network hop. A loopback MQTT connection
// would give no-local too, but needs a listener and credentials on the
// embedded broker, and costs two encodings per message.
//
// Remote side: MQTT 5 subscriptions carry no-local, so the remote never
// sends back what the bridge published there. MQTT 3.1.1 has no such option
// (and an automatic protocol may fall back to it), so there a rule set in
// which an outgoing message could match an incoming remote filter is refused
// at validation, naming both rules and filters.
//
// Outgoing messages wait in a bounded queue (queue.go) while the remote is
// down; QoS 1 and 2 ones are also written to a Badger store in the data dir,
// so they survive a restart. When the queue is full the oldest waiting
// message is dropped and counted.
package bridge
