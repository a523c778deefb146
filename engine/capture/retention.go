package capture

import (
	"encoding/binary"
	"fmt"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
)

// retain deletes the oldest blocks while the store holds more than
// MaxBytes, and blocks whose newest record is older than MaxAge. A block
// goes only as a whole, and only when what stays is still at least
// MaxBytes: retention never deletes a record that the budget allows to
// keep, so the store may exceed MaxBytes by less than one block. Deleted
// space returns to the disk when value-log GC (kicked here) rewrites the
// files that held it.
func (w *writer) retain() {
	s := w.s
	deletedAny := false
	for {
		maxBytes, maxAge := s.maxBytes.Load(), time.Duration(s.maxAge.Load())
		if maxBytes < 0 && maxAge < 0 {
			break
		}
		cutoff := int64(minNano)
		if maxAge >= 0 {
			cutoff = time.Now().Add(-maxAge).UnixNano()
		}
		n, more, err := w.retainStep(maxBytes, cutoff)
		if err != nil {
			w.errs.Add(err)
			if s.writeErrLog.Allow() {
				s.log.Error("capture retention failed", "dir", s.dir, "error", err)
			}
			break
		}
		deletedAny = deletedAny || n > 0
		if !more {
			break
		}
	}
	if deletedAny {
		w.dirty = true
		select {
		case s.gcKick <- struct{}{}:
		default:
		}
	}
}

// retainStep deletes up to retainStep blocks and reports how many it
// deleted and whether more may be due.
func (w *writer) retainStep(maxBytes, cutoffNs int64) (deleted int, more bool, err error) {
	s := w.s
	total := s.bytes.Load()
	var (
		dels     [][]byte
		freed    int64
		keepFrom uint64 // first seq kept; 0 if every block goes
	)
	s.dbMu.RLock()
	err = s.db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixBlock})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if len(item.Key()) != blockKeyLen {
				continue
			}
			first := seqFromKey(item.Key())
			size := item.ValueSize()
			if deleted == retainStep {
				keepFrom, more = first, true
				return nil
			}
			var keys [][]byte
			old := false
			if err := item.Value(func(val []byte) error {
				b, err := parseBlock(val)
				if err != nil {
					s.logCorrupt(first, err)
					old = true // an unreadable block is never worth keeping over a readable one
					return nil
				}
				old = b.maxNs < cutoffNs
				if old || (maxBytes >= 0 && total-freed-size >= maxBytes) {
					keys = w.topicKeysOf(&b, first)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("read block %d: %w", first, err)
			}
			if !old && !(maxBytes >= 0 && total-freed-size >= maxBytes) {
				keepFrom = first
				return nil
			}
			dels = append(dels, item.KeyCopy(nil), disorderKey(first))
			dels = append(dels, keys...)
			freed += size
			deleted++
		}
		return nil
	})
	if err == nil && deleted > 0 {
		var marks [][]byte
		marks, err = staleSecondMarks(s.db, keepFrom)
		dels = append(dels, marks...)
	}
	s.dbMu.RUnlock()
	if err != nil || deleted == 0 {
		return 0, false, err
	}
	wb := s.db.NewWriteBatch()
	for _, k := range dels {
		if err := wb.Delete(k); err != nil {
			wb.Cancel()
			return 0, false, fmt.Errorf("retention: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		wb.Cancel()
		return 0, false, fmt.Errorf("retention: %w", err)
	}
	s.bytes.Add(-freed)
	s.log.Debug("capture retention deleted blocks", "dir", s.dir, "blocks", deleted, "bytes", freed)
	return deleted, more, nil
}

// topicKeysOf returns the t| keys of a block's topics.
func (w *writer) topicKeysOf(b *blockView, first uint64) [][]byte {
	seen := make(map[uint64]struct{})
	var keys [][]byte
	for i := range b.count {
		rec, err := b.record(i)
		if err != nil {
			continue
		}
		v, err := parseRecord(rec)
		if err != nil {
			continue
		}
		h := topicHash(string(v.topic))
		if _, ok := seen[h]; ok {
			continue
		}
		seen[h] = struct{}{}
		keys = append(keys, topicKey(h, first))
	}
	return keys
}

// staleSecondMarks returns the m| keys that only point before keepFrom,
// keeping the last of them: a query for its second must still start at the
// first kept record (keepFrom 0 means every block is going).
func staleSecondMarks(db *badgerdb.DB, keepFrom uint64) ([][]byte, error) {
	var keys [][]byte
	err := db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixSecond})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			var seq uint64
			if err := item.Value(func(v []byte) error {
				if len(v) == 8 {
					seq = binary.BigEndian.Uint64(v)
				}
				return nil
			}); err != nil {
				return err
			}
			if keepFrom != 0 && seq >= keepFrom {
				break
			}
			keys = append(keys, item.KeyCopy(nil))
		}
		return nil
	})
	if len(keys) > 0 {
		keys = keys[:len(keys)-1]
	}
	return keys, err
}
