package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// A block is one Badger value holding consecutive records: writing a few
// large values instead of one small entry per record is what keeps the
// capture's CPU cost per message low (docs/PERFORMANCE.md, "Capture").
//
//	[0]        blockVersion (= 2)
//	[1:5]      count, uint32 big-endian
//	[5:13]     least receive time of its records, Unix ns, big-endian
//	[13:21]    greatest receive time
//	[21:tail]  the records, each encoded as in record.go
//	[tail:]    count offsets, uint32 big-endian, of each record from the
//	           start of the value; a record ends where the next begins, the
//	           last where the offsets begin
//
// The header has a fixed size so that records can be encoded straight into
// the value while the block fills; the offsets are appended when it is
// sealed. Reading a record needs only the header, its offset and its bytes,
// which Badger serves from the memory-mapped value log without copying.
const (
	blockVersion   = 2
	blockHeaderLen = 1 + 4 + 8 + 8
)

var errCorruptBlock = errors.New("corrupt capture block")

// blockView is a parsed block that aliases the value's bytes.
type blockView struct {
	val          []byte
	count        int
	minNs, maxNs int64
	offs         []byte // count uint32s
}

func parseBlock(val []byte) (blockView, error) {
	if len(val) < blockHeaderLen {
		return blockView{}, fmt.Errorf("%w: %d bytes is shorter than its header", errCorruptBlock, len(val))
	}
	if val[0] != blockVersion {
		return blockView{}, fmt.Errorf("%w: unsupported version %d", errCorruptBlock, val[0])
	}
	n := uint64(binary.BigEndian.Uint32(val[1:5]))
	if n == 0 || n*4 > uint64(len(val)-blockHeaderLen) {
		return blockView{}, fmt.Errorf("%w: %d records cannot fit in %d bytes", errCorruptBlock, n, len(val))
	}
	tail := len(val) - int(n)*4
	return blockView{
		val:   val,
		count: int(n),
		minNs: int64(binary.BigEndian.Uint64(val[5:13])),
		maxNs: int64(binary.BigEndian.Uint64(val[13:21])),
		offs:  val[tail:],
	}, nil
}

// record returns the encoded bytes of the i-th record (0 <= i < count).
func (b *blockView) record(i int) ([]byte, error) {
	tail := len(b.val) - len(b.offs)
	start := int(binary.BigEndian.Uint32(b.offs[4*i:]))
	end := tail
	if i+1 < b.count {
		end = int(binary.BigEndian.Uint32(b.offs[4*i+4:]))
	}
	if start < blockHeaderLen || start > end || end > tail {
		return nil, fmt.Errorf("%w: record %d of %d has bad offsets %d..%d", errCorruptBlock, i, b.count, start, end)
	}
	return b.val[start:end:end], nil
}

// overlaps reports whether any record of the block may fall in tb.
func (b *blockView) overlaps(tb timeBounds) bool {
	return !(tb.since && b.maxNs < tb.sinceNs) && !(tb.until && b.minNs >= tb.untilNs)
}

// building is a block being filled by Ingest and then written by the
// writer. Everything but buf is bookkeeping that is not stored in the
// value.
type building struct {
	first        uint64   // seq of the first record
	buf          []byte   // header (filled at seal) + records (+ offsets after seal)
	offs         []uint32 // record offsets in buf
	hashes       []uint64 // topic hash of each record
	minNs, maxNs int64
	secs         []secondMark // where the store's time index advances
	disordered   bool         // holds records the time index does not cover
	sealed       bool
	since        time.Time // when its first record arrived (for sealing by age)
}

type secondMark struct {
	sec int64
	seq uint64
}

func (b *building) reset(first uint64) {
	b.first = first
	b.buf = append(b.buf[:0], make([]byte, blockHeaderLen)...)
	b.offs, b.hashes, b.secs = b.offs[:0], b.hashes[:0], b.secs[:0]
	b.disordered, b.sealed = false, false
}

func (b *building) count() int { return len(b.offs) }

// size is the value's length once sealed.
func (b *building) size() int { return len(b.buf) + 4*len(b.offs) }

// add encodes r into the block.
func (b *building) add(r *Record, hash uint64, ns int64) {
	if len(b.offs) == 0 || ns < b.minNs {
		b.minNs = ns
	}
	if len(b.offs) == 0 || ns > b.maxNs {
		b.maxNs = ns
	}
	b.offs = append(b.offs, uint32(len(b.buf)))
	b.hashes = append(b.hashes, hash)
	b.buf = appendRecord(b.buf, r)
}

// seal fills in the header and appends the offsets: buf is then the value.
func (b *building) seal() {
	if b.sealed {
		return
	}
	b.sealed = true
	b.buf[0] = blockVersion
	binary.BigEndian.PutUint32(b.buf[1:5], uint32(len(b.offs)))
	binary.BigEndian.PutUint64(b.buf[5:13], uint64(b.minNs))
	binary.BigEndian.PutUint64(b.buf[13:21], uint64(b.maxNs))
	for _, o := range b.offs {
		b.buf = binary.BigEndian.AppendUint32(b.buf, o)
	}
}

// appendIndexList encodes record indexes (ascending) as uvarint deltas.
func appendIndexList(dst []byte, idx []uint32) []byte {
	prev := uint32(0)
	for i, x := range idx {
		d := x - prev
		if i == 0 {
			d = x
		}
		dst = binary.AppendUvarint(dst, uint64(d))
		prev = x
	}
	return dst
}

// parseIndexList decodes appendIndexList's output into dst, checking that
// every index is below count.
func parseIndexList(dst []int, b []byte, count int) ([]int, error) {
	dst = dst[:0]
	x := uint64(0)
	for i := 0; len(b) > 0; i++ {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return dst, fmt.Errorf("%w: bad topic index entry", errCorruptBlock)
		}
		b = b[n:]
		if i == 0 {
			x = d
		} else {
			x += d
			if d == 0 {
				return dst, fmt.Errorf("%w: topic index not ascending", errCorruptBlock)
			}
		}
		if x >= uint64(count) {
			return dst, fmt.Errorf("%w: topic index %d beyond the block's %d records", errCorruptBlock, x, count)
		}
		dst = append(dst, int(x))
	}
	return dst, nil
}
