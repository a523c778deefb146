package device

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/gen"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// profile is a compiled scenario.Profile, shared by all devices of its
// fleets and never changed after Compile.
type profile struct {
	name     string
	vars     *fieldList
	state    map[string]any
	streams  []*streamSpec
	handlers []*handlerSpec
	life     lifeSpec
	spark    *sparkSpec
	// lists are all field lists of the profile; a device holds one set of
	// generators per list, at the list's id.
	lists []*fieldList
}

// fieldList is an ordered set of fields: a payload, a var block, metrics.
type fieldList struct {
	id    int
	specs []fieldSpec
}

// index is the position of the field named name, -1 if there is none.
func (l *fieldList) index(name string) int {
	for i, s := range l.specs {
		if s.name == name {
			return i
		}
	}
	return -1
}

func (l *fieldList) names() []string {
	out := make([]string, len(l.specs))
	for i, s := range l.specs {
		out[i] = s.name
	}
	return out
}

type fieldSpec struct {
	name  string
	path  string // seeds the field's generator: stable while the profile is
	field scenario.Field
}

// msgSpec is one message a device sends: a stream's, a reply, a publish
// action, a birth or a will.
type msgSpec struct {
	topic   *tmpl // nil for a reply without a topic of its own
	fields  *fieldList
	payload *tmpl // a template payload, which may read .Fields
	raw     []byte
	qos     byte
	retain  bool
	props   *propsSpec
	// jsonSize is the largest JSON payload built from fields so far, the
	// buffer a payload starts with: one allocation per message.
	jsonSize atomic.Int64
}

type propsSpec struct {
	contentType   string
	payloadFormat *byte
	expiry        *uint32
	responseTopic *tmpl
	correlation   *tmpl
	user          []userProp
}

type userProp struct {
	key string
	val *tmpl
}

type streamSpec struct {
	name          string
	every, jitter time.Duration
	off           bool
	msg           *msgSpec
}

// profileCompiler compiles one profile; path names its source in errors.
type profileCompiler struct {
	*compiler
	path  string
	p     *scenario.Profile
	out   *profile
	dry   *tdata // device-like data to try templates on
	names knownNames
}

// errorf reports at at, or at the profile when at is unknown.
func (c *profileCompiler) errorf(at scenario.Pos, format string, a ...any) {
	if at == (scenario.Pos{}) {
		at = c.p.At
	}
	c.compiler.errorf(c.path, at, format, a...)
}

func (c *compiler) profile(p *scenario.Profile, path string) *profile {
	pc := &profileCompiler{compiler: c, path: path, p: p, out: &profile{name: p.Name, state: copyState(p.State)}}
	pc.dry = &tdata{ID: "device-0", Fleet: p.Name, Profile: p.Name, Vars: map[string]any{}, State: pc.out.state, Fields: map[string]any{}}
	if p.Name == "" {
		pc.errorf(p.At, "a profile needs a name (name: ...), which fleets refer to")
	}
	pc.names = namesOf(p)
	pc.out.vars = pc.fields(p.Vars, "vars", p.At)
	pc.dryVars()
	pc.streams()
	pc.handlers()
	pc.lifecycle()
	pc.sparkplug()
	return pc.out
}

// dryVars draws a device's variables for the trial runs of the topic
// templates, which may index into them ({{index .Vars.sites 0}}).
func (c *profileCompiler) dryVars() {
	v := c.dry.Vars
	s := &gen.Sample{Fields: v, Vars: v, State: c.dry.State, ID: c.dry.ID}
	for _, spec := range c.out.vars.specs {
		if g, err := gen.New(spec.field, deriveSeed(0, 0, spec.path), c.gopt); err == nil {
			v[spec.name] = g.Next(s)
		}
	}
}

// fields compiles fs; path prefixes each field's seed path.
func (c *profileCompiler) fields(fs scenario.Fields, path string, at scenario.Pos) *fieldList {
	l := &fieldList{id: len(c.out.lists)}
	c.out.lists = append(c.out.lists, l)
	seen := map[string]bool{}
	for _, nf := range fs {
		fat := nf.Field.At
		if fat == (scenario.Pos{}) {
			fat = at
		}
		switch {
		case nf.Name == "":
			c.errorf(fat, "%s: a field needs a name", path)
			continue
		case seen[nf.Name]:
			c.errorf(fat, "%s: field %q is given twice", path, nf.Name)
			continue
		}
		seen[nf.Name] = true
		if _, err := gen.New(nf.Field, 0, c.gopt); err != nil {
			c.errorf(fat, "field %q: %v", nf.Name, err)
			continue
		}
		for _, src := range exprsIn(nf.Field) {
			c.checkNames(fat, fmt.Sprintf("field %q", nf.Name), src)
		}
		l.specs = append(l.specs, fieldSpec{name: nf.Name, path: path + "/" + nf.Name, field: nf.Field})
	}
	return l
}

