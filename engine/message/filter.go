package message

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxTopicLen is MQTT's limit on any UTF-8 string, and so on a topic name
// or filter, in bytes [MQTT-1.5.4-1].
const MaxTopicLen = 65535

// sharePrefix starts a shared subscription: $share/{group}/{filter}
// (MQTT 5 section 4.8.2; most MQTT 3.1.1 brokers accept it too).
const sharePrefix = "$share/"

// ValidateFilter reports whether f is a valid MQTT topic filter, and if not,
// what is wrong and where, e.g.
//
//	topic filter "a/#/b": '#' must be the last level (it is level 2 of 3)
//
// The empty string is accepted: in a capture query or a search it means
// every topic. A SUBSCRIBE is checked with CheckFilter.
func ValidateFilter(f string) error {
	if f == "" {
		return nil
	}
	if len(f) > MaxTopicLen {
		return fmt.Errorf("topic filter is %d bytes long; MQTT allows at most %d", len(f), MaxTopicLen)
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

// CheckFilter reports whether filter is a topic filter a broker must
// accept in a SUBSCRIBE, and if not, what is wrong and where, in words a
// person can act on. It checks what the SUBSCRIBE would otherwise be
// refused (or the connection closed) for: an empty filter [MQTT-4.7.3-1],
// the length limit, '#' and '+' that do not fill a level or '#' that is
// not last, and the $share syntax. The level rules are ValidateFilter's,
// so that a filter the subscribe panel accepts is one the capture can
// query.
func CheckFilter(filter string) error {
	if filter == "" {
		return fmt.Errorf("the topic filter is empty: enter at least one level, e.g. sensors/# (or # for every topic) [MQTT-4.7.3-1]")
	}
	if len(filter) > MaxTopicLen {
		return fmt.Errorf("the topic filter is %d bytes long; MQTT allows at most %d", len(filter), MaxTopicLen)
	}
	group, inner, shared := SharedFilter(filter)
	if !shared {
		return ValidateFilter(filter)
	}
	switch {
	case group == "":
		return fmt.Errorf("shared subscription %q has no group name: write $share/GROUP/FILTER, e.g. $share/workers/sensors/#", filter)
	case strings.ContainsAny(group, "+#"):
		return fmt.Errorf("shared subscription %q: the group name %q cannot hold '+' or '#' [MQTT-4.8.2-2]", filter, group)
	case inner == "":
		return fmt.Errorf("shared subscription %q has no topic filter after the group: write $share/%s/FILTER, e.g. $share/%s/sensors/#", filter, group, group)
	}
	if err := ValidateFilter(inner); err != nil {
		return fmt.Errorf("shared subscription %q, after $share/%s/: %w", filter, group, err)
	}
	return nil
}

// SharedFilter splits a $share/{group}/{filter} subscription into its
// group and the filter that topics are matched against. shared is false
// for an ordinary filter. A "$share/group" without a filter is shared with
// an empty inner filter (CheckFilter refuses it).
func SharedFilter(filter string) (group, inner string, shared bool) {
	rest, ok := strings.CutPrefix(filter, sharePrefix)
	if !ok {
		return "", filter, false
	}
	group, inner, _ = strings.Cut(rest, "/")
	return group, inner, true
}

// HasWildcard reports whether s contains '+' or '#': for a valid filter,
// whether it matches more than one topic; for a topic name, that it is
// not one.
func HasWildcard(s string) bool { return strings.ContainsAny(s, "+#") }

// LiteralPrefix returns what every topic matching the valid filter starts
// with: the levels before its first wildcard, without the '/' that ends
// them ("a/b/#" matches "a/b").
func LiteralPrefix(filter string) string {
	i := strings.IndexAny(filter, "+#")
	if i < 0 {
		return filter
	}
	return strings.TrimSuffix(filter[:i], "/")
}

// MatchTopic reports whether topic matches the valid, non-empty filter
// (see ValidateFilter), following MQTT 3.1.1/5 section 4.7: '+' matches
// exactly one level, '#' matches the parent level and any number of levels
// below it, and filters starting with a wildcard do not match topics
// starting with '$' [MQTT-4.7.2-1]. It takes the topic as bytes and does
// not allocate, so that a capture query can test encoded records and a
// tree filter can reuse one buffer for every topic.
func MatchTopic(filter string, topic []byte) bool {
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
