package fleet

import (
	"net"
	"sync"
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
type packetConn struct {
	net.Conn
	sync.Mutex
	buf []byte
}

func (c *packetConn) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	total, ok := packetLen(c.buf)
	if !ok || len(c.buf) < total {
		return len(p), nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 64<<10 {
		c.buf = nil // do not keep a large payload's buffer for the device's life
	} else {
		c.buf = c.buf[:0]
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
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
