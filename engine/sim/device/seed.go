package device

import (
	"encoding/binary"
	"hash/fnv"
)

// deriveSeed is the seed of one field of one device: FNV-1a over the
// fleet's seed, the device index and the field's path in its profile,
// then a splitmix64 finaliser so that neighbouring inputs give unrelated
// seeds. Stable across runs, machines and Go versions, which Go's map
// hash is not.
func deriveSeed(fleetSeed int64, index int, path string) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(fleetSeed))
	binary.LittleEndian.PutUint64(b[8:], uint64(index))
	h.Write(b[:])
	h.Write([]byte(path))
	z := h.Sum64() + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
