// Package rawmqtt is a minimal MQTT 3.1.1 client written straight over
// net.Conn, for tests, benchmarks and load generators (.ci/burst) only. It encodes every PUBLISH once up
// front and parses incoming frames with a bufio.Reader, so its own cost per
// message is a few hundred nanoseconds and the same whichever broker it
// talks to; and since it is not a full client, a test can also write a
// frame no real client would send. It speaks just enough of the protocol:
// CONNECT/CONNACK, SUBSCRIBE/SUBACK, PUBLISH at QoS 0 and 1, PUBACK and
// DISCONNECT.
//
// It does not import the broker, so the broker's own internal tests can
// use it.
package rawmqtt

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

	"github.com/iotstudio/iotstudio/engine/mqttwire"
)

// MQTT control packet types (first byte, upper nibble).
const (
	TypeConnect    = 0x10
	TypeConnack    = 0x20
	TypePublish    = 0x30
	TypePuback     = 0x40
	TypeSubscribe  = 0x82 // type 8 with the reserved flags 0b0010
	TypeSuback     = 0x90
	TypeDisconnect = 0xE0
)

// Client is one MQTT 3.1.1 connection. After the handshake, one goroutine
// may read (R) while another writes (W); neither is safe for more. A test
// may replace R (to read slowly, say) before it starts reading.
type Client struct {
	ID   string
	Conn net.Conn
	R    *bufio.Reader
	W    *bufio.Writer
	stop func() bool // undoes the context.AfterFunc that closes Conn

	closed atomic.Bool
}

// AppendVarint appends MQTT's variable-length "remaining length" encoding.
func AppendVarint(b []byte, n int) []byte { return mqttwire.AppendVarint(b, n) }

// AppendString appends an MQTT string: a two-byte length, then the bytes.
func AppendString(b []byte, s string) []byte { return mqttwire.AppendString(b, s) }

// Frame prefixes body with a fixed header.
func Frame(first byte, body []byte) []byte {
	out := AppendVarint([]byte{first}, len(body))
	return append(out, body...)
}

// connectBody is the variable header and payload of a CONNECT for id
// with a 60 s keep-alive and the given connect flags.
func connectBody(id string, flags byte) []byte {
	body := AppendString(nil, "MQTT")
	body = append(body, 4, flags) // protocol level 4 (3.1.1)
	body = binary.BigEndian.AppendUint16(body, 60)
	return AppendString(body, id)
}

// Dial connects and completes CONNECT/CONNACK with a clean session, with
// read and write buffers of rbuf and wbuf bytes. The connection is closed
// when ctx ends, which unblocks any reader or writer, and every I/O call
// also carries ctx's deadline if it has one.
func Dial(ctx context.Context, addr, id string, rbuf, wbuf int) (*Client, error) {
	c, _, err := dial(ctx, addr, id, 0x02, rbuf, wbuf)
	return c, err
}

// DialSession is Dial with a persistent session (clean session 0); it
// reports whether the broker still had one for id.
func DialSession(ctx context.Context, addr, id string) (c *Client, present bool, err error) {
	return dial(ctx, addr, id, 0x00, 4<<10, 4<<10)
}

func dial(ctx context.Context, addr, id string, flags byte, rbuf, wbuf int) (*Client, bool, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c := &Client{
		ID:   id,
		Conn: conn,
		R:    bufio.NewReaderSize(conn, rbuf),
		W:    bufio.NewWriterSize(conn, wbuf),
		stop: context.AfterFunc(ctx, func() { _ = conn.Close() }),
	}
	if err := c.Send(Frame(TypeConnect, connectBody(id, flags))); err != nil {
		c.Close()
		return nil, false, fmt.Errorf("%s: connect: %w", id, err)
	}
	var buf []byte
	typ, body, err := c.ReadPacket(&buf)
	if err != nil {
		c.Close()
		return nil, false, fmt.Errorf("%s: read connack: %w", id, err)
	}
	if typ != TypeConnack || len(body) != 2 || body[1] != 0 {
		c.Close()
		return nil, false, fmt.Errorf("%s: connack refused: type %#x body %x", id, typ, body)
	}
	return c, body[0]&1 == 1, nil
}

// Send writes b and flushes it.
func (c *Client) Send(b []byte) error {
	if _, err := c.W.Write(b); err != nil {
		return err
	}
	return c.W.Flush()
}

// ReadPacket reads one control packet; body aliases *buf, which is grown as
// needed and reused by the next call.
func (c *Client) ReadPacket(buf *[]byte) (first byte, body []byte, err error) {
	first, err = c.R.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		d, err := c.R.ReadByte()
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
	if _, err := io.ReadFull(c.R, body); err != nil {
		return 0, nil, err
	}
	return first, body, nil
}

// Subscribe sends one SUBSCRIBE and waits for its SUBACK, which must grant
// qos.
func (c *Client) Subscribe(filter string, qos byte) error {
	body := binary.BigEndian.AppendUint16(nil, 1) // packet ID
	body = AppendString(body, filter)
	body = append(body, qos)
	if err := c.Send(Frame(TypeSubscribe, body)); err != nil {
		return fmt.Errorf("%s: subscribe: %w", c.ID, err)
	}
	var buf []byte
	typ, resp, err := c.ReadPacket(&buf)
	if err != nil {
		return fmt.Errorf("%s: read suback: %w", c.ID, err)
	}
	if typ != TypeSuback || len(resp) != 3 || resp[2] != qos {
		return fmt.Errorf("%s: suback for %s: type %#x body %x, want QoS %d granted", c.ID, filter, typ, resp, qos)
	}
	return nil
}

// Message is one PUBLISH a Client read.
type Message struct {
	Topic   string
	Payload string
	Retain  bool
}

// Next reads until the next PUBLISH, skipping other packets. It does not
// acknowledge a QoS 1 or 2 one.
func (c *Client) Next() (Message, error) {
	var buf []byte
	for {
		first, body, err := c.ReadPacket(&buf)
		if err != nil {
			return Message{}, err
		}
		if first&0xf0 != TypePublish {
			continue
		}
		if len(body) < 2 {
			return Message{}, errors.New("short PUBLISH")
		}
		tl := int(binary.BigEndian.Uint16(body))
		start := 2 + tl
		if (first>>1)&3 > 0 {
			start += 2 // packet ID
		}
		if len(body) < start {
			return Message{}, errors.New("short PUBLISH")
		}
		return Message{Topic: string(body[2 : 2+tl]), Payload: string(body[start:]), Retain: first&1 != 0}, nil
	}
}

// Close sends DISCONNECT (best effort) and closes the connection. It writes
// to the connection directly, not through W, so it may run while a reader
// goroutine is still flushing acks; anything left unflushed in W is
// dropped. Calling it again does nothing.
func (c *Client) Close() {
	if c.closed.Swap(true) {
		return
	}
	c.stop()
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Conn.Write([]byte{TypeDisconnect, 0})
	_ = c.Conn.Close()
}

// PubFrame is a pre-encoded PUBLISH; for QoS 1 and 2 its packet ID is
// overwritten (SetPacketID) just before each time it is written.
type PubFrame struct {
	B      []byte
	pidOff int
}

// SetPacketID writes id into the frame; it does nothing at QoS 0, which
// has no packet ID.
func (f PubFrame) SetPacketID(id uint16) {
	if f.B[0]&0x06 != 0 {
		binary.BigEndian.PutUint16(f.B[f.pidOff:], id)
	}
}

// EncodePublish encodes a PUBLISH once, to be sent many times.
func EncodePublish(topic string, payload []byte, qos byte, retain bool) PubFrame {
	body := AppendString(nil, topic)
	pidAt := len(body)
	if qos > 0 {
		body = append(body, 0, 0)
	}
	body = append(body, payload...)
	first := byte(TypePublish) | qos<<1
	if retain {
		first |= 1
	}
	b := Frame(first, body)
	return PubFrame{B: b, pidOff: len(b) - len(body) + pidAt}
}

