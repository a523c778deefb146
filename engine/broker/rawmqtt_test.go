package broker

// A minimal MQTT 3.1.1 client written straight over net.Conn, used only to
// generate load in bench_test.go. It encodes every PUBLISH once up front and
// parses incoming frames with a bufio.Reader, so the client's own cost per
// message is a few hundred nanoseconds and identical whichever broker it
// talks to. It speaks just enough of the protocol for the benchmark:
// CONNECT/CONNACK, SUBSCRIBE/SUBACK, PUBLISH at QoS 0 and 1, PUBACK and
// DISCONNECT.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// MQTT control packet types (first byte, upper nibble).
const (
	rawConnect    = 0x10
	rawConnack    = 0x20
	rawPublish    = 0x30
	rawPuback     = 0x40
	rawSubscribe  = 0x82 // type 8 with the reserved flags 0b0010
	rawSuback     = 0x90
	rawDisconnect = 0xE0
)

// rawClient is one MQTT 3.1.1 connection. After the handshake, one goroutine
// may read (r) while another writes (w); neither is safe for more.
type rawClient struct {
	id   string
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	stop func() bool // undoes the context.AfterFunc that closes conn

	closed atomic.Bool
}

// appendVarint appends MQTT's variable-length "remaining length" encoding.
func appendVarint(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// frame prefixes body with a fixed header.
func frame(first byte, body []byte) []byte {
	out := appendVarint([]byte{first}, len(body))
	return append(out, body...)
}

// rawDial connects and completes CONNECT/CONNACK with a clean session. The
// connection is closed when ctx ends, which unblocks any reader or writer,
// and every I/O call also carries ctx's deadline if it has one.
func rawDial(ctx context.Context, addr, id string, rbuf, wbuf int) (*rawClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c := &rawClient{
		id:   id,
		conn: conn,
		r:    bufio.NewReaderSize(conn, rbuf),
		w:    bufio.NewWriterSize(conn, wbuf),
		stop: context.AfterFunc(ctx, func() { _ = conn.Close() }),
	}
	body := appendString(nil, "MQTT")
	body = append(body, 4, 0x02) // protocol level 4 (3.1.1); flags: clean session
	body = binary.BigEndian.AppendUint16(body, 60)
	body = appendString(body, id)
	if err := c.send(frame(rawConnect, body)); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: connect: %w", id, err)
	}
	var buf []byte
	typ, body, err := c.readPacket(&buf)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: read connack: %w", id, err)
	}
	if typ != rawConnack || len(body) != 2 || body[1] != 0 {
		c.Close()
		return nil, fmt.Errorf("%s: connack refused: type %#x body %x", id, typ, body)
	}
	return c, nil
}

func (c *rawClient) send(b []byte) error {
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	return c.w.Flush()
}

// readPacket reads one control packet; body aliases *buf, which is grown as
// needed and reused by the next call.
func (c *rawClient) readPacket(buf *[]byte) (first byte, body []byte, err error) {
	first, err = c.r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		d, err := c.r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(d&0x7f) * mult
		if d&0x80 == 0 {
			break
		}
		if i == 3 {
			return 0, nil, errors.New("malformed remaining length")
		}
		mult *= 128
	}
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	body = (*buf)[:n]
	if _, err := io.ReadFull(c.r, body); err != nil {
		return 0, nil, err
	}
	return first, body, nil
}

// subscribe sends one SUBSCRIBE and waits for its SUBACK.
func (c *rawClient) subscribe(filter string, qos byte) error {
	body := binary.BigEndian.AppendUint16(nil, 1) // packet ID
	body = appendString(body, filter)
	body = append(body, qos)
	if err := c.send(frame(rawSubscribe, body)); err != nil {
		return fmt.Errorf("%s: subscribe: %w", c.id, err)
	}
	var buf []byte
	typ, resp, err := c.readPacket(&buf)
	if err != nil {
		return fmt.Errorf("%s: read suback: %w", c.id, err)
	}
	if typ != rawSuback || len(resp) != 3 || resp[2] != qos {
		return fmt.Errorf("%s: suback for %s: type %#x body %x, want QoS %d granted", c.id, filter, typ, resp, qos)
	}
	return nil
}

// Close sends DISCONNECT (best effort) and closes the connection. It writes
// to the connection directly, not through c.w, so it may run while a reader
// goroutine is still flushing acks; anything left unflushed in c.w is
// dropped. Calling it again does nothing.
func (c *rawClient) Close() {
	if c.closed.Swap(true) {
		return
	}
	c.stop()
	_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.conn.Write([]byte{rawDisconnect, 0})
	_ = c.conn.Close()
}

// pubFrame is a pre-encoded PUBLISH; for QoS 1 the two bytes at pidOff are
// overwritten with each message's packet ID just before it is written.
type pubFrame struct {
	b      []byte
	pidOff int
}

