package capture

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/message"
)

// maxLostReports bounds the l| reports a store keeps (Stats.Lost).
const maxLostReports = 16

// tornBlock is a block at the end of the capture that cannot be read.
type tornBlock struct {
	damage Damage
	ptr    blockPtr
}

// recoverTail sets where the writer continues: right after the newest
// block that can be read. A power cut can leave the index pointing at
// blocks the disk never got whole; their records are lost either way. So
// that seqs and counts stay true, such blocks at the end of the capture
// (in its two newest block files: a crash tears only what was written
// last) are removed from the index, reported in the log and kept as an l|
// report (Stats.Lost), and new records take their seqs. An unreadable
// block elsewhere stays, and reads report it.
func (s *Store) recoverTail() error {
	s.nextSeq = 1
	var torn []tornBlock // newest first
	err := s.db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{Reverse: true, Prefix: prefixBlock})
		defer it.Close()
		newestFile := uint32(0)
		for it.Seek(blockKey(^uint64(0))); it.Valid(); it.Next() {
			item := it.Item()
			if len(item.Key()) != blockKeyLen {
				continue
			}
			first := seqFromKey(item.Key())
			done := false
			err := item.Value(func(val []byte) error {
				b, err := s.parseStored(val)
				if err == nil {
					s.nextSeq, done = first+uint64(b.count), true
					return nil
				}
				if !isDamage(err) {
					return err
				}
				d := s.blockDamage(txn, first, val, err)
				p, isPtr := decodeBlockPtr(val)
				if len(torn) == 0 && isPtr {
					newestFile = p.file
				}
				if !isPtr || p.file+1 < newestFile {
					s.nextSeq, done = d.Last+1, true
					s.noteDamage(d, nil)
					return nil
				}
				torn = append(torn, tornBlock{damage: d, ptr: p})
				return nil
			})
			if err != nil {
				return fmt.Errorf("read block %d: %w", first, err)
			}
			if done {
				break
			}
		}
		return nil
	})
	if err != nil || len(torn) == 0 {
		return err
	}
	return s.dropTail(torn)
}

// dropTail removes the torn blocks (newest first) and every index entry
// at or after the first of their seqs, and records the loss.
func (s *Store) dropTail(torn []tornBlock) error {
	low := torn[len(torn)-1].damage.First
	lost := Damage{First: low, Last: torn[0].damage.Last, Reason: "cut short by a crash: " + torn[len(torn)-1].damage.Reason}
	var files []string
	for i := len(torn) - 1; i >= 0; i-- {
		if f := torn[i].damage.File; len(files) == 0 || files[len(files)-1] != f {
			files = append(files, f)
		}
	}
	lost.File = strings.Join(files, ", ")

	dels, err := tailKeys(s.db, low)
	if err != nil {
		return fmt.Errorf("recover the end of the capture: %w", err)
	}
	report, err := json.Marshal(lostReport{Damage: lost, At: time.Now()})
	if err != nil {
		return err
	}
	olderReports, err := excessLostReports(s.db)
	if err != nil {
		return fmt.Errorf("recover the end of the capture: %w", err)
	}
	wb := s.db.NewWriteBatch()
	for _, k := range append(dels, olderReports...) {
		if err := wb.Delete(k); err != nil {
			wb.Cancel()
			return fmt.Errorf("recover the end of the capture: %w", err)
		}
	}
	if err := wb.Set(lostKey(low), report); err != nil {
		wb.Cancel()
		return fmt.Errorf("recover the end of the capture: %w", err)
	}
	if err := wb.Flush(); err != nil {
		wb.Cancel()
		return fmt.Errorf("recover the end of the capture: %w", err)
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("recover the end of the capture: %w", err)
	}
	for _, t := range torn {
		s.bytes.Add(-t.ptr.n)
		s.files.release(t.ptr)
	}
	s.nextSeq = low
	s.haveSec = false
	if err := s.db.View(func(txn *badgerdb.Txn) error {
		if k, ok := lastKey(txn, prefixSecond); ok && len(k) == secondKeyLen {
			s.lastSec, s.haveSec = secondFromKey(k), true
		}
		return nil
	}); err != nil {
		return err
	}
	s.log.Warn("capture: the end of the capture was cut short (by a crash or power cut?); those records are lost, the rest is kept and new records continue after the last intact one",
		"dir", s.dir, "files", lost.File, "first_seq", lost.First, "last_seq", lost.Last, "reason", lost.Reason)
	return nil
}

