package bridge

import (
	"strings"

	"github.com/iotstudio/iotstudio/engine/message"
)

// mapping turns topics under one filter's literal prefix into topics under
// another's: the levels from the first wildcard on are the same on both
// sides (checked by validate), so a topic maps by swapping the prefix.
type mapping struct {
	from, to string // literal prefixes, without their trailing '/'
}

// apply maps topic, which matches the filter whose prefix is m.from; ok is
// false when nothing is left to name a topic (remote site1 under the
// mapping site1/# -> #).
func (m mapping) apply(topic string) (string, bool) {
	if m.from == m.to {
		return topic, true
	}
	rest := strings.TrimPrefix(topic, m.from)
	switch {
	case m.to == "":
		rest = strings.TrimPrefix(rest, "/")
		return rest, rest != ""
	case m.from == "" && rest != "":
		return m.to + "/" + rest, true
	}
	return m.to + rest, true
}

// mappingOf maps topics of filter from onto filter to.
func mappingOf(from, to string) mapping {
	return mapping{from: message.LiteralPrefix(from), to: message.LiteralPrefix(to)}
}

// suffix is what follows a filter's literal prefix: its wildcard levels.
func suffix(filter string) string {
	return strings.TrimPrefix(strings.TrimPrefix(filter, message.LiteralPrefix(filter)), "/")
}

// overlap says whether some topic name matches both filters.
func overlap(a, b string) bool {
	al, bl := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; ; i++ {
		switch {
		case i < len(al) && al[i] == "#", i < len(bl) && bl[i] == "#":
			return true
		case i == len(al) || i == len(bl):
			return len(al) == len(bl)
		case al[i] != "+" && bl[i] != "+" && al[i] != bl[i]:
			return false
		}
	}
}
