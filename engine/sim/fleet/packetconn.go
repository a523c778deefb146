package fleet

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// packetConn makes every MQTT packet paho.golang sends one write(2).
// paho writes a packet as several slices under the conn's lock (when the
// conn is a sync.Locker, as packets.NewThreadSafeConn's is), and since
// its conn is a wrapper, not a *net.TCPConn, net.Buffers falls back to one
// Write, and one system call, per slice: four for a PUBLISH. packetConn
// gathers the slices until the packet's length, read from its fixed
// header, is complete and writes them at once, which halves the CPU per
// message. Every paho write goes through packets.ControlPacket.WriteTo,
// which holds the lock across the slices of one packet.
//
// A write also has a deadline: a broker that stops reading (flow control
// against a slow subscriber, or a hung peer) fails the device's connection
// after writeTimeout instead of blocking its sender, and with it every
// device on that sender, forever.
type packetConn struct {
	net.Conn
	sync.Mutex
	writeTimeout time.Duration
	deadline     time.Time // the write deadline set last
	buf          []byte    // the packet being gathered
	props        []byte    // scratch for a PUBLISH's properties (publish)
	// stuck is set once a write timed out: the library then reports the
	// connection's end by whatever its reader saw, which says less.
	stuck atomic.Pointer[stuckError]
}

func (c *packetConn) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	total, ok := packetLen(c.buf)
	if !ok || len(c.buf) < total {
		return len(p), nil
	}
	if err := c.flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// publish sends m as a QoS 0 MQTT 5 PUBLISH stamped with st, encoded
// here (appendPublish5) rather than by paho.golang, under the same lock
// as paho's own writes (its pings), so packets never interleave.
func (c *packetConn) publish(m *message.Message, st stamp) error {
	c.Lock()
	defer c.Unlock()
	var err error
	if c.buf, c.props, err = appendPublish5(c.buf[:0], c.props, m, st); err != nil {
		c.buf = c.buf[:0]
		return badPublishError{err}
	}
	return c.flush()
}

// flush writes the packet gathered in buf with one write(2).
func (c *packetConn) flush() error {
	start := c.extendDeadline()
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 64<<10 {
		c.buf = nil // do not keep a large payload's buffer for the device's life
	} else {
		c.buf = c.buf[:0]
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		se := &stuckError{addr: c.RemoteAddr().String(), after: time.Since(start).Round(10 * time.Millisecond)}
		c.stuck.CompareAndSwap(nil, se)
		return se
	}
	return err
}

// extendDeadline moves the write deadline to writeTimeout from now once
// less than half of it is left, rather than on every write: setting it
// is a runtime timer update per message, which at 10,000 messages a
// second cost 2.5 % of the simulator's CPU. So a write that cannot go
// through fails after between half and all of writeTimeout (stuckError
// says how long it was). It returns the time the write begins.
func (c *packetConn) extendDeadline() time.Time {
	now := time.Now()
	if c.writeTimeout <= 0 || c.deadline.Sub(now) >= c.writeTimeout/2 {
		return now
	}
	c.deadline = now.Add(c.writeTimeout)
	_ = c.Conn.SetWriteDeadline(c.deadline)
	return now
}

// stuckError is a write that found the broker not reading.
type stuckError struct {
	addr  string
	after time.Duration
}

func (e *stuckError) Error() string {
	return fmt.Sprintf("the broker at %s stopped reading (nothing could be written for %s), so the device dropped the connection; a broker slows publishers this way when a subscriber is slow", e.addr, e.after)
}

// packetLen is the length of the MQTT packet that b starts with, once its
// fixed header (a type byte and up to four bytes of remaining length) is
// complete.
func packetLen(b []byte) (int, bool) {
	n, mult := 0, 1
	for i := 1; i < len(b) && i <= 4; i++ {
		n += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			return 1 + i + n, true
		}
		mult *= 128
	}
	return 0, false
}
