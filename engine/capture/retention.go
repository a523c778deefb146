package capture

import (
	"encoding/binary"
	"fmt"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
)

// retain deletes the oldest segments (runs of segmentBlocks blocks, see
// keys.go) while the store holds more than MaxBytes, and segments whose
// newest record is older than MaxAge. A segment goes only as a whole, and
// only when what stays is still at least MaxBytes: retention never deletes
// a record that the budget allows to keep, so the store may exceed
// MaxBytes by less than one segment. A block file goes once none of its
// blocks is left (blockfile.go); blocks of a format 2 store return their
// space when value-log GC (kicked here) rewrites the files that held them.
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

// retainSegments bounds the segments deleted in one write batch.
const retainSegments = 4

// segmentInfo is what retention needs to know of a segment.
type segmentInfo struct {
	size    int64      // of its blocks
	records int64      // in its blocks (those it can tell)
	maxNs   int64      // its newest record's time (of the blocks that can be read)
	keys    [][]byte   // its keys: g|, b|, o| and t|
	ptrs    []blockPtr // where its blocks are, if in block files
}

// retainStep deletes up to retainSegments segments and reports how many it
// deleted and whether more may be due.
func (w *writer) retainStep(maxBytes, cutoffNs int64) (deleted int, more bool, err error) {
	s := w.s
	total := s.bytes.Load()
	var (
		dels     [][]byte
		ptrs     []blockPtr
		freed    int64
		records  int64
		keepFrom uint64 // first seq kept; 0 if every segment goes
		open     bool   // the writer's open segment goes
	)
	s.dbMu.RLock()
	err = s.db.View(func(txn *badgerdb.Txn) error {
		segs := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixSegment})
		defer segs.Close()
		for segs.Rewind(); segs.Valid(); {
			first := seqFromKey(segs.Item().Key())
			segs.Next()
			var end uint64
			if segs.Valid() {
				end = seqFromKey(segs.Item().Key())
			}
			if deleted == retainSegments {
				keepFrom, more = first, true
				return nil
			}
			seg, err := s.readSegment(txn, first, end, false)
			if err != nil {
				return err
			}
			old := seg.maxNs < cutoffNs
			if !old && !(maxBytes >= 0 && total-freed-seg.size >= maxBytes) {
				keepFrom = first
				return nil
			}
			// It goes: read it again for its keys.
			if seg, err = s.readSegment(txn, first, end, true); err != nil {
				return err
			}
			dels = append(dels, seg.keys...)
			ptrs = append(ptrs, seg.ptrs...)
			freed += seg.size
			records += seg.records
			deleted++
			open = open || end == 0
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
	if open {
		w.endSegment()
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
	s.records.Add(-records)
	for _, p := range ptrs {
		s.files.release(p)
	}
	w.removeRetiredFiles()
	s.log.Debug("capture retention deleted segments", "dir", s.dir, "segments", deleted, "bytes", freed)
	return deleted, more, nil
}

// readSegment collects the size and newest time of the segment whose
// blocks start in [first, end) (end 0: no end), and, if withKeys, its
// keys. Retention looks at the oldest segment every retainEvery, nearly
// always to keep it; its keys (a t| entry per topic) are needed only to
// delete it: collecting them each time made an idle window with 100,000
// topics allocate ~17 MB every 10 s.
func (s *Store) readSegment(txn *badgerdb.Txn, first, end uint64, withKeys bool) (segmentInfo, error) {
	seg := segmentInfo{maxNs: minNano}
	var seen map[uint64]struct{}
	if withKeys {
		seg.keys = [][]byte{segmentKey(first)}
		seen = make(map[uint64]struct{})
	}
	it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixBlock})
	defer it.Close()
	for it.Seek(blockKey(first)); it.Valid(); it.Next() {
		item := it.Item()
		if len(item.Key()) != blockKeyLen {
			continue
		}
		bfirst := seqFromKey(item.Key())
		if end != 0 && bfirst >= end {
			break
		}
		if withKeys {
			seg.keys = append(seg.keys, item.KeyCopy(nil), disorderKey(bfirst))
		}
		if err := item.Value(func(val []byte) error {
			seg.size += storedLen(val)
			p, isPtr := decodeBlockPtr(val)
			if isPtr {
				seg.ptrs = append(seg.ptrs, p)
			}
			b, err := s.parseStored(val)
			if isPtr && p.summed {
				seg.records += int64(p.count)
			} else if err == nil {
				seg.records += int64(b.count)
			}
			if err != nil {
				if !isDamage(err) {
					return err
				}
				s.noteDamage(s.blockDamage(txn, bfirst, val, err), nil) // goes with its segment
				return nil
			}
			seg.maxNs = max(seg.maxNs, b.maxNs)
			if !withKeys {
				return nil
			}
			for k := range b.topics() {
				h := b.dirHash(k)
				if _, ok := seen[h]; !ok {
					seen[h] = struct{}{}
					seg.keys = append(seg.keys, topicKey(h, bfirst))
				}
			}
			return nil
		}); err != nil {
			return seg, fmt.Errorf("read block %d: %w", bfirst, err)
		}
	}
	return seg, nil
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
