package capture

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
)

// DefaultLimit is the page size of a Query whose Limit is not positive.
const DefaultLimit = 1000

// untilSlack is how far out of receive-time order (behind a later second)
// a record may have been ingested and still be found by a query with Until.
const untilSlack = 2 // seconds

// ctxCheckEvery is how many records a query visits between checks of its
// context and of Close.
const ctxCheckEvery = 256

// Query selects records. All conditions must hold.
type Query struct {
	// Filter is an MQTT topic filter; "" matches every topic (including
	// $-topics, which wildcard-first filters do not match). A filter
	// without wildcards uses the per-topic index.
	Filter string
	// Since (inclusive) and Until (exclusive) bound the receive time;
	// zero means unbounded.
	Since, Until time.Time
	// Contains, if not empty, must occur in the payload (bytes.Contains).
	Contains string
	// Where, if set, must hold for the payload (see CompileCondition).
	Where *Condition
	// Limit is the page size; <= 0 means DefaultLimit.
	Limit int
	// Newest returns newest records first; otherwise oldest first.
	Newest bool
	// Cursor continues a previous Query with the same conditions: pass the
	// next value it returned.
	Cursor string
}

// Query returns up to q.Limit matching records in seq order (descending if
// q.Newest) and a cursor for the next page, or "" if there are no more
// matching records. Records that cannot be decoded are logged and skipped.
func (s *Store) Query(ctx context.Context, q Query) (recs []Record, next string, err error) {
	if err := ValidateFilter(q.Filter); err != nil {
		return nil, "", fmt.Errorf("capture: query: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	// Seqs to visit: [lo, hi).
	lo, hi := uint64(1), ^uint64(0)
	if q.Cursor != "" {
		seq, newest, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("capture: query: %w", err)
		}
		if newest != q.Newest {
			return nil, "", errors.New("capture: query: cursor belongs to a query with the other order (Newest)")
		}
		if newest {
			hi = min(hi, seq+1)
		} else {
			lo = max(lo, seq)
		}
	}

	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.dbClosed {
		return nil, "", fmt.Errorf("capture: query %s: %w", s.dir, ErrClosed)
	}
	txn := s.db.NewTransaction(false)
	defer txn.Discard()

	if !q.Since.IsZero() {
		seq, ok, err := firstSeqFromSecond(txn, q.Since.Unix())
		if err != nil {
			return nil, "", fmt.Errorf("capture: query %s: %w", s.dir, err)
		}
		if !ok { // nothing was received in or after Since's second
			return nil, "", nil
		}
		lo = max(lo, seq)
	}
	if sec := q.Until.Unix(); !q.Until.IsZero() && sec < math.MaxInt64-1-untilSlack {
		seq, ok, err := firstSeqFromSecond(txn, sec+1+untilSlack)
		if err != nil {
			return nil, "", fmt.Errorf("capture: query %s: %w", s.dir, err)
		}
		if ok {
			hi = min(hi, seq)
		}
	}
	if lo >= hi {
		return nil, "", nil
	}

	var (
		exact    = q.Filter != "" && !hasWildcard(q.Filter)
		sinceNs  = unixNano(q.Since)
		untilNs  = unixNano(q.Until)
		contains = []byte(q.Contains)
	)
	visit := func(seq uint64, val []byte) (stop bool) {
		v, err := parseRecord(val)
		if err != nil {
			s.logCorrupt(seq, err)
			return false
		}
		switch {
		case exact && string(v.topic) != q.Filter: // hash collision
			return false
		case !exact && q.Filter != "" && !matchTopic(q.Filter, v.topic):
			return false
		case !q.Since.IsZero() && v.timeNs < sinceNs:
			return false
		case !q.Until.IsZero() && v.timeNs >= untilNs:
			return false
		case len(contains) > 0 && !bytes.Contains(v.payload, contains):
			return false
		case q.Where != nil && !q.Where.Match(v.payload):
			return false
		}
		if len(recs) == limit {
			next = encodeCursor(seq, q.Newest)
			return true
		}
		recs = append(recs, v.record(seq))
		return false
	}
	if exact {
		err = s.scanTopic(ctx, txn, topicHash(q.Filter), lo, hi, q.Newest, visit)
	} else {
		err = s.scanRecords(ctx, txn, lo, hi, q.Newest, visit)
	}
	if err != nil {
		return nil, "", fmt.Errorf("capture: query %s: %w", s.dir, err)
	}
	return recs, next, nil
}

// visitFunc is called with each candidate record's value, which is valid
// only during the call; it returns true to stop the scan.
type visitFunc func(seq uint64, val []byte) (stop bool)

// check returns why a scan must stop early, if it must.
func (s *Store) check(ctx context.Context) error {
	if s.closing.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// scanRecords visits the primary records with seq in [lo, hi).
func (s *Store) scanRecords(ctx context.Context, txn *badgerdb.Txn, lo, hi uint64, newest bool, visit visitFunc) error {
	it := txn.NewIterator(badgerdb.IteratorOptions{Reverse: newest, Prefix: prefixRecord})
	defer it.Close()
	start := recordKey(lo)
	if newest {
		start = recordKey(hi - 1)
	}
	n := 0
	for it.Seek(start); it.Valid(); it.Next() {
		if n++; n%ctxCheckEvery == 0 {
			if err := s.check(ctx); err != nil {
				return err
			}
		}
		item := it.Item()
		if len(item.Key()) != recordKeyLen {
			continue
		}
		seq := seqFromKey(item.Key())
		if (newest && seq < lo) || (!newest && seq >= hi) {
			break
		}
		stop := false
		if err := item.Value(func(val []byte) error {
			stop = visit(seq, val)
			return nil
		}); err != nil {
			return fmt.Errorf("read record %d: %w", seq, err)
		}
		if stop {
			break
		}
	}
	return nil
}

// scanTopic visits the records of one topic hash with seq in [lo, hi),
// through the per-topic index.
func (s *Store) scanTopic(ctx context.Context, txn *badgerdb.Txn, hash, lo, hi uint64, newest bool, visit visitFunc) error {
	it := txn.NewIterator(badgerdb.IteratorOptions{Reverse: newest, Prefix: topicPrefix(hash)})
	defer it.Close()
	start := topicKey(hash, lo)
	if newest {
		start = topicKey(hash, hi-1)
	}
	n := 0
	for it.Seek(start); it.Valid(); it.Next() {
		if n++; n%ctxCheckEvery == 0 {
			if err := s.check(ctx); err != nil {
				return err
			}
		}
		k := it.Item().Key()
		if len(k) != topicKeyLen {
			continue
		}
		seq := seqFromKey(k)
		if (newest && seq < lo) || (!newest && seq >= hi) {
			break
		}
		item, err := txn.Get(recordKey(seq))
		if errors.Is(err, badgerdb.ErrKeyNotFound) { // its record failed to write
			continue
		}
		if err != nil {
			return fmt.Errorf("read record %d: %w", seq, err)
		}
		stop := false
		if err := item.Value(func(val []byte) error {
			stop = visit(seq, val)
			return nil
		}); err != nil {
			return fmt.Errorf("read record %d: %w", seq, err)
		}
		if stop {
			break
		}
	}
	return nil
}

// firstSeqFromSecond returns the seq of the first record written once the
// greatest receive second reached sec or later. Every record with a lower
// seq was received before sec. ok is false if no record was received in or
// after sec.
func firstSeqFromSecond(txn *badgerdb.Txn, sec int64) (seq uint64, ok bool, err error) {
	it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixSecond})
	defer it.Close()
	for it.Seek(secondKey(sec)); it.Valid(); it.Next() {
		item := it.Item()
		if len(item.Key()) != secondKeyLen {
			continue
		}
		var bad bool
		if err := item.Value(func(v []byte) error {
			if len(v) != 8 {
				bad = true
				return nil
			}
			seq = binary.BigEndian.Uint64(v)
			return nil
		}); err != nil {
			return 0, false, fmt.Errorf("read time index: %w", err)
		}
		if bad {
			continue
		}
		return seq, true, nil
	}
	return 0, false, nil
}

// Cursor format: base64url(version 1, order (0 oldest-first, 1 newest-first),
// 8-byte big-endian seq of the next record to return).
const cursorVersion = 1

func encodeCursor(seq uint64, newest bool) string {
	b := make([]byte, 10)
	b[0] = cursorVersion
	if newest {
		b[1] = 1
	}
	binary.BigEndian.PutUint64(b[2:], seq)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (seq uint64, newest bool, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 10 || b[0] != cursorVersion || b[1] > 1 {
		return 0, false, fmt.Errorf("invalid cursor %q", c)
	}
	seq = binary.BigEndian.Uint64(b[2:])
	if seq == 0 || seq == ^uint64(0) {
		return 0, false, fmt.Errorf("invalid cursor %q", c)
	}
	return seq, b[1] == 1, nil
}
