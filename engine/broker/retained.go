package broker

import (
	"slices"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"

	"github.com/iotstudio/iotstudio/engine/message"
)

// RetainedMessages returns the retained messages the running broker holds,
// as records of SourceBroker sorted by topic, with the time each was
// published (to the nanosecond for those the session store kept, else
// to the second: what mochi keeps) and its publisher's client
// ID. Messages retained in an earlier run and restored from the data dir at
// Start are among them: the tap saw them when they were published, not in
// this run, so a live view (the topic model) needs them from here. mochi's
// own $SYS topics are left out, as in Stats.Retained. It returns nil when
// the broker is stopped.
func (b *Broker) RetainedMessages() []message.Message {
	v := b.viewed()
	srv, restored := v.srv, v.restored
	if srv == nil {
		return nil
	}
	var out []message.Message
	for topic, pk := range srv.Topics.Retained.GetAll() {
		if strings.HasPrefix(topic, mqtt.SysPrefix+"/") || len(pk.Payload) == 0 {
			continue
		}
		var at time.Time
		if pk.Created > 0 {
			at = time.Unix(pk.Created, 0)
		}
		// recordOf reads the publisher from its client; a restored message
		// has only the ID it was published with, and the protocol as the
		// session store kept it.
		proto := pk.ProtocolVersion
		if o, ok := restored[topic]; ok && proto == 0 && o.Created == pk.Created {
			proto = o.ProtocolVersion
			if o.At != 0 {
				at = time.Unix(0, o.At)
			}
		}
		from := &mqtt.Client{ID: pk.Origin, Properties: mqtt.ClientProperties{ProtocolVersion: proto}}
		r := recordOf(from, &pk, at)
		r.Retain = true
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b message.Message) int { return strings.Compare(a.Topic, b.Topic) })
	return out
}
