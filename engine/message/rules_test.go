package message

import (
	"errors"
	"strings"
	"testing"
)

// rule is one string read as a topic name (ValidateTopicName), a query
// filter (ValidateFilter), a SUBSCRIBE filter (CheckFilter, SharedFilter)
// and, when it is a valid filter, matched against topics (MatchTopic,
// LiteralPrefix). Seeing every reading of a string on one row is what
// keeps the rules from drifting apart.
type rule struct {
	in string

	name      []string // each must be in ValidateTopicName's error; nil: a valid name
	namePos   [2]int   // the error's byte and level; not checked when zero
	nameWarns []string // warning i must contain nameWarns[i]

	query []string // each must be in ValidateFilter's error; nil: valid
	sub   []string // each must be in CheckFilter's error; nil: valid

	shared       bool // SharedFilter's answer, with group and inner
	group, inner string

	matches, misses []string // topics the filter matches and does not
}

var long = strings.Repeat("a", MaxTopicLen+1)

var rules = []rule{
	{in: "home/kitchen/temperature", matches: []string{"home/kitchen/temperature"}, misses: []string{"home/kitchen", "home/kitchen/temperature/x"}},
	{in: "a", matches: []string{"a"}, misses: []string{"b", "a/"}},
	{in: "maison/salle à manger/température", matches: []string{"maison/salle à manger/température"}},
	{in: "température/ü"},
	{in: "", name: []string{"the topic is empty"}, sub: []string{"empty", "sensors/#"}},
	{in: long, name: []string{"65536 bytes long; MQTT allows at most 65535"},
		query: []string{"65536 bytes long"}, sub: []string{"65536 bytes", "at most 65535"}},
	{in: long[:MaxTopicLen]},
	{in: "a/b", matches: []string{"a/b"}, misses: []string{"a/b/c", "a"}},
	{in: "a/b/c", misses: []string{"a/b"}},
	{in: "home/+/temp", name: []string{"'+' is a wildcard"}, namePos: [2]int{5, 2}, matches: []string{"home/x/temp"}},
	{in: "home/#", name: []string{"'#' is a wildcard"}, namePos: [2]int{5, 2}},
	{in: "a/b/c+d", name: []string{"'+' is a wildcard"}, namePos: [2]int{5, 3},
		query: []string{`'+' must occupy a whole level`, `level 3 is "c+d"`}, sub: []string{`'+' must occupy a whole level`, `level 3 is "c+d"`}},
	{in: "a/b\x00c", name: []string{"NUL character"}, namePos: [2]int{3, 2}, query: []string{"NUL character at byte 3"}, sub: []string{"NUL", "byte 3"}},
	{in: "a/\x00", name: []string{"NUL character"}, namePos: [2]int{2, 2}, query: []string{`NUL character at byte 2`}, sub: []string{"NUL", "byte 2"}},
	{in: "ok/\xff", name: []string{"invalid UTF-8"}, namePos: [2]int{3, 2}, query: []string{"invalid UTF-8 at byte 3"}, sub: []string{"invalid UTF-8", "byte 3"}},
	{in: "ab\xffc", name: []string{"invalid UTF-8"}, namePos: [2]int{2, 1}, query: []string{`invalid UTF-8 at byte 2`}, sub: []string{"invalid UTF-8", "byte 2"}},
	{in: "/a/b", nameWarns: []string{"level 1 of 3 is empty (the topic starts with '/')"}},
	{in: "a/b/", nameWarns: []string{"level 3 of 3 is empty (the topic ends with '/')"}},
	{in: "a//b", nameWarns: []string{"level 2 of 3 is empty ('//')"}, matches: []string{"a//b"}, misses: []string{"a/b"}},
	{in: "/", nameWarns: []string{"level 1 of 2", "level 2 of 2"}},
	{in: "$SYS/broker/uptime", nameWarns: []string{"reserved for the broker"}},
	{in: "a/b\tc", nameWarns: []string{"control character U+0009 at byte 3"}},
	{in: "#", name: []string{"'#' is a wildcard"}, namePos: [2]int{0, 1},
		matches: []string{"a/b/c", "/", "a"}, misses: []string{"$SYS/x"}},
	{in: "+", name: []string{"'+' is a wildcard"}, namePos: [2]int{0, 1}, matches: []string{"a"}, misses: []string{"/a", "$SYS"}},
	{in: "a/#", name: []string{"wildcard"}, namePos: [2]int{2, 2}, matches: []string{"a", "a/b/c"}, misses: []string{"ab"}},
	{in: "a/+", name: []string{"wildcard"}, namePos: [2]int{2, 2}, matches: []string{"a/b", "a/"}, misses: []string{"a", "a/b/c"}},
	{in: "+/+", name: []string{"wildcard"}, matches: []string{"a/b"}},
	{in: "/+", name: []string{"wildcard"}, matches: []string{"/a"}},
	{in: "a/+/c", name: []string{"wildcard"}, matches: []string{"a/b/c"}, misses: []string{"a/b/d"}},
	{in: "a/+/b", name: []string{"wildcard"}, matches: []string{"a//b"}},
	{in: "+/x", name: []string{"wildcard"}, misses: []string{"$SYS/x"}},
	{in: "+/+/#", name: []string{"wildcard"}},
	{in: "sensors/+/temp", name: []string{"wildcard"}},
	{in: "$SYS/#", name: []string{"wildcard"}, matches: []string{"$SYS/x"}},
	{in: "$SYS/+", name: []string{"wildcard"}, matches: []string{"$SYS/x"}},
	{in: "a/#/b", name: []string{"wildcard"},
		query: []string{`topic filter "a/#/b": '#' must be the last level (it is level 2 of 3)`}, sub: []string{"'#' must be the last level"}},
	{in: "sensors/#/temp", name: []string{"wildcard"}, query: []string{"level 2 of 3"},
		sub: []string{"'#' must be the last level", "level 2 of 3", `"sensors/#/temp"`}},
	{in: "#/a", name: []string{"wildcard"}, query: []string{`'#' must be the last level (it is level 1 of 2)`}, sub: []string{"level 1 of 2"}},
	{in: "a#", name: []string{"wildcard"}, query: []string{`topic filter "a#": '#' must occupy a whole level (level 1 is "a#")`}, sub: []string{`level 1 is "a#"`}},
	{in: "a/b#", name: []string{"wildcard"}, query: []string{`'#' must occupy a whole level (level 2 is "b#")`}, sub: []string{`level 2 is "b#"`}},
	{in: "sensors/b#", name: []string{"wildcard"}, query: []string{"whole level"}, sub: []string{"'#' must occupy a whole level", `level 2 is "b#"`}},
	{in: "a/+b", name: []string{"wildcard"}, query: []string{`topic filter "a/+b": '+' must occupy a whole level (level 2 is "+b")`}, sub: []string{`level 2 is "+b"`}},
	{in: "++", name: []string{"wildcard"}, query: []string{`'+' must occupy a whole level (level 1 is "++")`}, sub: []string{`level 1 is "++"`}},
	{in: "a+", name: []string{"wildcard"}, query: []string{"whole level"}, sub: []string{"'+' must occupy a whole level", `level 1 is "a+"`}},
	{in: "sensors/x+y/temp", name: []string{"wildcard"}, query: []string{"whole level"}, sub: []string{"'+' must occupy a whole level", `level 2 is "x+y"`}},

	// Shared subscriptions: only SUBSCRIBE knows $share; elsewhere it is
	// an ordinary level.
	{in: "$share", nameWarns: []string{"reserved"}, inner: "$share"},
	{in: "$shared/g/a", nameWarns: []string{"reserved"}, inner: "$shared/g/a"},
	{in: "$share/workers/sensors/#", name: []string{"wildcard"}, shared: true, group: "workers", inner: "sensors/#"},
	{in: "$share/g/+", name: []string{"wildcard"}, shared: true, group: "g", inner: "+"},
	{in: "$share/g/a/b", nameWarns: []string{"reserved"}, shared: true, group: "g", inner: "a/b"},
	{in: "$share//sensors/#", name: []string{"wildcard"}, sub: []string{"no group name", "$share/GROUP/FILTER"}, shared: true, inner: "sensors/#"},
	{in: "$share/g+/x", name: []string{"wildcard"}, query: []string{"whole level"},
		sub: []string{`group name "g+"`, "'+' or '#'"}, shared: true, group: "g+", inner: "x"},
	{in: "$share/workers", nameWarns: []string{"reserved"}, sub: []string{"no topic filter after the group", "$share/workers/FILTER"}, shared: true, group: "workers"},
	{in: "$share/g", nameWarns: []string{"reserved"}, sub: []string{"no topic filter after the group"}, shared: true, group: "g"},
	{in: "$share/workers/", nameWarns: []string{"level 3 of 3 is empty", "reserved"}, sub: []string{"no topic filter after the group"}, shared: true, group: "workers"},
	{in: "$share/workers/a/#/b", name: []string{"wildcard"}, query: []string{"'#' must be the last level"},
		sub: []string{"after $share/workers/", "'#' must be the last level", "level 2 of 3"}, shared: true, group: "workers", inner: "a/#/b"},
}

