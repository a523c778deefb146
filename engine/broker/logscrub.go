package broker

import (
	"fmt"
	"log/slog"
	"net"
	"unicode/utf8"

	"github.com/mochi-mqtt/server/v2/packets"
)

// maxLogValue bounds one attribute (and a message) in mochi's records, so
// that a log line stays a line whatever a client sends.
const maxLogValue = 256

// scrubAttr keeps what a user can act on (errors, client IDs, listeners)
// and never a packet's contents: mochi logs whole packets on protocol
// errors ("pk", "packet"), passwords and payloads included. Values of types
// the broker does not know are reduced to their type, since printing them
// may print a packet they hold.
func scrubAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, len(attrs))
		for i, g := range attrs {
			out[i] = scrubAttr(g)
		}
		return slog.Group(a.Key, out...)
	case slog.KindString:
		return slog.String(a.Key, clip(v.String()))
	case slog.KindAny:
		return slog.String(a.Key, describe(v.Any()))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case packets.Packet:
		return packetName(x.FixedHeader.Type)
	case *packets.Packet:
		if x == nil {
			return "<nil>"
		}
		return packetName(x.FixedHeader.Type)
	case []byte:
		return fmt.Sprintf("[%d bytes]", len(x))
	case error:
		return clip(x.Error())
	case net.Addr:
		return clip(x.String())
	}
	return fmt.Sprintf("(%T)", v)
}

func packetName(t byte) string {
	if n, ok := packets.PacketNames[t]; ok {
		return n
	}
	return fmt.Sprintf("packet type %d", t)
}

// clip cuts s to maxLogValue bytes on a character boundary, saying how long
// it was.
func clip(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	cut := maxLogValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

func scrubRecord(r slog.Record) slog.Record {
	out := slog.NewRecord(r.Time, r.Level, clip(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(a))
		return true
	})
	return out
}

func scrubAttrs(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = scrubAttr(a)
	}
	return out
}
