// Package sessionstore has one job: make the embedded broker's retained
// messages, subscriptions, persistent client sessions and inflight QoS
// messages survive a broker restart, by persisting them to a Badger database
// from a mochi-mqtt storage hook.
//
// It stores the same records, under the same keys, with the same
// create/delete rules as mochi's hooks/storage/badger, with two differences
// that are the reason this package exists:
//
//   - Hook methods never wait for the disk. They only encode the change and
//     hand it to a bounded queue; a single writer goroutine owned by the
//     Hook applies queued changes to Badger in batches. When the queue is
//     full the change is dropped and counted (see Hook.Dropped), never
//     blocked on. Whoever must know a change is written calls Flush, which
//     group-commits concurrent callers: the broker does so before it
//     acknowledges a QoS 1/2 publish that reached a persistent session
//     (engine/broker/durable.go).
//   - Every goroutine has an owner and stops. The writer and the value-log GC
//     goroutine both exit in Hook.Stop, which also drains the queue and closes
//     Badger.
package sessionstore
