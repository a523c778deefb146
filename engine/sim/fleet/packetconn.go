package fleet

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
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
	buf          []byte
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
	if c.writeTimeout > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 64<<10 {
		c.buf = nil // do not keep a large payload's buffer for the device's life
	} else {
		c.buf = c.buf[:0]
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		se := &stuckError{addr: c.RemoteAddr().String(), after: c.writeTimeout}
		c.stuck.CompareAndSwap(nil, se)
		return 0, se
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
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
