package capture

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxTopicLen is MQTT's limit on a UTF-8 string, and so on a topic filter.
const maxTopicLen = 65535

// ValidateFilter reports whether f is a valid MQTT topic filter, and if not,
// what is wrong and where, e.g.
//
//	topic filter "a/#/b": '#' must be the last level (it is level 2 of 3)
//
// The empty string is accepted: in a Query it means every topic.
func ValidateFilter(f string) error {
	if f == "" {
		return nil
	}
	if len(f) > maxTopicLen {
		return fmt.Errorf("topic filter is %d bytes long; MQTT allows at most %d", len(f), maxTopicLen)
	}
	if !utf8.ValidString(f) {
		i := 0
		for i < len(f) {
			r, size := utf8.DecodeRuneInString(f[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		return fmt.Errorf("topic filter %q: invalid UTF-8 at byte %d", f, i)
	}
	if i := strings.IndexByte(f, 0); i >= 0 {
		return fmt.Errorf("topic filter %q: NUL character at byte %d", f, i)
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return fmt.Errorf("topic filter %q: '#' must be the last level (it is level %d of %d)", f, i+1, len(levels))
		case l != "#" && strings.Contains(l, "#"):
			return fmt.Errorf("topic filter %q: '#' must occupy a whole level (level %d is %q)", f, i+1, l)
		case l != "+" && strings.Contains(l, "+"):
			return fmt.Errorf("topic filter %q: '+' must occupy a whole level (level %d is %q)", f, i+1, l)
		}
	}
	return nil
}

// hasWildcard reports whether a valid filter contains '+' or '#'.
func hasWildcard(f string) bool { return strings.ContainsAny(f, "+#") }

// literalPrefix returns what every topic matching the valid filter starts
// with: the levels before its first wildcard, without the '/' that ends
// them ("a/b/#" matches "a/b").
func literalPrefix(filter string) string {
	i := strings.IndexAny(filter, "+#")
	if i < 0 {
		return filter
	}
	return strings.TrimSuffix(filter[:i], "/")
}

// matchTopic reports whether topic matches the valid, non-empty filter,
// following MQTT 3.1.1/5 section 4.7: '+' matches exactly one level, '#'
// matches the parent level and any number of levels below it, and filters
// starting with a wildcard do not match topics starting with '$'.
// It does not allocate.
func matchTopic(filter string, topic []byte) bool {
	if len(topic) > 0 && topic[0] == '$' && len(filter) > 0 && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	topicDone := false
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		filter = frest
		if fl == "#" {
			return true
		}
		if topicDone {
			return false
		}
		var tl []byte
		if i := bytes.IndexByte(topic, '/'); i >= 0 {
			tl, topic = topic[:i], topic[i+1:]
		} else {
			tl, topicDone = topic, true
		}
		if fl != "+" && fl != string(tl) {
			return false
		}
		if !fmore {
			return topicDone
		}
	}
}
