package bridge

import (
	"fmt"
	"strings"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
)

// Direction says which way a rule forwards.
type Direction string

const (
	Out  Direction = "out"  // local to remote
	In   Direction = "in"   // remote to local
	Both Direction = "both" // each way
)

func (d Direction) out() bool { return d == Out || d == Both }
func (d Direction) in() bool  { return d == In || d == Both }

// RetainMode says what becomes of the retain flag of forwarded messages.
type RetainMode string

const (
	RetainKeep RetainMode = "keep" // forwarded retained messages stay retained
	RetainDrop RetainMode = "drop" // forwarded messages are never retained
)

// DefaultQueueSize is how many outgoing messages wait while the remote is
// down, unless a bridge says otherwise.
const DefaultQueueSize = 100_000

// Config is one bridge.
type Config struct {
	Name string `yaml:"name"`
	// Connection is the name of a saved connection (profile).
	Connection string `yaml:"connection"`
	// Queue is how many outgoing messages wait while the remote is down;
	// 0 means DefaultQueueSize.
	Queue int    `yaml:"queue"`
	Rules []Rule `yaml:"rules"`
}

// Rule forwards the topics matching Local (out) or Remote (in). The two
// filters have the same wildcard levels after their literal prefixes,
// which map onto each other.
type Rule struct {
	Name      string     `yaml:"name"`
	Direction Direction  `yaml:"direction"`
	Local     string     `yaml:"local"`
	Remote    string     `yaml:"remote"`
	QoS       byte       `yaml:"qos"`
	Retain    RetainMode `yaml:"retain"`
}

// label names the rule for people: its name, else its place and filters.
func (r Rule) label(i int) string {
	if r.Name != "" {
		return fmt.Sprintf("rule %q", r.Name)
	}
	return fmt.Sprintf("rule %d (%s %s <-> %s)", i+1, r.Direction, r.Local, r.Remote)
}

// Problem is one thing wrong with a configuration, at a field (a path in
// the file, "rules[1].local") so that the YAML loader can give its line.
type Problem struct {
	Field string
	Msg   string
}

func (p Problem) Error() string { return p.Field + ": " + p.Msg }

// Check reports what is wrong with c against the remote's protocol:
// fields, topic filters, mappings, and rules that would loop.
func (c Config) Check(remote client.Protocol) []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case strings.TrimSpace(c.Name) == "":
		add("name", "a bridge needs a name (it names its queue and its client ID)")
	case c.Name == "." || c.Name == ".." || strings.ContainsAny(c.Name, `/\:`) || strings.ContainsFunc(c.Name, func(r rune) bool { return r < ' ' }):
		add("name", "bridge name %q: it names the bridge's queue directory, so it cannot be . or .. nor hold / \\ : or control characters", c.Name)
	}
	if c.Queue < 0 {
		add("queue", "queue %d: give how many outgoing messages may wait while the remote is down (0 for the default, %d)", c.Queue, DefaultQueueSize)
	}
	if len(c.Rules) == 0 {
		add("rules", "a bridge needs at least one rule")
	}
	for i, r := range c.Rules {
		for _, p := range r.check() {
			p.Field = fmt.Sprintf("rules[%d].%s", i, p.Field)
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		ps = append(ps, c.loops(remote)...)
	}
	return ps
}

func (r Rule) check() []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch r.Direction {
	case Out, In, Both:
	case "":
		add("direction", "missing direction: give out, in or both")
	default:
		add("direction", "unknown direction %q: give out (local to remote), in (remote to local) or both", r.Direction)
	}
	okFilters := true
	for _, f := range []struct{ field, v string }{{"local", r.Local}, {"remote", r.Remote}} {
		if err := checkFilter(f.v); err != nil {
			add(f.field, "%s topic filter %q: %v", f.field, f.v, err)
			okFilters = false
		}
	}
	if okFilters && suffix(r.Local) != suffix(r.Remote) {
		add("remote", "remote filter %q does not map onto local filter %q: after their fixed prefixes (%q and %q) both must end the same way (here %q and %q), e.g. local plant/# and remote site1/plant/#",
			r.Remote, r.Local, message.LiteralPrefix(r.Local), message.LiteralPrefix(r.Remote), suffix(r.Local), suffix(r.Remote))
	}
	if r.QoS > 2 {
		add("qos", "QoS %d: give 0, 1 or 2", r.QoS)
	}
	switch r.Retain {
	case "", RetainKeep, RetainDrop:
	default:
		add("retain", "unknown retain handling %q: give keep (forward the retain flag) or drop (never retain forwarded messages)", r.Retain)
	}
	return ps
}

// checkFilter refuses what a bridge cannot forward faithfully besides
// what MQTT refuses: shared subscriptions (a bridge must see every
// message, and MQTT 5 forbids no-local on them).
func checkFilter(f string) error {
	if f == "" {
		return fmt.Errorf("empty; give a topic filter such as plant/#")
	}
	if err := message.CheckFilter(f); err != nil {
		return err
	}
	if _, _, shared := message.SharedFilter(f); shared {
		return fmt.Errorf("a shared subscription would get only some of the messages; give the filter without $share/GROUP/")
	}
	return nil
}

// loops refuses pairs of rules through which a message the bridge sends
// out could come back in. On MQTT 5 the remote subscriptions carry
// no-local, so nothing comes back; on 3.1.1 (and with the automatic
// protocol, which may fall back to it) any overlap between an outgoing
// rule's remote filter and an incoming one's would bring the bridge's own
// messages back and publish them locally again.
func (c Config) loops(remote client.Protocol) []Problem {
	if remote == client.MQTT5 {
		return nil
	}
	version := "MQTT 3.1.1"
	if remote == client.ProtocolAuto {
		version = "the automatic protocol (which may fall back to MQTT 3.1.1)"
	}
	var ps []Problem
	for i, o := range c.Rules {
		if !o.Direction.out() {
			continue
		}
		for j, in := range c.Rules {
			if !in.Direction.in() || !overlap(o.Remote, in.Remote) {
				continue
			}
			msg := ""
			if i == j {
				msg = fmt.Sprintf("%s would loop: it sends local %s to remote %s and subscribes to remote %s, so with %s, which has no no-local subscriptions, every message it sends comes back and is published locally again; use separate out and in rules whose remote filters do not overlap (e.g. out to site1/up/#, in from site1/down/#), or set the connection to MQTT 5",
					o.label(i), o.Local, o.Remote, in.Remote, version)
			} else {
				msg = fmt.Sprintf("%s and %s would loop: %s sends to remote %s and %s subscribes to remote %s, which overlap, so with %s, which has no no-local subscriptions, messages sent out come back in; make the remote filters disjoint, or set the connection to MQTT 5",
					o.label(i), in.label(j), o.label(i), o.Remote, in.label(j), in.Remote, version)
			}
			ps = append(ps, Problem{Field: fmt.Sprintf("rules[%d].remote", j), Msg: msg})
		}
	}
	return ps
}

func (c Config) queueSize() int {
	if c.Queue == 0 {
		return DefaultQueueSize
	}
	return c.Queue
}
