// Package capture has one job: keep a persistent, complete record of every
// MQTT PUBLISH that IoT Studio sees (from the embedded broker or a client
// connection) in a Badger database, without ever making the broker wait for
// the disk, and answer queries over that record.
//
// Ingest only hands a Record to a bounded queue; when the queue is full the
// record is dropped and counted (Store.Dropped), never blocked on. A single
// writer goroutine owned by the Store assigns each record its Seq and writes
// batches to Badger; a second goroutine runs value-log GC. Both stop in
// Store.Close, which first writes and syncs everything queued.
//
// Layout (see keys.go): records live under a time-ordered primary key
// r|<seq>; a per-topic index t|<topic hash>|<seq> serves exact-topic
// queries; h|<hash> maps hashes back to topics; m|<second> holds the first
// seq of each Unix second so that time ranges become seq ranges. Queries
// with wildcard filters scan the primary range. Time-range queries assume
// receive times roughly follow ingest order (Since is exact; Until allows
// records up to 2 s out of order).
package capture