func (c *profileCompiler) streams() {
	seen := map[string]bool{}
	for i := range c.p.Streams {
		s := &c.p.Streams[i]
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("stream%d", i+1)
		}
		if seen[name] {
			c.errorf(s.At, "stream %q is given twice; handlers switch streams by name, so each needs its own", name)
		}
		seen[name] = true
		st := &streamSpec{name: name, every: time.Duration(s.Every), jitter: time.Duration(s.Jitter), off: s.Off}
		if st.every <= 0 {
			c.errorf(s.At, "stream %q: every must be a positive interval, e.g. every: 1s", name)
		}
		if st.jitter < 0 || st.jitter >= st.every && st.every > 0 {
			c.errorf(s.At, "stream %q: jitter must be at least 0 and less than every (%v)", name, st.every)
		}
		what := fmt.Sprintf("stream %q", name)
		if len(s.Fields) == 0 && s.Template == "" && s.Raw == nil {
			// An empty payload on a retained topic would delete the retained
			// message, so an empty payload must be asked for.
			c.errorf(s.At, "stream %q has no payload: give fields, a template or raw (raw: {text: \"\"} for an empty one)", name)
		}
		st.msg = c.message(s.At, what, "streams/"+name, s.Topic, true, s.Fields, s.Template, s.Raw)
		st.msg.qos = c.qos(s.At, what, s.QoS)
		st.msg.retain = s.Retain
		st.msg.props = c.properties(s.At, what, s.Properties)
		c.out.streams = append(c.out.streams, st)
	}
}

// message compiles a message's topic and payload. A template payload
// may read the fields; raw bytes exclude both.
func (c *profileCompiler) message(at scenario.Pos, what, path, topic string, needTopic bool, fields scenario.Fields, template string, raw *scenario.Raw) *msgSpec {
	m := &msgSpec{}
	if topic != "" || needTopic {
		m.topic = c.topic(at, what, topic)
	}
	m.fields = c.fields(fields, path+"/fields", at)
	if template != "" {
		var err error
		if m.payload, err = parseTemplate("payload", template); err != nil {
			c.errorf(at, "%s: %v", what, err)
		}
	}
	if raw != nil {
		if len(fields) > 0 || template != "" {
			c.errorf(at, "%s: give the payload as fields, template or raw, not several", what)
		}
		m.raw = c.raw(at, what, raw)
	}
	return m
}

func (c *profileCompiler) raw(at scenario.Pos, what string, r *scenario.Raw) []byte {
	n := 0
	for _, s := range []string{r.Hex, r.Base64, r.Text} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		c.errorf(at, "%s: raw takes one of hex, base64 or text", what)
		return nil
	}
	switch {
	case r.Hex != "":
		b, err := hex.DecodeString(r.Hex)
		if err != nil {
			c.errorf(at, "%s: raw hex is not hexadecimal (%v); write bytes as pairs of digits, e.g. 0a1bff", what, err)
		}
		return b
	case r.Base64 != "":
		b, err := base64.StdEncoding.DecodeString(r.Base64)
		if err != nil {
			c.errorf(at, "%s: raw base64 does not decode (%v)", what, err)
		}
		return b
	}
	return []byte(r.Text)
}

// topic compiles a topic name template and tries it on device 0.
func (c *profileCompiler) topic(at scenario.Pos, what, src string) *tmpl {
	if src == "" {
		c.errorf(at, "%s: a topic is missing (topic: ...)", what)
		return nil
	}
	t, err := parseTemplate("topic", src)
	if err != nil {
		c.errorf(at, "%s: %v", what, err)
		return nil
	}
	name, err := t.render(c.dry)
	if err != nil {
		c.errorf(at, "%s: topic template %q: %v", what, src, err)
		return nil
	}
	if _, err := message.ValidateTopicName(name); err != nil {
		c.errorf(at, "%s: topic %q: %v", what, src, err)
	}
	return t
}

func (c *profileCompiler) qos(at scenario.Pos, what string, q byte) byte {
	if q > 2 {
		c.errorf(at, "%s: qos is %d; it must be 0, 1 or 2", what, q)
	}
	return q
}

func (c *profileCompiler) properties(at scenario.Pos, what string, p *scenario.Properties) *propsSpec {
	if p == nil {
		return nil
	}
	ps := &propsSpec{contentType: p.ContentType, payloadFormat: p.PayloadFormat}
	if p.PayloadFormat != nil && *p.PayloadFormat > 1 {
		c.errorf(at, "%s: payload_format is %d; it must be 0 (bytes) or 1 (UTF-8)", what, *p.PayloadFormat)
	}
	if d := time.Duration(p.MessageExpiry); d != 0 {
		if d < time.Second {
			c.errorf(at, "%s: message_expiry is %v; MQTT counts it in whole seconds, so give 1s or more", what, d)
		}
		s := uint32(d / time.Second)
		ps.expiry = &s
	}
	var err error
	if p.ResponseTopic != "" {
		ps.responseTopic = c.topic(at, what+" response_topic", p.ResponseTopic)
	}
	if p.CorrelationData != "" {
		if ps.correlation, err = parseTemplate("correlation_data", p.CorrelationData); err != nil {
			c.errorf(at, "%s: %v", what, err)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.User)) {
		t, err := parseTemplate("user property "+k, p.User[k])
		if err != nil {
			c.errorf(at, "%s: %v", what, err)
			continue
		}
		ps.user = append(ps.user, userProp{key: k, val: t})
	}
	return ps
}

// deepCopy copies the maps and lists of a YAML value, so that devices
// never share (and race on) their initial state.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

// copyState is a device's own copy of a state map, never nil so that
// handlers can set keys in it.
func copyState(s map[string]any) map[string]any {
	m := make(map[string]any, len(s))
	for k, v := range s {
		m[k] = deepCopy(v)
	}
	return m
}
