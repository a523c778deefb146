package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// A block is one Badger value holding consecutive records: writing a few
// large values instead of one small entry per record is what keeps the
// capture's CPU cost per message low (docs/PERFORMANCE.md, "Capture").
//
//	[0]        blockVersion
//	[1:5]      count, uint32 big-endian
//	[5:13]     least receive time of its records, Unix ns, big-endian
//	[13:21]    greatest receive time
//	[21:R]     the records, each encoded as in record.go
//	[R:D]      count offsets, uint32 big-endian, of each record from the
//	           start of the value; a record ends where the next begins, the
//	           last at R
//	[D:L]      topic directory: one 12-byte entry per topic in the block,
//	           sorted by topic hash: hash (8 bytes), offset of its index
//	           list (4 bytes)
//	[L:T]      index lists: the ascending indexes of the topic's records
//	           as uvarint deltas; a list ends where the next begins, the
//	           last at T
//	[T:T+8]    R and the number of directory entries, uint32 big-endian
//
// Records are encoded straight into the value while the block fills (the
// header has a fixed size); the writer appends the rest. Reading a record
// needs only the header, the trailer, an offset and its bytes, which Badger
// serves from the memory-mapped value log without copying, and finding a
// topic's records in a block is a binary search of its directory.
const (
	blockVersion    = 2
	blockHeaderLen  = 1 + 4 + 8 + 8
	blockTrailerLen = 8
	dirEntryLen     = 12
)

var errCorruptBlock = errors.New("corrupt capture block")

// blockView is a parsed block that aliases the value's bytes.
type blockView struct {
	val          []byte
	count        int
	minNs, maxNs int64
	recEnd       int    // R
	offs         []byte // count uint32s
	dir          []byte // directory entries
	listsEnd     int    // T
	fileNo       uint32 // the block file it came from, 0 if inline (for reports)
}

func parseBlock(val []byte) (blockView, error) {
	if len(val) < blockHeaderLen+blockTrailerLen {
		return blockView{}, fmt.Errorf("%w: %d bytes is shorter than its header and trailer", errCorruptBlock, len(val))
	}
	if val[0] != blockVersion {
		return blockView{}, fmt.Errorf("%w: unsupported version %d", errCorruptBlock, val[0])
	}
	t := len(val) - blockTrailerLen
	n := uint64(binary.BigEndian.Uint32(val[1:5]))
	r := uint64(binary.BigEndian.Uint32(val[t:]))
	dn := uint64(binary.BigEndian.Uint32(val[t+4:]))
	d := r + 4*n
	l := d + dirEntryLen*dn
	if n == 0 || r < blockHeaderLen || l > uint64(t) {
		return blockView{}, fmt.Errorf("%w: %d records and %d topics cannot fit in %d bytes", errCorruptBlock, n, dn, len(val))
	}
	return blockView{
		val:      val,
		count:    int(n),
		minNs:    int64(binary.BigEndian.Uint64(val[5:13])),
		maxNs:    int64(binary.BigEndian.Uint64(val[13:21])),
		recEnd:   int(r),
		offs:     val[r:d],
		dir:      val[d:l],
		listsEnd: t,
	}, nil
}

// record returns the encoded bytes of the i-th record (0 <= i < count).
func (b *blockView) record(i int) ([]byte, error) {
	start := int(binary.BigEndian.Uint32(b.offs[4*i:]))
	end := b.recEnd
	if i+1 < b.count {
		end = int(binary.BigEndian.Uint32(b.offs[4*i+4:]))
	}
	if start < blockHeaderLen || start > end || end > b.recEnd {
		return nil, fmt.Errorf("%w: record %d of %d has bad offsets %d..%d", errCorruptBlock, i, b.count, start, end)
	}
	return b.val[start:end:end], nil
}

// topics returns the number of directory entries.
func (b *blockView) topics() int { return len(b.dir) / dirEntryLen }

// dirHash returns the hash of directory entry k.
func (b *blockView) dirHash(k int) uint64 {
	return binary.BigEndian.Uint64(b.dir[k*dirEntryLen:])
}

