package auth

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Access is what an ACL rule grants on the topics its filter matches.
// The values form a bit set: ReadWrite == Read|Write, Deny grants nothing.
type Access int

const (
	Deny      Access = iota // no access; also blocks later rules
	Read                    // subscribe / receive
	Write                   // publish
	ReadWrite               // both
)

// accessNames lists the spellings accepted in the users file, in the order
// error messages mention them.
var accessNames = [...]string{Read: "read", Write: "write", ReadWrite: "readwrite", Deny: "deny"}

// String returns the users-file spelling of a ("read", "write", "readwrite", "deny").
func (a Access) String() string {
	if a >= Deny && a <= ReadWrite {
		return accessNames[a]
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// ParseAccess parses the users-file spelling of an access level. It is
// case-sensitive, like the rest of the file.
func ParseAccess(s string) (Access, error) {
	for a, name := range accessNames {
		if s == name {
			return Access(a), nil
		}
	}
	return Deny, fmt.Errorf("access %q is not one of read, write, readwrite, deny", s)
}

// Rule is one ACL entry: Filter is an MQTT topic filter (wildcards allowed,
// no $share/ prefix) and Access what it grants.
type Rule struct {
	Filter string
	Access Access
}

// allowed evaluates an ACL for one PUBLISH (write=true, s is a topic name) or
// one read check (write=false, s is a subscription filter or, for mochi's
// per-delivery check, a topic name).
//
// Rules are evaluated in order and the first applicable rule decides:
//   - a rule that grants the needed access applies when its filter covers s,
//     i.e. matches every topic s could match (for a topic: matches it);
//   - any other rule (deny, or read-only for a publish, write-only for a
//     subscribe) applies when its filter overlaps s at all, and denies.
//
// For a topic name covering and overlapping both reduce to plain MQTT
// matching, so this is "first matching rule wins". For a subscription it is a
// conservative version of the same rule: if a subscription is granted, every
// message it can deliver passes the per-delivery check too.
//
// No rules means full access; rules but none applicable means deny.
// This is the broker's per-delivery hot path: it must not allocate.
func allowed(rules []Rule, s string, write bool) bool {
	if len(rules) == 0 {
		return true
	}
	need := Read
	if write {
		need = Write
	} else {
		var ok bool
		if s, ok = stripShare(s); !ok {
			return false
		}
	}
	for i := range rules {
		r := &rules[i]
		if r.Access&need != 0 {
			if covers(r.Filter, s) {
				return true
			}
		} else if overlaps(r.Filter, s) {
			return false
		}
	}
	return false
}

const sharePrefix = "$share/"

// stripShare turns "$share/GROUP/filter" into "filter" (the prefix is matched
// case-insensitively, as mochi does). ok is false for a malformed shared filter.
func stripShare(s string) (string, bool) {
	if len(s) < len(sharePrefix) || !strings.EqualFold(s[:len(sharePrefix)], sharePrefix) {
		return s, true
	}
	rest := s[len(sharePrefix):]
	i := strings.IndexByte(rest, '/')
	if i < 0 || i+1 == len(rest) {
		return "", false
	}
	return rest[i+1:], true
}

// level returns the topic level of s that starts at byte i, and the start of
// the next level. A next greater than len(s) means there are no more levels.
// Callers must pass i <= len(s).
func level(s string, i int) (lvl string, next int) {
	if j := strings.IndexByte(s[i:], '/'); j >= 0 {
		return s[i : i+j], i + j + 1
	}
	return s[i:], len(s) + 1
}

func isWild(lvl string) bool { return lvl == "+" || lvl == "#" }

// isDollar reports whether a first level starts with '$'. Per [MQTT-4.7.2-1]
// a filter whose first level is a wildcard does not match such topics.
func isDollar(lvl string) bool { return len(lvl) > 0 && lvl[0] == '$' }

// matches reports whether filter f matches topic name t.
func matches(f, t string) bool { return covers(f, t) }

// covers reports whether every topic matched by filter s is also matched by
// filter r. For a topic s (no wildcards) this is plain MQTT matching.
func covers(r, s string) bool {
	ri, si := 0, 0
	for first := true; ; first = false {
		if ri > len(r) {
			return si > len(s)
		}
		rl, rn := level(r, ri)
		if si > len(s) {
			return rl == "#" // "a/#" matches "a" too
		}
		sl, sn := level(s, si)
		if first && isWild(rl) && isDollar(sl) {
			return false
		}
		switch {
		case rl == "#":
			return true
		case sl == "#":
			// Only "+/#" is as wide as a top-level "#" (there are no
			// zero-level topics); elsewhere "x/#" also matches "x".
			return first && rl == "+" && rn <= len(r) && r[rn:] == "#"
		case rl == "+":
			// matches any single level, including an empty one
		case sl == "+" || rl != sl:
			return false
		}
		ri, si = rn, sn
	}
}

// overlaps reports whether some topic is matched by both filters.
func overlaps(a, b string) bool {
	ai, bi := 0, 0
	for first := true; ; first = false {
		aDone, bDone := ai > len(a), bi > len(b)
		switch {
		case aDone && bDone:
			return true
		case aDone:
			l, _ := level(b, bi)
			return l == "#"
		case bDone:
			l, _ := level(a, ai)
			return l == "#"
		}
		al, an := level(a, ai)
		bl, bn := level(b, bi)
		if first && (isWild(al) && isDollar(bl) || isWild(bl) && isDollar(al)) {
			return false
		}
		if al == "#" || bl == "#" {
			return true
		}
		if al != "+" && bl != "+" && al != bl {
			return false
		}
		ai, bi = an, bn
	}
}

// filterProblem describes what is wrong with an ACL filter, or returns "".
func filterProblem(f string) string {
	switch {
	case f == "":
		return `filter is empty (a filter that starts with # or + must be quoted, e.g. filter: "#")`
	case len(f) > 65535:
		return "filter is longer than 65535 bytes"
	case !utf8.ValidString(f):
		return fmt.Sprintf("filter %q is not valid UTF-8", f)
	case strings.IndexByte(f, 0) >= 0:
		return fmt.Sprintf("filter %q contains a NUL character", f)
	}
	if p, _ := stripShare(f); p != f || strings.EqualFold(f, "$share") {
		return fmt.Sprintf("filter %q has a $share/ prefix; ACL rules apply to topics, so write the filter without $share/GROUP/", f)
	}
	for i := 0; i <= len(f); {
		l, next := level(f, i)
		switch {
		case l == "#" && next <= len(f):
			return fmt.Sprintf("filter %q has '#' before the last level; '#' may only be the last level, e.g. \"a/#\"", f)
		case l != "#" && strings.IndexByte(l, '#') >= 0:
			return fmt.Sprintf("filter %q uses '#' inside a level; '#' must be a whole level, e.g. \"a/#\" not \"a#\"", f)
		case l != "+" && strings.IndexByte(l, '+') >= 0:
			return fmt.Sprintf("filter %q uses '+' inside a level; '+' must be a whole level, e.g. \"a/+/b\" not \"a+/b\"", f)
		}
		i = next
	}
	return ""
}