func TestTopicRules(t *testing.T) {
	for _, r := range rules {
		label := r.in
		if len(label) > 40 {
			label = label[:40]
		}
		t.Run(label, func(t *testing.T) {
			r.checkName(t)
			checkErr(t, "ValidateFilter", r.in, ValidateFilter(r.in), r.query)
			checkErr(t, "CheckFilter", r.in, CheckFilter(r.in), r.sub)
			if g, in, sh := SharedFilter(r.in); sh != r.shared || (sh && (g != r.group || in != r.inner)) || (!sh && in != r.in) {
				t.Errorf("SharedFilter(%q) = %q, %q, %v; want %q, %q, %v", r.in, g, in, sh, r.group, r.inner, r.shared)
			}
			lit := LiteralPrefix(r.in)
			for _, topic := range r.matches {
				if !MatchTopic(r.in, []byte(topic)) {
					t.Errorf("MatchTopic(%q, %q) = false, want true", r.in, topic)
				}
				if !strings.HasPrefix(topic, lit) {
					t.Errorf("filter %q matches %q, which lacks its literal prefix %q", r.in, topic, lit)
				}
			}
			for _, topic := range r.misses {
				if MatchTopic(r.in, []byte(topic)) {
					t.Errorf("MatchTopic(%q, %q) = true, want false", r.in, topic)
				}
			}
		})
	}
}