// countRecords sets the record count from the blocks' pointers, or
// their headers where a pointer has no count (format 2 and 3). Such a
// block that cannot be read counts nothing.
func (s *Store) countRecords() error {
	var n int64
	err := s.db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixBlock})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if len(it.Item().Key()) != blockKeyLen {
				continue
			}
			if err := it.Item().Value(func(val []byte) error {
				if p, ok := decodeBlockPtr(val); ok && p.summed {
					n += int64(p.count)
				} else if b, err := s.parseStored(val); err == nil {
					n += int64(b.count)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("count records: %w", err)
			}
		}
		return nil
	})
	s.records.Store(n)
	return err
}

// tailKeys returns the keys of every block, segment, topic-index, time
// and disorder entry at or after seq low.
func tailKeys(db *badgerdb.DB, low uint64) ([][]byte, error) {
	var keys [][]byte
	err := db.View(func(txn *badgerdb.Txn) error {
		for _, prefix := range [][]byte{prefixBlock, prefixSegment, prefixDisorder} {
			it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix})
			for it.Seek(append(append([]byte(nil), prefix...), blockKey(low)[2:]...)); it.Valid(); it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			it.Close()
		}
		// t| keys start with the topic's hash: all of them are looked at
		// (keys only; this runs once, after a crash).
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixTopic, PrefetchValues: false})
		for it.Rewind(); it.Valid(); it.Next() {
			if k := it.Item().Key(); len(k) == topicKeyLen && seqFromKey(k) >= low {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
		}
		it.Close()
		// m| marks: seqs grow with the seconds.
		it = txn.NewIterator(badgerdb.IteratorOptions{Reverse: true, Prefix: prefixSecond})
		defer it.Close()
		for it.Seek(secondKey(1<<63 - 1)); it.Valid(); it.Next() {
			var seq uint64
			if err := it.Item().Value(func(v []byte) error {
				n, _ := decodeCount(v)
				seq = uint64(n)
				return nil
			}); err != nil {
				return err
			}
			if seq < low {
				break
			}
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	return keys, err
}

// lostReport is the value of an l| key.
type lostReport struct {
	Damage
	At time.Time // when the loss was found
}

func lostKey(first uint64) []byte {
	b := make([]byte, blockKeyLen)
	putSeqKey(b, prefixLost, first)
	return b
}

// excessLostReports returns the oldest l| keys beyond maxLostReports-1,
// to make room for one more.
func excessLostReports(db *badgerdb.DB) ([][]byte, error) {
	var keys [][]byte
	err := db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixLost, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if n := len(keys) - (maxLostReports - 1); n > 0 {
		return keys[:n], err
	}
	return nil, err
}

// readLost returns the l| reports, oldest first.
func readLost(txn *badgerdb.Txn) ([]Damage, error) {
	var lost []Damage
	it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixLost})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var r lostReport
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
			return nil, fmt.Errorf("read the reports of lost records: %w", err)
		}
		lost = append(lost, r.Damage)
	}
	return lost, nil
}

// dropTooLarge counts a record Ingest cannot keep: the capture stores a
// record whole or not at all.
func (s *Store) dropTooLarge(r *message.Message) {
	s.tooLarge.Add(1)
	n := s.dropped.Add(1)
	if s.dropLog.Allow() {
		s.log.Warn("capture: message too large to capture; dropped",
			"dir", s.dir, "topic", r.Topic, "client_id", r.ClientID, "bytes", encodedLen(r), "limit", MaxRecordBytes, "dropped_total", n)
	}
}
