package journalstore

import "encoding/binary"

// Key layout. Times are Unix nanoseconds, big-endian with the sign bit
// flipped so that keys sort by time; seq makes each key unique.
//
//	e<time><seq>                  the event (JSON)
//	c<client>\x00<time><seq>      a copy of the event, for one client's timeline
//	u<user>\x00<time><seq>        empty, pointing at the e key
//	mtotals                       events and bytes held (16 bytes)
//
// MQTT strings may not contain U+0000, so the NUL ends a client ID or
// user name; IDs are cut at maxNameInKey bytes (queries compare the
// event's own field).
const (
	prefixEvent  = 'e'
	prefixClient = 'c'
	prefixUser   = 'u'
	maxNameInKey = 1024
)

var totalsKey = []byte("mtotals")

func putTimeSeq(b []byte, ts int64, seq uint64) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(ts)^(1<<63))
	return binary.BigEndian.AppendUint64(b, seq)
}

func splitTimeSeq(b []byte) (ts int64, seq uint64, ok bool) {
	if len(b) < 16 {
		return 0, 0, false
	}
	b = b[len(b)-16:]
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), binary.BigEndian.Uint64(b[8:]), true
}

func eventKey(ts int64, seq uint64) []byte {
	return putTimeSeq(append(make([]byte, 0, 17), prefixEvent), ts, seq)
}

// namePrefix is the prefix of a client's or user's index entries.
func namePrefix(prefix byte, name string) []byte {
	if len(name) > maxNameInKey {
		name = name[:maxNameInKey]
	}
	b := make([]byte, 0, len(name)+18)
	b = append(b, prefix)
	b = append(b, name...)
	return append(b, 0)
}

func indexKey(prefix byte, name string, ts int64, seq uint64) []byte {
	return putTimeSeq(namePrefix(prefix, name), ts, seq)
}

func encodeTotals(events, bytes int64) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(events))
	return binary.BigEndian.AppendUint64(b, uint64(bytes))
}

func decodeTotals(b []byte) (events, bytes int64, ok bool) {
	if len(b) != 16 {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:])), true
}

// pastEnd is a key after every time-and-seq key under prefix, where a
// reverse iteration starts.
func pastEnd(prefix []byte) []byte {
	b := append([]byte(nil), prefix...)
	for range 17 {
		b = append(b, 0xff)
	}
	return b
}
