package journalstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/journal"
)

// Query selects events. Empty fields select everything.
type Query struct {
	Client string
	User   string
	Kinds  []journal.Kind
	// Since and Until bound the event's time (inclusive); zero: open.
	Since, Until time.Time
	// Limit caps the answer; 0 means DefaultLimit, negative no limit.
	Limit int
	// Newest returns the newest events first (and, with a Limit, the
	// newest Limit of them); otherwise oldest first.
	Newest bool
}

// Query answers q. One client's events are read from that client's index
// alone, one user's from theirs; other queries walk the events in time
// order from Since (or back from Until).
func (s *Store) Query(ctx context.Context, q Query) ([]journal.Event, error) {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.dbClosed {
		return nil, ErrClosed
	}
	var out []journal.Event
	err := s.db.View(func(txn *badgerdb.Txn) error {
		prefix, lookup := []byte{prefixEvent}, false
		switch {
		case q.Client != "":
			prefix = namePrefix(prefixClient, q.Client)
		case q.User != "":
			prefix, lookup = namePrefix(prefixUser, q.User), true
		}
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix, Reverse: q.Newest, PrefetchValues: !lookup, PrefetchSize: 64})
		defer it.Close()
		since, until := int64(-1<<63), int64(1<<63-1)
		if !q.Since.IsZero() {
			since = q.Since.UnixNano()
		}
		if !q.Until.IsZero() {
			until = q.Until.UnixNano()
		}
		if q.Newest {
			it.Seek(putTimeSeq(slices.Clone(prefix), until, 1<<64-1))
		} else {
			it.Seek(putTimeSeq(slices.Clone(prefix), since, 0))
		}
		for n := 0; it.ValidForPrefix(prefix); it.Next() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			key := it.Item().Key()
			ts, seq, ok := splitTimeSeq(key[len(prefix):])
			if !ok {
				continue
			}
			if ts < since || ts > until {
				break // keys are in time order: nothing further matches
			}
			ev, err := s.read(txn, it.Item(), lookup, ts, seq)
			if err != nil {
				return err
			}
			if !matches(ev, q) {
				continue
			}
			out = append(out, ev)
			if q.Limit > 0 && len(out) >= q.Limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// read decodes the event an entry holds, or for a user's index entry the
// event it points at.
func (s *Store) read(txn *badgerdb.Txn, item *badgerdb.Item, lookup bool, ts int64, seq uint64) (journal.Event, error) {
	var ev journal.Event
	if lookup {
		var err error
		if item, err = txn.Get(eventKey(ts, seq)); err != nil {
			return ev, fmt.Errorf("journal: read event %d: %w", seq, err)
		}
	}
	err := item.Value(func(v []byte) error { return json.Unmarshal(v, &ev) })
	if err != nil {
		return ev, fmt.Errorf("journal: event %d in %s is damaged: %w", seq, s.dir, err)
	}
	return ev, nil
}

func matches(ev journal.Event, q Query) bool {
	return (q.Client == "" || ev.Client == q.Client) &&
		(q.User == "" || ev.User == q.User) &&
		(len(q.Kinds) == 0 || slices.Contains(q.Kinds, ev.Kind))
}
