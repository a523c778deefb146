package capture

import "encoding/binary"

// Badger key layout. Every key starts with a one-letter namespace and '|'.
//
//	r|<seq>             -> encoded Record          primary, time-ordered
//	t|<hash>|<seq>      -> (empty)                 per-topic index
//	h|<hash>            -> topic                   hash -> topic table
//	m|<second>          -> first seq of the second time index (8-byte seq)
//
// seq and hash are 8-byte big-endian; second is the Unix second with its
// sign bit flipped, so that byte order is time order. hash is 64-bit FNV-1a
// of the topic; collisions are possible in principle and are resolved by
// comparing the topic stored in each record.
var (
	prefixRecord = []byte("r|")
	prefixTopic  = []byte("t|")
	prefixHash   = []byte("h|")
	prefixSecond = []byte("m|")
)

const (
	recordKeyLen = 2 + 8
	topicKeyLen  = 2 + 8 + 1 + 8
	hashKeyLen   = 2 + 8
	secondKeyLen = 2 + 8
)

func putRecordKey(b []byte, seq uint64) {
	copy(b, prefixRecord)
	binary.BigEndian.PutUint64(b[2:], seq)
}

func recordKey(seq uint64) []byte {
	b := make([]byte, recordKeyLen)
	putRecordKey(b, seq)
	return b
}

func putTopicKey(b []byte, hash, seq uint64) {
	copy(b, prefixTopic)
	binary.BigEndian.PutUint64(b[2:], hash)
	b[10] = '|'
	binary.BigEndian.PutUint64(b[11:], seq)
}

func topicKey(hash, seq uint64) []byte {
	b := make([]byte, topicKeyLen)
	putTopicKey(b, hash, seq)
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

// seqFromKey returns the seq that ends an r| or t| key.
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