func (r rule) checkName(t *testing.T) {
	t.Helper()
	warnings, err := ValidateTopicName(r.in)
	checkErr(t, "ValidateTopicName", r.in, err, r.name)
	if err != nil {
		var te *TopicNameError
		if !errors.As(err, &te) {
			t.Fatalf("ValidateTopicName(%q) = %v, not a *TopicNameError", r.in, err)
		}
		if r.namePos != [2]int{} && (te.Pos != r.namePos[0] || te.Level != r.namePos[1]) {
			t.Errorf("ValidateTopicName(%q): byte %d level %d, want byte %d level %d", r.in, te.Pos, te.Level, r.namePos[0], r.namePos[1])
		}
		if warnings != nil {
			t.Errorf("warnings with an error: %q", warnings)
		}
		return
	}
	if len(warnings) != len(r.nameWarns) {
		t.Fatalf("ValidateTopicName(%q) warnings %q, want %d containing %q", r.in, warnings, len(r.nameWarns), r.nameWarns)
	}
	for i, w := range r.nameWarns {
		if !strings.Contains(warnings[i], w) {
			t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
		}
	}
}

func checkErr(t *testing.T, fn, in string, err error, want []string) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s(%.40q) = %v, want valid", fn, in, err)
	case want != nil && err == nil:
		t.Errorf("%s(%.40q) accepted it, want an error saying %q", fn, in, want)
	case err != nil:
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s(%.40q) = %q; want it to say %q", fn, in, err, w)
			}
		}
	}
}

// The exact words matter: the publish form shows them as they are.
func TestTopicNameErrorSaysWhere(t *testing.T) {
	_, err := ValidateTopicName("sensors/+/temp")
	if got, want := err.Error(), "'+' is a wildcard: it may appear in a subscription's filter, never in the topic of a message (byte 8, level 2)"; got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}

// FuzzTopicRules checks that the rules never panic and agree with each
// other on any input: a valid name is a valid filter that matches itself
// and only itself among names, a filter CheckFilter accepts is one the
// capture can query, and every topic a filter matches starts with its
// literal prefix.
func FuzzTopicRules(f *testing.F) {
	for _, r := range rules {
		for _, topic := range append(append([]string{r.in}, r.matches...), r.misses...) {
			f.Add(r.in, topic)
		}
	}
	f.Fuzz(func(t *testing.T, filter, topic string) {
		ProtocolName(byte(len(filter)))
		_, nameErr := ValidateTopicName(topic)
		if nameErr == nil {
			if err := ValidateFilter(topic); err != nil {
				t.Fatalf("topic name %q is not a valid filter: %v", topic, err)
			}
			if !MatchTopic(topic, []byte(topic)) {
				t.Fatalf("topic %q does not match itself", topic)
			}
			if topic[0] != '$' && !MatchTopic("#", []byte(topic)) {
				t.Fatalf("'#' does not match %q", topic)
			}
		}
		if err := CheckFilter(filter); err == nil {
			if _, inner, _ := SharedFilter(filter); ValidateFilter(inner) != nil {
				t.Fatalf("CheckFilter accepts %q but ValidateFilter refuses its filter %q", filter, inner)
			}
		}
		if filter == "" || ValidateFilter(filter) != nil {
			return
		}
		matched := MatchTopic(filter, []byte(topic))
		if matched && !strings.HasPrefix(topic, LiteralPrefix(filter)) {
			t.Fatalf("filter %q matches %q, which lacks its literal prefix %q", filter, topic, LiteralPrefix(filter))
		}
		if !HasWildcard(filter) && nameErr == nil && matched != (filter == topic) {
			t.Fatalf("filter %q without wildcards: MatchTopic(%q) = %v", filter, topic, matched)
		}
	})
}
