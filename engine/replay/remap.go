package replay

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/message"
)

// Remap moves the topics under Old to under New. Both are whole topic
// levels: Old "plant" matches "plant" and "plant/a/power" but not
// "plantA/power". Old "" matches every topic (New is then put in front);
// New "" strips Old ("plant/a/power" becomes "a/power").
type Remap struct {
	Old, New string
}

// ParseRemap reads "OLD=NEW" (the --remap flag) and checks it.
func ParseRemap(s string) (Remap, error) {
	old, new, ok := strings.Cut(s, "=")
	if !ok {
		return Remap{}, fmt.Errorf("remap %q: write it as OLD=NEW, e.g. plant=replay/plant", s)
	}
	r := Remap{Old: old, New: new}
	return r, r.validate()
}

func (r Remap) String() string { return r.Old + "=" + r.New }

func (r Remap) validate() error {
	if r.Old == "" && r.New == "" {
		return fmt.Errorf("remap %q: give the topic prefix to replace, the new prefix, or both", r.String())
	}
	for _, p := range []struct{ what, v string }{{"old prefix", r.Old}, {"new prefix", r.New}} {
		if p.v == "" {
			continue
		}
		if err := checkTopicChars(p.v); err != nil {
			return fmt.Errorf("remap %q: %s %w", r.String(), p.what, err)
		}
		if strings.HasSuffix(p.v, "/") {
			return fmt.Errorf("remap %q: %s %q ends with '/'; give whole topic levels without a trailing '/'", r.String(), p.what, p.v)
		}
	}
	if strings.HasPrefix(r.New, "$") {
		return fmt.Errorf("remap %q: new prefix %q starts with '$'; such topics are reserved for the broker", r.String(), r.New)
	}
	return nil
}

// checkTopicChars reports what keeps s from being (part of) a topic name.
func checkTopicChars(s string) error {
	switch {
	case len(s) > message.MaxTopicLen:
		return fmt.Errorf("is %d bytes long; MQTT allows at most %d", len(s), message.MaxTopicLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%q is not valid UTF-8", s)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%q contains a NUL character", s)
	case strings.ContainsAny(s, "+#"):
		return fmt.Errorf("%q contains a wildcard (+ or #); a topic name cannot", s)
	}
	return nil
}

// errEmptyTopic marks a record whose topic a remap turned into "".
var errEmptyTopic = errors.New("remapped topic is empty")

// remapper applies the longest matching Remap of a set.
type remapper []Remap

func newRemapper(rs []Remap) (remapper, error) {
	seen := make(map[string]bool, len(rs))
	for _, r := range rs {
		if err := r.validate(); err != nil {
			return nil, err
		}
		if seen[r.Old] {
			return nil, fmt.Errorf("remap %q: prefix %q is remapped twice", r.String(), r.Old)
		}
		seen[r.Old] = true
	}
	return remapper(rs), nil
}

// apply returns the topic remapped by the rule with the longest matching
// Old, or the topic unchanged if none matches.
func (m remapper) apply(topic string) (string, error) {
	// rest is what follows Old and its '/'; hasRest is false when the
	// topic is Old itself (so "a/" keeps its empty last level).
	best, rest, hasRest := -1, "", false
	for i, r := range m {
		if best >= 0 && len(r.Old) <= len(m[best].Old) {
			continue
		}
		switch {
		case r.Old == "":
			best, rest, hasRest = i, topic, true
		case topic == r.Old:
			best, rest, hasRest = i, "", false
		case len(topic) > len(r.Old) && strings.HasPrefix(topic, r.Old) && topic[len(r.Old)] == '/':
			best, rest, hasRest = i, topic[len(r.Old)+1:], true
		}
	}
	if best < 0 {
		return topic, nil
	}
	out := m[best].New
	switch {
	case out == "":
		out = rest
	case hasRest:
		out += "/" + rest
	}
	if out == "" {
		return "", errEmptyTopic
	}
	if len(out) > message.MaxTopicLen {
		return "", fmt.Errorf("remapped topic is %d bytes long; MQTT allows at most %d", len(out), message.MaxTopicLen)
	}
	return out, nil
}
