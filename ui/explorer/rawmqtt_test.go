package explorer

// A minimal MQTT 3.1.1 client written straight over net.Conn, copied from
// engine/broker/rawmqtt_test.go (test files cannot be imported) and cut to
// what these tests need: CONNECT, SUBSCRIBE, QoS 0 PUBLISH both ways. It
// encodes every PUBLISH once up front, so the load benchmark's publisher
// costs a few hundred nanoseconds per message and the broker, the model
// and the UI are what is measured.

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

const (
	rawConnect    = 0x10
	rawConnack    = 0x20
	rawPublish    = 0x30
	rawSubscribe  = 0x82 // type 8 with the reserved flags 0b0010
	rawSuback     = 0x90
	rawDisconnect = 0xE0
)

type rawClient struct {
	id     string
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	stop   func() bool
	closed atomic.Bool
}

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

func frame(first byte, body []byte) []byte {
	out := appendVarint([]byte{first}, len(body))
	return append(out, body...)
}

// rawDial connects with a clean session. The connection is closed when ctx
// ends, which unblocks any reader or writer.
func rawDial(ctx context.Context, addr, id string) (*rawClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &rawClient{
		id:   id,
		conn: conn,
		r:    bufio.NewReaderSize(conn, 64<<10),
		w:    bufio.NewWriterSize(conn, 64<<10),
		stop: context.AfterFunc(ctx, func() { _ = conn.Close() }),
	}
	body := appendString(nil, "MQTT")
	body = append(body, 4, 0x02) // 3.1.1, clean session
	body = binary.BigEndian.AppendUint16(body, 60)
	body = appendString(body, id)
	if err := c.send(frame(rawConnect, body)); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: connect: %w", id, err)
	}
	var buf []byte
	typ, resp, err := c.readPacket(&buf)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: read connack: %w", id, err)
	}
	if typ != rawConnack || len(resp) != 2 || resp[1] != 0 {
		c.Close()
		return nil, fmt.Errorf("%s: connack refused: type %#x body %x", id, typ, resp)
	}
	return c, nil
}

func (c *rawClient) send(b []byte) error {
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	return c.w.Flush()
}

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

// subscribe sends one SUBSCRIBE at QoS 0 and waits for its SUBACK.
func (c *rawClient) subscribe(filter string) error {
	body := binary.BigEndian.AppendUint16(nil, 1)
	body = appendString(body, filter)
	body = append(body, 0)
	if err := c.send(frame(rawSubscribe, body)); err != nil {
		return fmt.Errorf("%s: subscribe: %w", c.id, err)
	}
	var buf []byte
	typ, resp, err := c.readPacket(&buf)
	if err != nil {
		return fmt.Errorf("%s: read suback: %w", c.id, err)
	}
	if typ != rawSuback || len(resp) != 3 || resp[2] != 0 {
		return fmt.Errorf("%s: suback for %s: type %#x body %x", c.id, filter, typ, resp)
	}
	return nil
}

// received is one PUBLISH a rawClient read.
type received struct {
	topic   string
	payload string
	retain  bool
}

// next reads until the next QoS 0 PUBLISH.
func (c *rawClient) next() (received, error) {
	var buf []byte
	for {
		first, body, err := c.readPacket(&buf)
		if err != nil {
			return received{}, err
		}
		if first&0xf0 != rawPublish {
			continue
		}
		if len(body) < 2 {
			return received{}, errors.New("short PUBLISH")
		}
		tl := int(binary.BigEndian.Uint16(body))
		if len(body) < 2+tl {
			return received{}, errors.New("short PUBLISH")
		}
		return received{topic: string(body[2 : 2+tl]), payload: string(body[2+tl:]), retain: first&1 != 0}, nil
	}
}

func (c *rawClient) Close() {
	if c.closed.Swap(true) {
		return
	}
	c.stop()
	_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.conn.Write([]byte{rawDisconnect, 0})
	_ = c.conn.Close()
}

// encodePublish is a QoS 0 PUBLISH frame, retained if retain.
func encodePublish(topic string, payload []byte, retain bool) []byte {
	first := byte(rawPublish)
	if retain {
		first |= 1
	}
	return frame(first, append(appendString(nil, topic), payload...))
}