// AppendPublish appends a QoS 0 PUBLISH to b, for a load that sends each
// message once and so gains nothing from encoding it up front.
func AppendPublish(b []byte, topic string, payload []byte) []byte {
	b = AppendVarint(append(b, TypePublish), 2+len(topic)+len(payload))
	b = AppendString(b, topic)
	return append(b, payload...)
}

// Publish writes n messages cycling through frames. At QoS 0 it writes as
// fast as the socket takes them. At QoS 1 it keeps at most window messages
// unacknowledged, reading PUBACKs on a second goroutine, and returns once
// every message is acknowledged. Writes are batched in W and flushed
// whenever the window is full or the run ends.
func (c *Client) Publish(ctx context.Context, frames []PubFrame, n int, qos byte, window int) error {
	if qos == 0 {
		for i := 0; i < n; i++ {
			if _, err := c.W.Write(frames[i%len(frames)].B); err != nil {
				return fmt.Errorf("%s: publish: %w", c.ID, err)
			}
		}
		if err := c.W.Flush(); err != nil {
			return fmt.Errorf("%s: publish: %w", c.ID, err)
		}
		return nil
	}

	tokens := make(chan struct{}, window)
	ackErr := make(chan error, 1)
	go func() { // PUBACK reader; ends on error, ctx (conn closed) or all acked
		var buf []byte
		for acked := 0; acked < n; {
			typ, _, err := c.ReadPacket(&buf)
			if err != nil {
				ackErr <- fmt.Errorf("%s: read puback after %d of %d: %w", c.ID, acked, n, err)
				return
			}
			if typ&0xf0 != TypePuback {
				continue
			}
			acked++
			select {
			case <-tokens:
			default:
				ackErr <- fmt.Errorf("%s: PUBACK with nothing in flight", c.ID)
				return
			}
		}
		ackErr <- nil
	}()

	for i := 0; i < n; i++ {
		select {
		case tokens <- struct{}{}:
		default: // window full: send what is buffered, then wait for an ack
			if err := c.W.Flush(); err != nil {
				return fmt.Errorf("%s: publish: %w", c.ID, err)
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
		f.SetPacketID(uint16(i%65535 + 1))
		if _, err := c.W.Write(f.B); err != nil { // copies f.B into the buffer
			return fmt.Errorf("%s: publish: %w", c.ID, err)
		}
	}
	if err := c.W.Flush(); err != nil {
		return fmt.Errorf("%s: publish: %w", c.ID, err)
	}
	select {
	case err := <-ackErr:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Counter counts the PUBLISH frames one subscriber receives, acknowledging
// QoS 1 ones, without keeping them.
type Counter struct {
	*Client
	Received atomic.Int64
	Bytes    atomic.Int64 // payload + topic bytes received
	LastNano atomic.Int64 // when the last PUBLISH was taken off the socket
	lastSeen atomic.Int64 // Received as of LastNano
}

// mark records the time of the latest message; callers pass the count.
func (s *Counter) mark(count int64) {
	if s.lastSeen.Load() != count {
		s.LastNano.Store(time.Now().UnixNano())
		s.lastSeen.Store(count)
	}
}

// Run reads until the connection ends (its context closes it). Each PUBLISH
// is counted; a QoS 1 one gets a PUBACK written into W, and the acks are
// flushed in one write whenever the reader has drained its buffer, i.e.
// right before it would block.
func (s *Counter) Run() error {
	var buf []byte
	var count int64
	for {
		if s.R.Buffered() == 0 {
			s.mark(count)
			if s.W.Buffered() > 0 {
				if err := s.W.Flush(); err != nil {
					return err
				}
			}
		}
		first, body, err := s.ReadPacket(&buf)
		if err != nil {
			s.mark(count)
			return err
		}
		if first&0xf0 != TypePublish {
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
			_ = s.W.WriteByte(TypePuback)
			_ = s.W.WriteByte(2)
			_ = s.W.WriteByte(body[2+tl])
			if err := s.W.WriteByte(body[2+tl+1]); err != nil {
				return err
			}
		}
		count++
		s.Received.Store(count)
		s.Bytes.Add(int64(len(body)))
	}
}
