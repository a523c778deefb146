package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iotstudio/iotstudio/engine/broker"
)

// brokerSnapshot is one scrape's reading of the broker: Stats and Counters
// each walk the clients once, so every metric reads the same snapshot.
type brokerSnapshot struct {
	broker.Stats
	broker.Counters
}

var qosLabels = []string{"0", "1", "2"}

var brokerMetrics = []metric[brokerSnapshot]{
	gauge("iotstudio_broker_up", "1 while the embedded broker runs, 0 while it is stopped (its counters then restart from zero).",
		func(s brokerSnapshot) int64 { return flag(s.Running) }),
	gauge("iotstudio_broker_clients_connected", "Clients connected now.",
		func(s brokerSnapshot) int64 { return s.ClientsConnected }),
	gauge("iotstudio_broker_sessions_offline", "Persistent sessions whose client is not connected.",
		func(s brokerSnapshot) int64 { return s.SessionsOffline }),
	counter("iotstudio_broker_connections_total", "Client sessions established (CONNECT accepted).",
		func(s brokerSnapshot) int64 { return s.Connections }),
	counterBy("iotstudio_broker_connections_refused_total",
		"Connections refused, by reason: before_connect (too slow, too large or not MQTT), socket_limit (over the open-socket limit), max_connections (CONNACK server busy), login (bad user name or password).",
		"reason", []string{"before_connect", "socket_limit", "max_connections", "login"},
		func(s brokerSnapshot) []int64 {
			return []int64{s.RefusedBeforeConnect, s.RefusedSocketLimit, s.RefusedBusy, s.RefusedLogin}
		}),
	counterBy("iotstudio_broker_messages_received_total", "PUBLISH messages received from clients and accepted, by QoS.",
		"qos", qosLabels, func(s brokerSnapshot) []int64 { return s.MessagesInByQoS[:] }),
	counterBy("iotstudio_broker_messages_sent_total", "PUBLISH messages sent to subscribers, by the QoS they were sent at.",
		"qos", qosLabels, func(s brokerSnapshot) []int64 { return s.MessagesOutByQoS[:] }),
	counterBy("iotstudio_broker_payload_received_bytes_total", "Payload bytes of the PUBLISH messages received and accepted, by QoS.",
		"qos", qosLabels, func(s brokerSnapshot) []int64 { return s.PayloadBytesInByQoS[:] }),
	counterBy("iotstudio_broker_payload_sent_bytes_total", "Payload bytes of the PUBLISH messages sent, by the QoS they were sent at.",
		"qos", qosLabels, func(s brokerSnapshot) []int64 { return s.PayloadBytesOutByQoS[:] }),
	counter("iotstudio_broker_received_bytes_total", "Bytes of MQTT packets received, all packet types.",
		func(s brokerSnapshot) int64 { return s.BytesIn }),
	counter("iotstudio_broker_sent_bytes_total", "Bytes of MQTT packets sent, all packet types.",
		func(s brokerSnapshot) int64 { return s.BytesOut }),
	gauge("iotstudio_broker_retained_messages", "Retained messages held, not counting the broker's own $SYS topics.",
		func(s brokerSnapshot) int64 { return s.Retained }),
	gauge("iotstudio_broker_subscriptions", "Subscriptions (topic filters) held by all sessions.",
		func(s brokerSnapshot) int64 { return s.Subscriptions }),
	gauge("iotstudio_broker_inflight_messages", "QoS 1 and 2 messages sent and not yet acknowledged.",
		func(s brokerSnapshot) int64 { return s.Inflight }),
	gauge("iotstudio_broker_queued_messages", "Messages waiting for their client's connection writer.",
		func(s brokerSnapshot) int64 { return s.Queued }),
	gauge("iotstudio_broker_queued_bytes", "Bytes of messages queued or in flight, as the queue byte budgets count them.",
		func(s brokerSnapshot) int64 { return s.QueuedBytes }),
	counterBy("iotstudio_broker_messages_dropped_total",
		"Messages not delivered, by cause: queue_full (a subscriber's queue), inflight_full (its inflight window), over_budget (the queue byte budgets).",
		"cause", []string{"queue_full", "inflight_full", "over_budget"},
		func(s brokerSnapshot) []int64 {
			return []int64{s.DroppedQueueFull, s.DroppedInflight, s.DroppedOverBudget}
		}),
	counterBy("iotstudio_broker_acl_denied_total", "PUBLISH packets (wills included) and SUBSCRIBE filters the ACL refused, by packet.",
		"packet", []string{"publish", "subscribe"},
		func(s brokerSnapshot) []int64 { return []int64{s.DeniedPublishes, s.DeniedSubscribes} }),
	counter("iotstudio_broker_publishes_held_total", "Publishes flow control made wait for a slow subscriber.",
		func(s brokerSnapshot) int64 { return s.PublishesHeld }),
	gauge("iotstudio_broker_session_store_disk_full", "1 while the disk is full and sessions and retained messages are held in memory only.",
		func(s brokerSnapshot) int64 { return flag(s.SessionStoreDiskFull) }),
}

type brokerCollector struct{ b *broker.Broker }

func (c brokerCollector) Describe(ch chan<- *prometheus.Desc) { describe(brokerMetrics, ch) }

func (c brokerCollector) Collect(ch chan<- prometheus.Metric) {
	collect(brokerMetrics, brokerSnapshot{Stats: c.b.Stats(), Counters: c.b.Counters()}, ch)
}