// list returns the index list of directory entry k, decoded into dst.
func (b *blockView) list(dst []int, k int) ([]int, error) {
	start := int(binary.BigEndian.Uint32(b.dir[k*dirEntryLen+8:]))
	end := b.listsEnd
	if k+1 < b.topics() {
		end = int(binary.BigEndian.Uint32(b.dir[(k+1)*dirEntryLen+8:]))
	}
	lists := b.recEnd + len(b.offs) + len(b.dir)
	if start < lists || start > end || end > b.listsEnd {
		return dst[:0], fmt.Errorf("%w: topic list %d has bad offsets %d..%d", errCorruptBlock, k, start, end)
	}
	return parseIndexList(dst, b.val[start:end], b.count)
}

// lookup returns the indexes of the records whose topic has hash, or an
// empty list if the block has none.
func (b *blockView) lookup(dst []int, hash uint64) ([]int, error) {
	lo, hi := 0, b.topics()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b.dirHash(m) < hash {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == b.topics() || b.dirHash(lo) != hash {
		return dst[:0], nil
	}
	return b.list(dst, lo)
}

// overlaps reports whether any record of the block may fall in tb.
func (b *blockView) overlaps(tb timeBounds) bool {
	return !(tb.since && b.maxNs < tb.sinceNs) && !(tb.until && b.minNs >= tb.untilNs)
}

// building is a block being filled and then written by the writer.
// Everything but buf is bookkeeping that is not stored in the value.
type building struct {
	first        uint64   // seq of the first record
	buf          []byte   // header (filled at seal) + records (+ offsets after seal)
	offs         []uint32 // record offsets in buf
	hashes       []uint64 // topic hash of each record
	minNs, maxNs int64
	secs         []secondMark // where the store's time index advances
	disordered   bool         // holds records the time index does not cover
	since        time.Time    // when its first record was placed (for sealing by age)
}

type secondMark struct {
	sec int64
	seq uint64
}

func (b *building) reset(first uint64) {
	b.first = first
	b.buf = append(b.buf[:0], make([]byte, blockHeaderLen)...)
	b.offs, b.hashes, b.secs = b.offs[:0], b.hashes[:0], b.secs[:0]
	b.disordered = false
}

func (b *building) count() int { return len(b.offs) }

// size is an estimate of the value's length once finished (directory
// excluded), for sealing.
func (b *building) size() int { return len(b.buf) + 4*len(b.offs) + blockTrailerLen }

// add appends an encoded record (appendRecord) to the block.
func (b *building) add(rec []byte, hash uint64, ns int64) {
	if len(b.offs) == 0 || ns < b.minNs {
		b.minNs = ns
	}
	if len(b.offs) == 0 || ns > b.maxNs {
		b.maxNs = ns
	}
	b.offs = append(b.offs, uint32(len(b.buf)))
	b.hashes = append(b.hashes, hash)
	b.buf = append(b.buf, rec...)
}

// finish completes the value: header, offsets, directory and lists,
// trailer. It returns the block's topic hashes in directory order, in
// scratch; groups is scratch too, empty on entry and on return.
func (b *building) finish(groups map[uint64][]uint32, scratch []uint64) []uint64 {
	hashes := scratch[:0]
	for i, h := range b.hashes {
		idx := groups[h]
		if len(idx) == 0 {
			hashes = append(hashes, h)
		}
		groups[h] = append(idx, uint32(i))
	}
	slices.Sort(hashes)
	b.buf[0] = blockVersion
	binary.BigEndian.PutUint32(b.buf[1:5], uint32(len(b.offs)))
	binary.BigEndian.PutUint64(b.buf[5:13], uint64(b.minNs))
	binary.BigEndian.PutUint64(b.buf[13:21], uint64(b.maxNs))
	recEnd := len(b.buf)
	for _, o := range b.offs {
		b.buf = binary.BigEndian.AppendUint32(b.buf, o)
	}
	dir := len(b.buf)
	b.buf = append(b.buf, make([]byte, dirEntryLen*len(hashes))...)
	for k, h := range hashes {
		e := b.buf[dir+k*dirEntryLen:]
		binary.BigEndian.PutUint64(e, h)
		binary.BigEndian.PutUint32(e[8:], uint32(len(b.buf)))
		b.buf = appendIndexList(b.buf, groups[h])
		groups[h] = groups[h][:0]
	}
	b.buf = binary.BigEndian.AppendUint32(b.buf, uint32(recEnd))
	b.buf = binary.BigEndian.AppendUint32(b.buf, uint32(len(hashes)))
	return hashes
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
