package journalstore

import (
	"encoding/json"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/journal"
)

// retain deletes the oldest events, with their index entries, while they
// are older than MaxAge or the journal holds more than MaxBytes. Size
// retention deletes down to 90% of the limit, so that it does not run
// after every batch. Called by the writer only.
func (s *Store) retain(now time.Time) {
	cutoff := int64(-1 << 63)
	if s.opts.MaxAge > 0 {
		cutoff = now.Add(-s.opts.MaxAge).UnixNano()
	}
	target := int64(1<<63 - 1)
	if s.opts.MaxBytes > 0 && s.bytes.Load() > s.opts.MaxBytes {
		target = s.opts.MaxBytes / 10 * 9
	}
	for {
		n, err := s.deleteOldest(cutoff, target)
		if err != nil {
			if s.errLog.Allow() {
				s.log.Error("session journal retention failed; it runs again later", "dir", s.dir, "error", err)
			}
			return
		}
		if n < deleteBatch {
			return
		}
	}
}

// deleteOldest deletes up to deleteBatch of the oldest events that are
// before cutoff or over target bytes, and reports how many.
func (s *Store) deleteOldest(cutoff, target int64) (int, error) {
	var keys [][]byte
	var gone int64
	bytes := s.bytes.Load()
	err := s.db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: []byte{prefixEvent}, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(keys) < 3*deleteBatch; it.Next() {
			ek := it.Item().KeyCopy(nil)
			ts, seq, ok := splitTimeSeq(ek[1:])
			if !ok {
				keys = append(keys, ek)
				continue
			}
			if ts >= cutoff && bytes-gone <= target {
				break
			}
			var ev journal.Event
			size := int64(len(ek))
			if err := it.Item().Value(func(v []byte) error {
				size += 2 * int64(len(v))
				return json.Unmarshal(v, &ev)
			}); err != nil {
				keys = append(keys, ek) // a damaged event still goes
				continue
			}
			ck := indexKey(prefixClient, ev.Client, ts, seq)
			keys = append(keys, ek, ck)
			size += int64(len(ck))
			if ev.User != "" {
				uk := indexKey(prefixUser, ev.User, ts, seq)
				keys = append(keys, uk)
				size += int64(len(uk))
			}
			gone += size
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	deleted := 0
	for _, k := range keys {
		if k[0] == prefixEvent {
			deleted++
		}
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return 0, err
		}
	}
	events := max(s.events.Load()-int64(deleted), 0)
	bytes = max(bytes-gone, 0)
	if err := wb.Set(totalsKey, encodeTotals(events, bytes)); err != nil {
		return 0, err
	}
	if err := wb.Flush(); err != nil {
		return 0, err
	}
	s.events.Store(events)
	s.bytes.Store(bytes)
	return deleted, nil
}
