package device

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iotstudio/iotstudio/engine/sim/gen"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// Options are what compiling needs from outside the file.
type Options struct {
	// Replay returns a captured topic's values for replay fields (passed to gen).
	Replay func(topic, path string) ([]any, error)
	// Protocol is the target's MQTT version: 4 (3.1.1) or 5 (the default).
	// 3.1.1 drops properties, and replies go to the handler's reply topic
	// since there is no response topic to answer to.
	Protocol byte
}

// Scenario is a compiled scenario file.
type Scenario struct {
	Fleets []*Fleet
}

// ClientIDs are the client IDs of every device of every fleet, in order.
func (s *Scenario) ClientIDs() []string {
	var out []string
	for _, f := range s.Fleets {
		for i := range f.Count {
			_, cid := f.Identity(i)
			out = append(out, cid)
		}
	}
	return out
}

// Defaults a fleet gets for what its file leaves out.
const (
	DefaultRampPerSecond = 100
	defaultIDTemplate    = "{{.Fleet}}-{{.Index}}"
)

// Compile checks f and compiles its fleets. Fleet profiles are looked up in
// f.Profiles first, then in builtin. The error, when f is bad, is
// scenario.Errors with every problem found, sorted by position; then no
// fleet is returned.
func Compile(f *scenario.File, builtin []scenario.Profile, opt Options) (*Scenario, error) {
	if opt.Protocol == 0 {
		opt.Protocol = 5
	}
	c := &compiler{file: f.Path, gopt: gen.Options{Replay: opt.Replay}}
	own := map[string]*profile{}
	for i := range f.Profiles {
		p := &f.Profiles[i]
		if _, dup := own[p.Name]; dup && p.Name != "" {
			c.errorf(f.Path, p.At, "profile %q is defined twice; give each profile its own name", p.Name)
			continue
		}
		own[p.Name] = c.profile(p, f.Path)
	}
	s := &Scenario{}
	names := map[string]bool{}
	bp := builtinProfiles(builtin)
	for i := range f.Fleets {
		fl := c.fleet(&f.Fleets[i], own, bp, opt)
		if fl == nil {
			continue
		}
		if names[fl.Name] {
			c.errorf(f.Path, f.Fleets[i].At, "fleet %q is defined twice; give the second one a name of its own (name: ...)", fl.Name)
		}
		names[fl.Name] = true
		s.Fleets = append(s.Fleets, fl)
	}
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool {
			a, b := c.errs[i].Pos, c.errs[j].Pos
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		return nil, c.errs
	}
	return s, nil
}

type compiler struct {
	file string
	gopt gen.Options
	errs scenario.Errors
}

func (c *compiler) errorf(path string, at scenario.Pos, format string, a ...any) {
	c.errs = append(c.errs, &scenario.Error{Path: path, Pos: at, Msg: fmt.Sprintf(format, a...)})
}

// fleet resolves and checks one fleet; nil when it cannot run at all.
func (c *compiler) fleet(sf *scenario.Fleet, own map[string]*profile, builtin *builtins, opt Options) *Fleet {
	prof := own[sf.Profile]
	if prof == nil {
		prof = c.builtin(builtin, sf.Profile)
	}
	if prof == nil {
		c.errorf(c.file, sf.At, "%s", unknownProfile(sf.Profile, own, builtin.src))
		return nil
	}
	fl := &Fleet{Name: sf.Name, Profile: sf.Profile, Count: sf.Count, Ramp: sf.Ramp, Seed: sf.Seed, prof: prof, opt: opt}
	if fl.Name == "" {
		fl.Name = sf.Profile
	}
	switch {
	case sf.Count < 0:
		c.errorf(c.file, sf.At, "fleet %q: count is %d; it must be 1 or more", fl.Name, sf.Count)
	case sf.Count == 0:
		fl.Count = 1
	}
	if sf.Ramp.PerSecond < 0 || sf.Ramp.Over < 0 {
		c.errorf(c.file, sf.At, "fleet %q: ramp must be positive, e.g. 200/s or 30s", fl.Name)
	}
	if sf.Ramp.PerSecond == 0 && sf.Ramp.Over == 0 {
		fl.Ramp.PerSecond = DefaultRampPerSecond
	}
	c.identity(fl, sf)
	return fl
}

// builtins are the built-in profiles, each compiled once however many
// fleets use it.
type builtins struct {
	src      []scenario.Profile
	compiled map[string]*profile
}

func builtinProfiles(src []scenario.Profile) *builtins {
	return &builtins{src: src, compiled: map[string]*profile{}}
}

func (c *compiler) builtin(b *builtins, name string) *profile {
	if p := b.compiled[name]; p != nil {
		return p
	}
	for i := range b.src {
		if b.src[i].Name == name {
			p := c.profile(&b.src[i], "builtin profile "+name)
			b.compiled[name] = p
			return p
		}
	}
	return nil
}

// identity compiles the ID and client ID templates and checks that they
// render and tell the devices apart.
func (c *compiler) identity(fl *Fleet, sf *scenario.Fleet) {
	idSrc := sf.ID
	if idSrc == "" {
		idSrc = defaultIDTemplate
	}
	var err error
	if fl.id, err = parseTemplate("id", idSrc); err != nil {
		c.errorf(c.file, sf.At, "fleet %q: %v", fl.Name, err)
		return
	}
	if sf.ClientID != "" {
		if fl.clientID, err = parseTemplate("client_id", sf.ClientID); err != nil {
			c.errorf(c.file, sf.At, "fleet %q: %v", fl.Name, err)
			return
		}
	}
	id0, cid0, err := fl.identity(0)
	if err != nil {
		c.errorf(c.file, sf.At, "fleet %q: %v", fl.Name, err)
		return
	}
	if id0 == "" || cid0 == "" {
		c.errorf(c.file, sf.At, "fleet %q: the id or client_id template renders empty; use e.g. %s", fl.Name, defaultIDTemplate)
		return
	}
	if fl.Count > 1 {
		id1, cid1, _ := fl.identity(1)
		if id1 == id0 || cid1 == cid0 {
			c.errorf(c.file, sf.At, "fleet %q: devices 0 and 1 get the same id or client id %q; put {{.Index}} in the template", fl.Name, cid0)
		}
	}
}

// unknownProfile words a missing profile, with the closest name known.
func unknownProfile(name string, own map[string]*profile, builtin []scenario.Profile) string {
	if name == "" {
		return "a fleet needs a profile: the name of one of the file's profiles or a built-in one"
	}
	var known []string
	for n := range own {
		known = append(known, n)
	}
	for _, p := range builtin {
		known = append(known, p.Name)
	}
	sort.Strings(known)
	msg := fmt.Sprintf("unknown profile %q", name)
	if best := closest(name, known); best != "" {
		return msg + fmt.Sprintf("; did you mean %q?", best)
	}
	if len(known) > 0 {
		return msg + "; known profiles: " + strings.Join(known, ", ")
	}
	return msg + "; define it under profiles:"
}

// closest is the known name within a small edit distance of name, if any.
func closest(name string, known []string) string {
	best, bestD := "", len(name)/2+2
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
