package gen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

type timestamp struct{ format string }

func newTimestamp(t *scenario.Timestamp) (*timestamp, error) {
	switch t.Format {
	case "":
		return &timestamp{"rfc3339"}, nil
	case "unix", "unix_ms", "rfc3339":
		return &timestamp{t.Format}, nil
	}
	return nil, fmt.Errorf("unknown format `%s`; formats: unix, unix_ms, rfc3339", t.Format)
}

// rfc3339ms is RFC 3339 in UTC with milliseconds, the form most IoT
// backends parse; always three digits so payloads keep one length.
const rfc3339ms = "2006-01-02T15:04:05.000Z07:00"

func (t *timestamp) Next(s *Sample) any {
	switch t.format {
	case "unix":
		return s.Now.Unix()
	case "unix_ms":
		return s.Now.UnixMilli()
	}
	return s.Now.UTC().Format(rfc3339ms)
}

// uuidGen makes version 4 UUIDs from the seeded generator, not the OS's
// entropy, so a fleet replays the same IDs.
type uuidGen struct {
	rng   *rand.Rand
	fixed string
}

func newUUID(g *scenario.IDGen, seed uint64) *uuidGen {
	u := &uuidGen{rng: newRand(seed, streamValue)}
	if g.PerDevice {
		u.fixed = u.make()
	}
	return u
}

func (u *uuidGen) Next(*Sample) any {
	if u.fixed != "" {
		return u.fixed
	}
	return u.make()
}

func (u *uuidGen) make() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], u.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	const hex = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return string(out[:])
}

// ulidGen makes ULIDs: the sample time in milliseconds, then 80 seeded
// random bits. A per-device ULID takes the time of its first sample.
type ulidGen struct {
	rng       *rand.Rand
	perDevice bool
	fixed     string
}

func newULID(g *scenario.IDGen, seed uint64) *ulidGen {
	return &ulidGen{rng: newRand(seed, streamValue), perDevice: g.PerDevice}
}

func (u *ulidGen) Next(s *Sample) any {
	if u.fixed != "" {
		return u.fixed
	}
	id := u.make(uint64(s.Now.UnixMilli()))
	if u.perDevice {
		u.fixed = id
	}
	return id
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func (u *ulidGen) make(ms uint64) string {
	var b [16]byte
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	binary.BigEndian.PutUint16(b[6:8], uint16(u.rng.Uint64()))
	binary.BigEndian.PutUint64(b[8:], u.rng.Uint64())
	// 128 bits as 26 base-32 digits, the first carrying the top 3 bits.
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
