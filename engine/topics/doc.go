// Package topics has one job: keep a live, memory-bounded model of the MQTT
// topic tree of every message source (the embedded broker, later each
// remote connection), so that a UI can show it fluidly without ever making
// the broker wait.
//
// # Feeding
//
// Model.Ingest is a broker.Recorder: it appends the record to a bounded
// queue under a mutex held only for that append and never blocks. When a
// burst fills the queue, the queue is indexed by topic (once per batch
// that overflows, under the same mutex) and a record replaces the waiting
// record of its topic (coalescing, Stats.Coalesced): the skipped message
// is counted but never becomes history, and every topic still ends at its
// newest message. Only records on new topics beyond a larger bound are
// dropped and counted (Stats.Dropped). The goroutine running Model.Serve
// takes the whole queue at once and applies it under the model's write
// lock, in chunks so that readers wait at most a few milliseconds (2,048
// messages at 1–2 µs). Batches are applied at most every
// Options.BatchInterval, so that a steady stream costs one lock round trip
// per interval rather than one per message. Model.Restore applies messages
// that reached a source before the model could see them (the retained
// messages a broker restores at start) only where no newer one is known.
//
// # Tree and memory
//
// Nodes live in fixed-size chunks indexed by NodeID (IDs are never reused),
// found by source and path through one open-addressing index (index.go):
// the apply path for a known topic is one hash and one probe, and a
// node's name is a substring of its path, so levels shared by many topics
// cost no extra strings. A node keeps its last message, always whole,
// encoded in a slot of a few shared slabs (lastmsg.go), so that 100,000
// topics are not 100,000 small heap objects; its earlier messages (the in-RAM
// history) are copied, as they are superseded, into one ring that all
// topics share, linked per topic. History is capped per topic and in total
// by encoded bytes; when the total is over its cap the ring's tail, the
// entry superseded longest ago, is evicted first (history.go).
//
// With 100,000 topics nearly every node, index slot and buffer a message
// touches is a cache miss. Applying a chunk therefore first walks it link
// by link (tree.go, prefetch), so that the CPU waits for the misses of
// many messages at once.
//
// # Reading
//
// Every read takes the read lock once and copies out what it returns, so a
// result is one consistent snapshot; Model.View gives several reads in one
// snapshot. Model.Changes tells a reader which nodes changed since the
// Version it last saw, or that too much changed and it should rebuild what
// it shows (changes.go).
package topics
