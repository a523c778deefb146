package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"

	badgerdb "github.com/dgraph-io/badger/v4"
)

// Damage describes captured records that cannot be read back: a block
// whose checksum does not match its bytes, that is cut short, or whose
// file is gone. Its records are skipped; every other record is served.
type Damage struct {
	// File is the block file holding the records ("" for a block stored
	// in the index, as format 2 did).
	File string
	// First and Last are the seq range of the records lost (inclusive).
	First, Last uint64
	// Reason says what is wrong, for people.
	Reason string
}

// Records is the number of records the damage covers.
func (d Damage) Records() int64 { return int64(d.Last - d.First + 1) }

func (d Damage) String() string {
	where := d.File
	if where == "" {
		where = "the index"
	}
	return fmt.Sprintf("records seq %d..%d in %s cannot be read: %s", d.First, d.Last, where, d.Reason)
}

// maxDamageReports bounds the damaged blocks a Store remembers (Stats).
const maxDamageReports = 100

// damageLog is what reads found damaged since Open, by first seq.
type damageLog struct {
	mu      sync.Mutex
	byFirst map[uint64]Damage
}

// add reports whether d is new.
func (l *damageLog) add(d Damage) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.byFirst[d.First]; ok || len(l.byFirst) >= maxDamageReports {
		return false
	}
	if l.byFirst == nil {
		l.byFirst = make(map[uint64]Damage)
	}
	l.byFirst[d.First] = d
	return true
}

// forget drops what was found about seqs at or after first (their blocks
// were removed, and the seqs will be used again).
func (l *damageLog) forget(first uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for f := range l.byFirst {
		if f >= first {
			delete(l.byFirst, f)
		}
	}
}

func (l *damageLog) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.byFirst)
}

// list returns the damage found, oldest seq first, and its record count.
func (l *damageLog) list() ([]Damage, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ds []Damage
	var n int64
	for _, d := range l.byFirst {
		ds = append(ds, d)
		n += d.Records()
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].First < ds[j].First })
	return ds, n
}

// blockDamage describes the block at b|first, whose value val could not
// be read for err. Its seq range comes from the pointer when it has a
// count, otherwise it ends where the next block starts.
func (s *Store) blockDamage(txn *badgerdb.Txn, first uint64, val []byte, err error) Damage {
	d := Damage{First: first, Last: first, Reason: damageReason(err)}
	p, isPtr := decodeBlockPtr(val)
	if isPtr {
		d.File = s.files.path(p.file)
	}
	if isPtr && p.summed {
		d.Last = first + uint64(max(p.count, 1)) - 1
		return d
	}
	if b, perr := parseBlock(val); perr == nil { // inline, its header readable
		d.Last = first + uint64(b.count) - 1
		return d
	}
	if next, ok := nextBlockFirst(txn, first); ok {
		d.Last = next - 1
	}
	return d
}

// damageReason is err's text without the package's prefix.
func damageReason(err error) string {
	msg := firstLine(err).Error()
	for _, prefix := range []string{errCorruptBlock.Error() + ": ", errCorruptRecord.Error() + ": "} {
		if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
			return msg[len(prefix):]
		}
	}
	return msg
}

// nextBlockFirst returns the first seq of the block after block first.
func nextBlockFirst(txn *badgerdb.Txn, first uint64) (uint64, bool) {
	it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixBlock})
	defer it.Close()
	for it.Seek(blockKey(first + 1)); it.Valid(); it.Next() {
		if k := it.Item().Key(); len(k) == blockKeyLen {
			return seqFromKey(k), true
		}
	}
	return 0, false
}

// noteDamage remembers d for Stats, logs it once, and passes it to the
// query that met it (report may be nil).
func (s *Store) noteDamage(d Damage, report func(Damage)) {
	if s.damage.add(d) {
		s.log.Warn("capture: damaged records skipped; the rest of the capture is served",
			"dir", s.dir, "file", d.File, "first_seq", d.First, "last_seq", d.Last, "reason", d.Reason)
	}
	if report != nil {
		report(d)
	}
}

// isDamage reports whether a read error means the data is damaged (as
// opposed to, say, the system running out of file descriptors).
func isDamage(err error) bool {
	return errors.Is(err, errCorruptBlock) || errors.Is(err, errCorruptRecord)
}

// encodeCount and decodeCount are the 8-byte form of the s| counters.
func encodeCount(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func decodeCount(v []byte) (int64, bool) {
	if len(v) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(v)), true
}
