package message

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// TopicNameError says why a topic name cannot be published to, and where:
// Pos is the byte offset of the fault in the topic and Level the 1-based
// level it is in (both 0 when the fault is the whole topic).
type TopicNameError struct {
	Topic string
	Pos   int
	Level int
	Msg   string
}

func (e *TopicNameError) Error() string {
	if e.Level == 0 {
		return e.Msg
	}
	return fmt.Sprintf("%s (byte %d, level %d)", e.Msg, e.Pos, e.Level)
}

// ValidateTopicName checks a topic NAME, the topic of a PUBLISH (filters,
// with wildcards, are ValidateFilter's and CheckFilter's job). err, a
// *TopicNameError, is what every broker must refuse; warnings are legal
// MQTT that often surprises: empty levels (which some brokers, AWS IoT
// among them, refuse), topics starting with '$' (reserved for the broker;
// "#" subscribers never see them [MQTT-4.7.2-1]) and control characters
// [MQTT-1.5.4-3 SHOULD NOT].
func ValidateTopicName(topic string) (warnings []string, err error) {
	fail := func(pos int, msg string, a ...any) (_ []string, err error) {
		level := 0
		if pos >= 0 {
			level = strings.Count(topic[:pos], "/") + 1
		} else {
			pos = 0
		}
		return nil, &TopicNameError{Topic: topic, Pos: pos, Level: level, Msg: fmt.Sprintf(msg, a...)}
	}
	switch {
	case topic == "":
		return fail(-1, "the topic is empty; type a topic such as home/kitchen/temperature")
	case len(topic) > MaxTopicLen:
		return fail(-1, "the topic is %d bytes long; MQTT allows at most %d", len(topic), MaxTopicLen)
	}
	for i := 0; i < len(topic); {
		r, size := utf8.DecodeRuneInString(topic[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return fail(i, "invalid UTF-8")
		case r == 0:
			return fail(i, "the NUL character (U+0000) is not allowed in a topic")
		case r == '+' || r == '#':
			return fail(i, "'%c' is a wildcard: it may appear in a subscription's filter, never in the topic of a message", r)
		}
		i += size
	}
	levels := strings.Split(topic, "/")
	for i, l := range levels {
		if l == "" {
			warnings = append(warnings, emptyLevelWarning(i, len(levels)))
		}
	}
	if strings.HasPrefix(topic, "$") {
		warnings = append(warnings, "topics starting with '$' are reserved for the broker ($SYS/…): many brokers refuse them, and subscribers to '#' do not receive them")
	}
	if i := strings.IndexFunc(topic, isControl); i >= 0 {
		warnings = append(warnings, fmt.Sprintf("control character %U at byte %d: allowed, but most tools show it badly", []rune(topic[i:])[0], i))
	}
	return warnings, nil
}

func emptyLevelWarning(i, n int) string {
	where := fmt.Sprintf("level %d of %d is empty", i+1, n)
	switch {
	case i == 0:
		where += " (the topic starts with '/')"
	case i == n-1:
		where += " (the topic ends with '/')"
	default:
		where += " ('//')"
	}
	return where + ": legal MQTT, but some brokers (AWS IoT among them) refuse it, and 'a/b' and 'a//b' or '/a' are different topics"
}

// isControl is MQTT's "SHOULD NOT include" set: C0 and C1 controls.
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }
