// Package metrics has one job: to expose the engine's counters to
// Prometheus. Its collectors read, at scrape time, the counters the broker
// (broker.Stats, broker.Counters: mochi's $SYS info and the gate's, the ACL
// hook's and flow control's counters) and the capture store (capture.Stats)
// keep anyway, so metrics add no work per message; the standard process and
// Go runtime collectors give CPU, memory and goroutines. Server serves them
// as /metrics in the Prometheus text format, on loopback unless the broker
// has users, whom scrapers from other machines must then log in as.
//
// Names follow Prometheus conventions: the iotstudio_ prefix, base units,
// _total counters, and labels from small fixed sets (reason, cause, packet);
// never client IDs, topics or user names, whose number has no bound.
// Counters restart from zero when the broker restarts or the capture is
// reopened, which rate() and increase() expect.
//
// Not yet exposed: messages by QoS (mochi counts messages, not messages per
// QoS), CONNACK refusals over --max-connections (mochi refuses them before
// any hook sees them), journal drops (no journal yet) and simulated devices.
package metrics
