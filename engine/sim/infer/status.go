package infer

import (
	"strings"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// statusPairs are the words devices commonly keep on a retained status
// topic: set on connect, and by the will when they drop.
var statusPairs = [][2]string{
	{"online", "offline"},
	{"connected", "disconnected"},
	{"up", "down"},
	{"alive", "dead"},
}

// status recognises a device's retained online/offline topic, which a
// device does not send on a schedule: it is the profile's lifecycle
// status (online on connect, offline on a graceful stop, the will when it
// drops), not a stream.
func (g *group) status() (*scenario.Status, bool) {
	if !g.retain() {
		return nil, false
	}
	seen := map[string]string{} // lower case -> as sent
	for _, m := range g.msgs {
		w := string(m.Payload)
		seen[strings.ToLower(w)] = w
		if len(seen) > 2 {
			return nil, false
		}
	}
	for _, pair := range statusPairs {
		on, okOn := seen[pair[0]]
		off, okOff := seen[pair[1]]
		if !okOn && !okOff || len(seen) == 2 && !(okOn && okOff) {
			continue
		}
		if !okOn {
			on = matchCase(pair[0], off)
		}
		if !okOff {
			off = matchCase(pair[1], on)
		}
		return &scenario.Status{Topic: g.topic, Online: on, Offline: off, QoS: g.qos()}, true
	}
	return nil, false
}

// matchCase spells word as like is spelt: upper case, capitalised or as is.
func matchCase(word, like string) string {
	switch {
	case like == strings.ToUpper(like):
		return strings.ToUpper(word)
	case like[:1] == strings.ToUpper(like[:1]):
		return strings.ToUpper(word[:1]) + word[1:]
	}
	return word
}
