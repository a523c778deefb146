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

	"github.com/iotstudio/iotstudio/engine/message"
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
	// OnDamage, if set, is called for each damaged block (or record) the
	// query skipped: a result without those records is incomplete. It may
	// be called again for the same block on later pages. It runs during
	// the query and must not call the Store.
	OnDamage func(Damage)
}

// Querier answers queries: a Store, or a store that another process holds
// open, reached through it.
type Querier interface {
	Query(ctx context.Context, q Query) (recs []message.Message, next string, err error)
}

// Query returns up to q.Limit matching records in seq order (descending if
// q.Newest) and a cursor for the next page, or "" if there are no more
// matching records. Damaged records are skipped, logged, remembered for
// Stats and passed to q.OnDamage; the query serves the rest.
func (s *Store) Query(ctx context.Context, q Query) (recs []message.Message, next string, err error) {
	if err := message.ValidateFilter(q.Filter); err != nil {
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

	tb := timeBounds{sinceNs: unixNano(q.Since), untilNs: unixNano(q.Until), since: !q.Since.IsZero(), until: !q.Until.IsZero()}
	if tb.since || tb.until {
		tlo, thi, err := s.timeRange(txn, q.Since, q.Until, tb)
		if err != nil {
			return nil, "", fmt.Errorf("capture: query %s: %w", s.dir, err)
		}
		lo, hi = max(lo, tlo), min(hi, thi)
	}
	if lo >= hi {
		return nil, "", nil
	}

	var (
		exact    = q.Filter != "" && !message.HasWildcard(q.Filter)
		contains = []byte(q.Contains)
		literal  = []byte(message.LiteralPrefix(q.Filter))
	)
	visit := func(seq uint64, val []byte) (stop bool, err error) {
		// Most records of a wildcard scan fail on the topic: test it
		// before decoding the rest.
		if topic, ok := peekTopic(val); ok && !exact && q.Filter != "" &&
			(!bytes.HasPrefix(topic, literal) || !message.MatchTopic(q.Filter, topic)) {
			return false, nil
		}
		v, err := parseRecord(val)
		if err != nil {
			return false, err
		}
		switch {
		case exact && string(v.topic) != q.Filter: // hash collision
			return false, nil
		case !exact && q.Filter != "" && !message.MatchTopic(q.Filter, v.topic):
			return false, nil
		case tb.since && v.timeNs < tb.sinceNs:
			return false, nil
		case tb.until && v.timeNs >= tb.untilNs:
			return false, nil
		case len(contains) > 0 && !bytes.Contains(v.payload, contains):
			return false, nil
		case q.Where != nil && !q.Where.Match(v.payload):
			return false, nil
		}
		if len(recs) == limit {
			next = encodeCursor(seq, q.Newest)
			return true, nil
		}
		recs = append(recs, v.record(seq))
		return false, nil
	}
	sc := scan{s: s, ctx: ctx, txn: txn, lo: lo, hi: hi, newest: q.Newest, tb: tb, visit: visit, report: q.OnDamage}
	if exact {
		err = sc.topic(topicHash(q.Filter))
	} else {
		err = sc.records()
	}
	if err != nil {
		return nil, "", fmt.Errorf("capture: query %s: %w", s.dir, err)
	}
	return recs, next, nil
}

// visitFunc is called with each candidate record's value, which is valid
// only during the call; it returns true to stop the scan, or the error
// that makes the record unreadable (it is then reported as damage).
type visitFunc func(seq uint64, val []byte) (stop bool, err error)

// scan is one query's walk over the blocks: the records with seq in
// [lo, hi) in blocks that overlap tb, in seq order or reversed (newest).
type scan struct {
	s      *Store
	ctx    context.Context
	txn    *badgerdb.Txn
	lo, hi uint64
	newest bool
	tb     timeBounds
	visit  visitFunc
	report func(Damage) // the query's OnDamage; may be nil
	idx    []int        // scratch for a block's topic list
}

// block parses the block b|first holds or points to; ok is false if it is
// damaged (then reported) and must be skipped.
func (sc *scan) block(first uint64, val []byte) (b blockView, ok bool, err error) {
	b, err = sc.s.parseStored(val)
	switch {
	case err == nil:
		return b, true, nil
	case isDamage(err):
		sc.s.noteDamage(sc.s.blockDamage(sc.txn, first, val, err), sc.report)
		return b, false, nil
	}
	return b, false, err
}

// check returns why a scan must stop early, if it must.
func (s *Store) check(ctx context.Context) error {
	if s.closing.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// timeBounds is a query's receive-time range in Unix ns.
type timeBounds struct {
	sinceNs, untilNs int64
	since, until     bool // whether each bound is set
}

// timeRange returns the seqs [lo, hi) that can hold records received in
// the query's time range: from the time index, widened by every block of
// out-of-order records (imports) whose times overlap the range.
func (s *Store) timeRange(txn *badgerdb.Txn, since, until time.Time, tb timeBounds) (lo, hi uint64, err error) {
	lo, hi = 1, ^uint64(0)
	if tb.since {
		seq, ok, err := firstSeqFromSecond(txn, since.Unix())
		if err != nil {
			return 0, 0, err
		}
		if ok {
			lo = seq
		} else { // no record in order was received in or after Since's second
			lo = ^uint64(0)
		}
	}
	if sec := until.Unix(); tb.until && sec < math.MaxInt64-1-untilSlack {
		seq, ok, err := firstSeqFromSecond(txn, sec+1+untilSlack)
		if err != nil {
			return 0, 0, err
		}
		if ok {
			hi = seq
		}
	}
	err = s.eachDisorder(txn, func(d disorder) bool {
		if !(tb.since && d.maxNs < tb.sinceNs) && !(tb.until && d.minNs >= tb.untilNs) {
			lo, hi = min(lo, d.first), max(hi, d.last+1)
		}
		return true
	})
	return lo, hi, err
}

// disorder is an o| entry: a block with records out of time order.
type disorder struct {
	first, last  uint64
	minNs, maxNs int64
}

// eachDisorder calls fn for each o| entry until fn returns false.
func (s *Store) eachDisorder(txn *badgerdb.Txn, fn func(disorder) bool) error {
	it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixDisorder})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		d := disorder{first: seqFromKey(item.Key())}
		ok := false
		if err := item.Value(func(v []byte) error {
			if len(v) == 24 {
				d.last = binary.BigEndian.Uint64(v)
				d.minNs = int64(binary.BigEndian.Uint64(v[8:]))
				d.maxNs = int64(binary.BigEndian.Uint64(v[16:]))
				ok = true
			}
			return nil
		}); err != nil {
			return fmt.Errorf("read disorder index: %w", err)
		}
		if ok && !fn(d) {
			break
		}
	}
	return nil
}

