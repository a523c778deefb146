package capture

import "encoding/binary"

// Badger key layout (format 4). Every key starts with a one-letter
// namespace and '|'.
//
//	v|format            -> format number (1 byte, = storeFormat)
//	s|retention         -> MaxBytes and MaxAge (ns), 8 bytes each: the
//	                       limits last set, kept with the data
//	s|dropped           -> records dropped since the store was created or
//	                       cleared (8 bytes)
//	b|<first>           -> where the block of records first, first+1, ...
//	                       (block.go) is in the block files (blockfile.go),
//	                       with its record count and checksum; format 3
//	                       pointers lack those two, format 2 stored the
//	                       block itself here, and both are still read
//	s|toolarge          -> records dropped as too large, counted like
//	                       s|dropped (8 bytes)
//	l|<first>           -> records lost at the end of the capture (a
//	                       crash cut their blocks short) and removed when
//	                       it was opened again: JSON of a lostReport
//	g|<first>           -> (empty) a segment of blocks starts at block <first>
//	t|<hash>|<first>    -> (empty) block <first> is the first block of its
//	                       segment with records on the topic with this hash;
//	                       each block's directory says which ones
//	h|<hash>            -> topic                   hash -> topic table
//	m|<second>          -> first seq of the second time index (8-byte seq)
//	o|<first>           -> 8-byte last seq: block <first> holds records out
//	                       of time order (imports), which the time index
//	                       does not cover
//
// first, seq and hash are 8-byte big-endian; second is the Unix second with
// its sign bit flipped, so that byte order is time order. hash is 64-bit
// FNV-1a of the topic; collisions are possible in principle and are
// resolved by comparing the topic stored in each record.
//
// Format 1 (before blocks) kept one record per r|<seq> key; such a store is
// refused with ErrFormat rather than read.
var (
	prefixBlock    = []byte("b|")
	prefixTopic    = []byte("t|")
	prefixSegment  = []byte("g|")
	prefixHash     = []byte("h|")
	prefixSecond   = []byte("m|")
	prefixDisorder = []byte("o|")
	prefixFormat1  = []byte("r|")
	formatKey      = []byte("v|format")
	droppedKey     = []byte("s|dropped")
	tooLargeKey    = []byte("s|toolarge")
	prefixLost     = []byte("l|")
	retentionKey   = []byte("s|retention")
)

// storeFormat is the on-disk format this code writes. It also reads
// format 2, whose blocks are inline, and format 3, whose block pointers
// have no checksum, and marks such a store 4 on Open (an older version
// would take format 4 pointers for damaged blocks).
const storeFormat = 4

const (
	blockKeyLen  = 2 + 8
	topicKeyLen  = 2 + 8 + 1 + 8
	hashKeyLen   = 2 + 8
	secondKeyLen = 2 + 8
)

func putSeqKey(b, prefix []byte, seq uint64) {
	copy(b, prefix)
	binary.BigEndian.PutUint64(b[2:], seq)
}

func blockKey(first uint64) []byte {
	b := make([]byte, blockKeyLen)
	putSeqKey(b, prefixBlock, first)
	return b
}

func segmentKey(first uint64) []byte {
	b := make([]byte, blockKeyLen)
	putSeqKey(b, prefixSegment, first)
	return b
}

func disorderKey(first uint64) []byte {
	b := make([]byte, blockKeyLen)
	putSeqKey(b, prefixDisorder, first)
	return b
}

func putTopicKey(b []byte, hash, first uint64) {
	copy(b, prefixTopic)
	binary.BigEndian.PutUint64(b[2:], hash)
	b[10] = '|'
	binary.BigEndian.PutUint64(b[11:], first)
}

func topicKey(hash, first uint64) []byte {
	b := make([]byte, topicKeyLen)
	putTopicKey(b, hash, first)
	return b
}

// topicPrefix is "t|<hash>|": the prefix of one topic's index entries.
func topicPrefix(hash uint64) []byte {
	return topicKey(hash, 0)[:topicKeyLen-8]
}

func hashKey(hash uint64) []byte {
	b := make([]byte, hashKeyLen)
	copy(b, prefixHash)
	binary.BigEndian.PutUint64(b[2:], hash)
	return b
}

func secondKey(sec int64) []byte {
	b := make([]byte, secondKeyLen)
	copy(b, prefixSecond)
	binary.BigEndian.PutUint64(b[2:], uint64(sec)^(1<<63))
	return b
}

func secondFromKey(k []byte) int64 {
	return int64(binary.BigEndian.Uint64(k[2:]) ^ (1 << 63))
}

// seqFromKey returns the seq that ends a b|, o| or t| key.
func seqFromKey(k []byte) uint64 {
	return binary.BigEndian.Uint64(k[len(k)-8:])
}

// topicHash is 64-bit FNV-1a. It is part of the on-disk format: never change it.
func topicHash(topic string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(topic); i++ {
		h ^= uint64(topic[i])
		h *= 1099511628211
	}
	return h
}
