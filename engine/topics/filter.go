package topics

import (
	"fmt"
	"strings"

	"github.com/iotstudio/iotstudio/engine/message"
)

// Filter narrows the tree: either a substring of the topic (case ignored)
// or, when the text contains '+' or '#', an MQTT topic filter
// matched as a broker would. The zero Filter matches everything.
type Filter struct {
	text     string
	wildcard bool
}

// ParseFilter reads what a user typed in a filter box. Text with '+' or
// '#' must be a valid MQTT filter, so a typo such as "a/#/b" is reported
// rather than silently matching nothing.
func ParseFilter(text string) (Filter, error) {
	if !strings.ContainsAny(text, "+#") {
		return Filter{text: text}, nil
	}
	if err := message.ValidateFilter(text); err != nil {
		return Filter{}, fmt.Errorf("a filter with + or # is an MQTT topic filter (leave them out to search for text): %w", err)
	}
	return Filter{text: text, wildcard: true}, nil
}

// String returns the text the filter was parsed from.
func (f Filter) String() string { return f.text }

// Wildcard reports whether f is an MQTT topic filter rather than a substring.
func (f Filter) Wildcard() bool { return f.wildcard }

// Match reports whether topic passes the filter.
func (f Filter) Match(topic string) bool {
	var buf []byte
	return f.match(topic, &buf)
}

// match is Match with a scratch buffer, so that filtering a whole tree
// does not allocate per topic (capture's matcher takes bytes).
func (f Filter) match(topic string, buf *[]byte) bool {
	if !f.wildcard {
		return containsFold(topic, f.text)
	}
	*buf = append((*buf)[:0], topic...)
	return message.MatchTopic(f.text, *buf)
}

// containsFold reports whether sub occurs in s, ignoring ASCII case, without
// allocating (strings.ToLower would copy every topic).
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	first := lower(sub[0])
	for i := 0; i+len(sub) <= len(s); i++ {
		if lower(s[i]) == first && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
