package broker

import (
	"context"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// SessionStore is what the broker needs of the store its persistent
// sessions and retained messages survive in: the mochi storage hook
// itself, a Flush that returns once what the hook was given is written
// (durable.go holds acknowledgements on it), whether the disk is full (a
// Stats line), and what mochi does not restore of a retained message.
// engine/sessionstore implements it; the broker does not import it, so
// packages that only need the broker do not link Badger.
type SessionStore interface {
	mqtt.Hook
	Flush(ctx context.Context) error
	DiskFull() bool
	RetainedOrigins() (map[string]RetainedOrigin, error)
}

// RetainedOrigin is what a session store knows of a retained message
// beyond what mochi restores: its publisher's protocol. An alias of an
// unnamed struct, as in engine/sessionstore, so the store satisfies
// SessionStore without either package importing the other.
type RetainedOrigin = struct {
	Created         int64 // as in the restored packet: tells it from a newer one
	ProtocolVersion byte  // 0: not recorded
	At              int64 // unix ns it was stored; 0: not recorded
}

// SessionOpener opens the session store for one run of the broker: mochi
// stops its hooks when its server closes, and each Start builds a new
// server, so each Start opens the store again.
type SessionOpener func() (SessionStore, error)

// sessionOutlivesConnection reports whether cl's session survives its
// connection: what the session store keeps, and so what a PUBACK must
// wait for.
func sessionOutlivesConnection(cl *mqtt.Client) bool {
	if cl.Properties.ProtocolVersion == 5 {
		return cl.Properties.Props.SessionExpiryInterval != 0
	}
	return !cl.Properties.Clean
}

// onceASecond lets an event through at most once a second (a log line
// that would otherwise repeat per message).
type onceASecond struct{ last atomic.Int64 }

func (r *onceASecond) Allow() bool {
	now := time.Now().UnixNano()
	last := r.last.Load()
	return now-last >= int64(time.Second) && r.last.CompareAndSwap(last, now)
}
