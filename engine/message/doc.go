// Package message has one job: say what an MQTT message is in IoT Studio
// and what the MQTT rules for its topic are, for every package that
// produces, consumes or checks messages, without pulling in storage.
//
// Message is one PUBLISH as seen by the embedded broker or a client
// connection, with its MQTT 5 properties, where it came from and when.
// A Sink is anything that receives messages (the capture, the topic
// model, the subscribe panel); Tee hands each message to several sinks.
//
// The topic rules (MQTT 3.1.1/5 sections 1.5.4, 4.7 and 4.8.2) live here:
// topic names (ValidateTopicName), topic filters for
// queries and searches (ValidateFilter) and for SUBSCRIBE (CheckFilter,
// with $share parsing in SharedFilter), matching (MatchTopic,
// LiteralPrefix) and protocol level names (ProtocolName). The JSONL
// importer and replay's --remap word their own errors about topics (a line
// and field, a prefix) but take MaxTopicLen from here.
//
// It imports only the standard library, so the broker, the connections
// and the live topic model can share it without importing the capture
// (and Badger with it).
package message