// containingBlock returns the first seq of the block that holds seq, or
// seq itself if no block starts at or before it.
func containingBlock(txn *badgerdb.Txn, seq uint64) uint64 {
	it := txn.NewIterator(badgerdb.IteratorOptions{Reverse: true, Prefix: prefixBlock})
	defer it.Close()
	it.Seek(blockKey(seq))
	if it.Valid() && len(it.Item().Key()) == blockKeyLen {
		return seqFromKey(it.Item().Key())
	}
	return seq
}

// blockRecords visits the records of block b (first seq first) whose
// index is in idx (nil: every record) and whose seq is in [lo, hi). It
// reports whether visit asked to stop. A record that cannot be read (only
// possible in blocks without a checksum) is reported as damage.
func (sc *scan) blockRecords(b *blockView, first uint64, idx []int) (bool, error) {
	n := b.count
	if idx != nil {
		n = len(idx)
	}
	for j := range n {
		k := j
		if sc.newest {
			k = n - 1 - j
		}
		i := k
		if idx != nil {
			i = idx[k]
		}
		seq := first + uint64(i)
		if seq < sc.lo || seq >= sc.hi {
			continue
		}
		if j%ctxCheckEvery == ctxCheckEvery-1 {
			if err := sc.s.check(sc.ctx); err != nil {
				return true, err
			}
		}
		rec, err := b.record(i)
		stop := false
		if err == nil {
			stop, err = sc.visit(seq, rec)
		}
		if err != nil {
			sc.s.noteDamage(Damage{File: sc.s.files.pathOf(b.fileNo), First: seq, Last: seq, Reason: damageReason(err)}, sc.report)
			continue
		}
		if stop {
			return true, nil
		}
	}
	return false, nil
}

