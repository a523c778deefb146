// Package capture has one job: keep a persistent, complete record of every
// MQTT PUBLISH that IoT Studio sees (from the embedded broker or a client
// connection) in a Badger database, without ever making the broker wait for
// the disk, and answer queries over that record.
//
// Ingest encodes a record into its processor's lane (lane.go); when the
// lanes hold QueueBytes the record is dropped and counted
// (Store.Dropped), never blocked on. A single writer goroutine owned by
// the Store drains the lanes, merging them in the order Ingest was
// called, places the records in blocks (block.go), appends each block to
// a block file (blockfile.go) and indexes it in Badger; a second
// goroutine runs Badger's value-log GC. Both stop in Store.Close, which
// first writes and syncs everything accepted. The writer also applies
// retention (retention.go): whole segments of blocks, oldest first, by
// size and by age.
//
// Layout (see keys.go): b|<first seq> points to a block in a block file;
// a per-topic index t|<topic hash>|<block> lists which records of a block
// are on a topic; h|<hash> maps hashes back to topics; m|<second> holds the first seq of
// each Unix second so that time ranges become seq ranges, and o|<block>
// marks blocks whose records are out of time order (imports), which time
// queries add. Queries with wildcard filters scan blocks in seq order.
// Time-range queries assume receive times roughly follow ingest order
// (Since is exact; Until allows records up to 2 s out of order).
//
// Integrity (damage.go, recovery.go): each block's pointer carries a
// CRC-32C of the block, checked on its first read; a damaged block is
// skipped and reported (Query.OnDamage, Stats.Damaged), never served.
// Blocks at the end of the capture that a crash cut short are removed
// when it is opened (Stats.Lost), so that seqs continue after the last
// intact record.
package capture
