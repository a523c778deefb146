package fleet

import (
	"bytes"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/message"
)

// The fleet's own PUBLISH encoder must write what a peer's decoder reads
// back field for field: paho.golang's reader stands in for the broker.
func TestAppendPublish5IsReadBackByPaho(t *testing.T) {
	format, expiry := byte(1), uint32(3600)
	big := strings.Repeat("x", 300) // remaining length and property length of two bytes
	tests := []struct {
		name string
		m    message.Message
		st   stamp
	}{
		{"bare", message.Message{Topic: "a/b", Payload: []byte(`{"t":21.5}`)}, stamp{}},
		{"empty payload", message.Message{Topic: "a"}, stamp{}},
		{"stamped", message.Message{Topic: "bench/dev-0001/telemetry", Payload: []byte(`{"seq":1}`)},
			stamp{seq: 18446744073709551615, at: 1_796_000_000_123_456_789, client: "dev-0001"}},
		{"every property", message.Message{
			Topic: "plant/line-1/state", Payload: []byte("on"), Retain: true,
			ContentType: "text/plain", PayloadFormat: &format, MessageExpiry: &expiry,
			ResponseTopic: "plant/line-1/reply", CorrelationData: []byte{0, 1, 2, 0xff},
			UserProps: []message.UserProp{{Key: "site", Value: "Zürich"}, {Key: "site", Value: "twice"}},
		}, stamp{seq: 7, at: 1, client: "línea-1"}},
		{"long", message.Message{Topic: big, Payload: bytes.Repeat([]byte{0xA5}, 70_000),
			UserProps: []message.UserProp{{Key: "k", Value: big}}}, stamp{seq: 0, at: -5, client: big}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _, err := appendPublish5([]byte("keep"), nil, &tt.m, tt.st)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("keep")) {
				t.Fatalf("what was in the buffer before is gone: %q", b[:4])
			}
			r := bytes.NewReader(b[4:])
			cp, err := packets.ReadPacket(r)
			if err != nil {
				t.Fatalf("paho cannot read the packet: %v", err)
			}
			if r.Len() != 0 {
				t.Fatalf("%d bytes after the packet its header announced", r.Len())
			}
			got, ok := cp.Content.(*packets.Publish)
			if !ok {
				t.Fatalf("read a %T, want a PUBLISH", cp.Content)
			}
			want := withStampIf(tt.m, tt.st)
			if got.Topic != want.Topic || !bytes.Equal(got.Payload, want.Payload) || got.QoS != 0 || got.Retain != want.Retain {
				t.Errorf("read topic %.20q payload %d bytes qos %d retain %v, want %.20q %d bytes 0 %v",
					got.Topic, len(got.Payload), got.QoS, got.Retain, want.Topic, len(want.Payload), want.Retain)
			}
			if m := fromV5(paho.PublishFromPacketPublish(got)); !sameProps(m, want) {
				t.Errorf("properties read back:\n%+v\nwant\n%+v", props(m), props(want))
			}
		})
	}
}

func withStampIf(m message.Message, st stamp) message.Message {
	if st.client == "" {
		return m
	}
	return withStamp(m, st)
}

func props(m message.Message) []any {
	return []any{m.ContentType, m.PayloadFormat, m.MessageExpiry, m.ResponseTopic, m.CorrelationData, m.UserProps}
}

func sameProps(a, b message.Message) bool {
	return reflect.DeepEqual(props(a), props(b))
}

// A message MQTT cannot carry is refused whole and says why; the buffer
// keeps nothing of it.
func TestAppendPublish5RefusesWhatMQTTCannotCarry(t *testing.T) {
	huge := strings.Repeat("x", 70_000)
	tests := []struct {
		name string
		m    message.Message
		st   stamp
		want string
	}{
		{"no topic", message.Message{Payload: []byte("x")}, stamp{}, "no topic"},
		{"topic too long", message.Message{Topic: huge}, stamp{}, "MQTT allows 65535"},
		{"user property too long", message.Message{Topic: "a", UserProps: []message.UserProp{{Key: "k", Value: huge}}}, stamp{}, "over 65535 bytes"},
		{"client ID too long", message.Message{Topic: "a"}, stamp{client: huge}, "over 65535 bytes"},
		{"content type too long", message.Message{Topic: "a", ContentType: huge}, stamp{}, "over 65535 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := appendPublish5(nil, nil, &tt.m, tt.st)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// A message that cannot be encoded leaves the device connected: nothing
// was written. A write that fails closes the connection, so that the
// device is reported lost and reconnects rather than sending on a stream
// that may hold half a packet.
func TestPublishStampedFailures(t *testing.T) {
	nc := &brokenConn{}
	c := &v5conn{nc: nc, pconn: &packetConn{Conn: nc}, pinger: paho.NewDefaultPinger()}
	err := c.publishStamped(message.Message{Payload: []byte("x")}, stamp{})
	if !errors.Is(err, errNoTopic) || nc.closed || nc.writes > 0 {
		t.Fatalf("publish with no topic: %v, closed %v, %d writes; want errNoTopic, open, none", err, nc.closed, nc.writes)
	}
	nc.fail = true
	if err := c.publishStamped(message.Message{Topic: "a"}, stamp{}); err == nil || !nc.closed {
		t.Fatalf("a failed write: %v, closed %v; want its error and the connection closed", err, nc.closed)
	}
}

// brokenConn is a connection whose writes fail when fail is set.
type brokenConn struct {
	net.Conn
	fail   bool
	writes int
	closed bool
}

func (c *brokenConn) Write(p []byte) (int, error) {
	c.writes++
	if c.fail {
		return 0, errors.New("connection reset by peer")
	}
	return len(p), nil
}

func (c *brokenConn) Close() error { c.closed = true; return nil }

// BenchmarkPublishEncode compares encoding a stamped reading with the
// fleet's encoder and with paho.golang's, as sendStream sends it.
func BenchmarkPublishEncode(b *testing.B) {
	m := message.Message{Topic: "bench/dev-0001/telemetry", Payload: []byte(`{"seq":1234,"ts":1796000000123,"temperature":21.4,"humidity":52}`)}
	st := stamp{seq: 1234, at: 1_796_000_000_123_456_789, client: "dev-0001"}
	b.Run("fleet", func(b *testing.B) {
		var buf, scratch []byte
		b.ReportAllocs()
		for b.Loop() {
			buf, scratch, _ = appendPublish5(buf[:0], scratch, &m, st)
		}
	})
	b.Run("paho", func(b *testing.B) {
		var w discardLocker
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p := v5Publish(withStamp(m, stamp{seq: uint64(i), at: st.at, client: st.client}))
			if _, err := p.Packet().ToControlPacket().WriteTo(&w); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// discardLocker is a writer that, like the fleet's connections, is a
// sync.Locker, so paho writes a packet as it does to a device's socket.
type discardLocker struct{ n int }

func (d *discardLocker) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discardLocker) Lock()                       {}
func (d *discardLocker) Unlock()                     {}