// records visits the records with seq in [lo, hi), block by block,
// skipping blocks outside tb.
func (sc *scan) records() error {
	it := sc.txn.NewIterator(badgerdb.IteratorOptions{Reverse: sc.newest, Prefix: prefixBlock})
	defer it.Close()
	start := blockKey(containingBlock(sc.txn, sc.lo))
	if sc.newest {
		start = blockKey(sc.hi - 1)
	}
	for it.Seek(start); it.Valid(); it.Next() {
		if err := sc.s.check(sc.ctx); err != nil {
			return err
		}
		item := it.Item()
		if len(item.Key()) != blockKeyLen {
			continue
		}
		first := seqFromKey(item.Key())
		if !sc.newest && first >= sc.hi {
			break
		}
		var stop bool
		err := item.Value(func(val []byte) error {
			b, ok, err := sc.block(first, val)
			if !ok {
				return err
			}
			if sc.newest && first+uint64(b.count) <= sc.lo {
				stop = true
				return nil
			}
			if !b.overlaps(sc.tb) {
				return nil
			}
			stop, err = sc.blockRecords(&b, first, nil)
			return err
		})
		if err != nil {
			return fmt.Errorf("read block %d: %w", first, err)
		}
		if stop {
			break
		}
	}
	return nil
}

// scanTopic visits the records of one topic hash with seq in [lo, hi).
// The per-topic index names each segment with records on the topic (by
// its first block that has some); each block's directory lists them.
func (sc *scan) topic(hash uint64) error {
	txn, lo, hi, newest := sc.txn, sc.lo, sc.hi, sc.newest
	it := txn.NewIterator(badgerdb.IteratorOptions{Reverse: newest, Prefix: topicPrefix(hash)})
	defer it.Close()
	blocks := txn.NewIterator(badgerdb.IteratorOptions{Reverse: newest, Prefix: prefixBlock})
	defer blocks.Close()
	segs := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixSegment})
	defer segs.Close()
	loBlock := containingBlock(txn, lo)
	start := topicKey(hash, segmentStart(txn, loBlock))
	if newest {
		start = topicKey(hash, hi-1)
	}
	for it.Seek(start); it.Valid(); it.Next() {
		if err := sc.s.check(sc.ctx); err != nil {
			return err
		}
		if len(it.Item().Key()) != topicKeyLen {
			continue
		}
		from := seqFromKey(it.Item().Key())
		if !newest && from >= hi {
			break
		}
		to := ^uint64(0) // the segment ends where the next one starts
		if segs.Seek(segmentKey(from + 1)); segs.Valid() {
			to = seqFromKey(segs.Item().Key())
		}
		if newest && to <= lo {
			break
		}
		first, last := max(from, loBlock), min(to, hi)-1
		stop, err := sc.segment(blocks, hash, first, last)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// segment visits the records on hash in the blocks that start in
// [first, last], through each block's directory.
func (sc *scan) segment(blocks *badgerdb.Iterator, hash, first, last uint64) (bool, error) {
	newest := sc.newest
	start := blockKey(first)
	if newest {
		start = blockKey(last)
	}
	for blocks.Seek(start); blocks.Valid(); blocks.Next() {
		item := blocks.Item()
		if len(item.Key()) != blockKeyLen {
			continue
		}
		bfirst := seqFromKey(item.Key())
		if (newest && bfirst < first) || (!newest && bfirst > last) {
			return false, nil
		}
		var stop bool
		err := item.Value(func(val []byte) error {
			b, ok, err := sc.block(bfirst, val)
			if !ok {
				return err
			}
			if newest && bfirst+uint64(b.count) <= sc.lo {
				stop = true
				return nil
			}
			if !b.overlaps(sc.tb) {
				return nil
			}
			if sc.idx, err = b.lookup(sc.idx, hash); err != nil { // only in blocks without a checksum
				sc.s.noteDamage(sc.s.blockDamage(sc.txn, bfirst, val, err), sc.report)
				return nil
			}
			if len(sc.idx) == 0 {
				return nil
			}
			stop, err = sc.blockRecords(&b, bfirst, sc.idx)
			return err
		})
		if err != nil {
			return true, fmt.Errorf("read block %d: %w", bfirst, err)
		}
		if stop {
			return true, nil
		}
	}
	return false, nil
}

// segmentStart returns the first block of the segment that holds block
// first (0 if there is none).
func segmentStart(txn *badgerdb.Txn, first uint64) uint64 {
	it := txn.NewIterator(badgerdb.IteratorOptions{Reverse: true, Prefix: prefixSegment})
	defer it.Close()
	if it.Seek(segmentKey(first)); it.Valid() && len(it.Item().Key()) == blockKeyLen {
		return seqFromKey(it.Item().Key())
	}
	return 0
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