func encodePublish(topic string, payload []byte, qos byte) pubFrame {
	body := appendString(nil, topic)
	pidAt := len(body)
	if qos > 0 {
		body = append(body, 0, 0)
	}
	body = append(body, payload...)
	b := frame(rawPublish|qos<<1, body)
	return pubFrame{b: b, pidOff: len(b) - len(body) + pidAt}
}

// publish writes n messages cycling through frames. At QoS 0 it writes as
// fast as the socket takes them. At QoS 1 it keeps at most window messages
// unacknowledged, reading PUBACKs on a second goroutine, and returns once
// every message is acknowledged. Writes are batched in c.w and flushed
// whenever the window is full or the run ends.
func (c *rawClient) publish(ctx context.Context, frames []pubFrame, n int, qos byte, window int) error {
	if qos == 0 {
		for i := 0; i < n; i++ {
			if _, err := c.w.Write(frames[i%len(frames)].b); err != nil {
				return fmt.Errorf("%s: publish: %w", c.id, err)
			}
		}
		if err := c.w.Flush(); err != nil {
			return fmt.Errorf("%s: publish: %w", c.id, err)
		}
		return nil
	}

	tokens := make(chan struct{}, window)
	ackErr := make(chan error, 1)
	go func() { // PUBACK reader; ends on error, ctx (conn closed) or all acked
		var buf []byte
		for acked := 0; acked < n; {
			typ, _, err := c.readPacket(&buf)
			if err != nil {
				ackErr <- fmt.Errorf("%s: read puback after %d of %d: %w", c.id, acked, n, err)
				return
			}
			if typ&0xf0 != rawPuback {
				continue
			}
			acked++
			select {
			case <-tokens:
			default:
				ackErr <- fmt.Errorf("%s: PUBACK with nothing in flight", c.id)
				return
			}
		}
		ackErr <- nil
	}()

	for i := 0; i < n; i++ {
		select {
		case tokens <- struct{}{}:
		default: // window full: send what is buffered, then wait for an ack
			if err := c.w.Flush(); err != nil {
				return fmt.Errorf("%s: publish: %w", c.id, err)
			}
			select {
			case tokens <- struct{}{}:
			case err := <-ackErr:
				if err == nil {
					err = errors.New("acks ended early")
				}
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		f := frames[i%len(frames)]
		binary.BigEndian.PutUint16(f.b[f.pidOff:], uint16(i%65535+1))
		if _, err := c.w.Write(f.b); err != nil { // copies f.b into the buffer
			return fmt.Errorf("%s: publish: %w", c.id, err)
		}
	}
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("%s: publish: %w", c.id, err)
	}
	select {
	case err := <-ackErr:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rawSub counts the PUBLISH frames one subscriber receives.
type rawSub struct {
	*rawClient
	received atomic.Int64
	bytes    atomic.Int64 // payload + topic bytes received
	lastNano atomic.Int64 // when the last PUBLISH was taken off the socket
	lastSeen atomic.Int64 // received as of lastNano
}

// mark records the time of the latest message; callers pass the count.
func (s *rawSub) mark(count int64) {
	if s.lastSeen.Load() != count {
		s.lastNano.Store(time.Now().UnixNano())
		s.lastSeen.Store(count)
	}
}

// run reads until the connection ends (ctx closes it). Each PUBLISH is
// counted; a QoS 1 one gets a PUBACK written into s.w, and the acks are
// flushed in one write whenever the reader has drained its buffer, i.e.
// right before it would block.
func (s *rawSub) run() error {
	var buf []byte
	var count int64
	for {
		if s.r.Buffered() == 0 {
			s.mark(count)
			if s.w.Buffered() > 0 {
				if err := s.w.Flush(); err != nil {
					return err
				}
			}
		}
		first, body, err := s.readPacket(&buf)
		if err != nil {
			s.mark(count)
			return err
		}
		if first&0xf0 != rawPublish {
			continue
		}
		qos := (first >> 1) & 3
		if len(body) < 2 {
			return errors.New("short PUBLISH")
		}
		tl := int(binary.BigEndian.Uint16(body))
		if qos > 0 {
			if len(body) < 2+tl+2 {
				return errors.New("short PUBLISH")
			}
			// PUBACK: type, remaining length 2, the packet ID. WriteByte
			// keeps the hot loop free of allocations.
			_ = s.w.WriteByte(rawPuback)
			_ = s.w.WriteByte(2)
			_ = s.w.WriteByte(body[2+tl])
			if err := s.w.WriteByte(body[2+tl+1]); err != nil {
				return err
			}
		}
		count++
		s.received.Store(count)
		s.bytes.Add(int64(len(body)))
	}
}
