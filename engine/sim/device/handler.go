package device

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

type handlerSpec struct {
	name    string
	filter  *tmpl
	qos     byte
	actions []*actionSpec
}

type actionKind int

const (
	actSet actionKind = iota
	actReply
	actPublish
	actDelay
	actFail
	actStream
	actOffline
)

type actionSpec struct {
	kind    actionKind
	cond    *vm.Program // nil: always
	sets    []setSpec
	msg     *msgSpec // reply, publish, or a failure's reply
	delay   time.Duration
	percent float64
	stream  int
	on      bool
	path    string // seeds the action's randomness
}

// setSpec assigns one state key: from the command's payload at path, or
// the value of prog.
type setSpec struct {
	key  string
	path jsonPath
	prog *vm.Program
}

func (c *profileCompiler) handlers() {
	for i := range c.p.Handlers {
		h := &c.p.Handlers[i]
		name := h.Name
		if name == "" {
			name = fmt.Sprintf("handler%d", i+1)
		}
		what := fmt.Sprintf("handler %q", name)
		hs := &handlerSpec{name: name, qos: c.qos(h.At, what, h.QoS)}
		hs.filter = c.filter(h.At, what, h.Filter)
		if len(h.Actions) == 0 {
			c.errorf(h.At, "%s has no actions; give a list, e.g. actions: [{set: {value: $.value}}]", what)
		}
		for j := range h.Actions {
			a := &h.Actions[j]
			at := a.At
			if at == (scenario.Pos{}) {
				at = h.At
			}
			hs.actions = append(hs.actions, c.action(at, fmt.Sprintf("%s action %d", what, j+1), fmt.Sprintf("handlers/%s/%d", name, j), a))
		}
		c.out.handlers = append(c.out.handlers, hs)
	}
}

// filter compiles a topic filter template and tries it on device 0.
func (c *profileCompiler) filter(at scenario.Pos, what, src string) *tmpl {
	t, err := parseTemplate("filter", src)
	if err != nil {
		c.errorf(at, "%s: %v", what, err)
		return nil
	}
	f, err := t.render(c.dry)
	if err != nil {
		c.errorf(at, "%s: filter template %q: %v", what, src, err)
		return nil
	}
	if err := message.CheckFilter(f); err != nil {
		c.errorf(at, "%s: %v", what, err)
	}
	return t
}

func (c *profileCompiler) action(at scenario.Pos, what, path string, a *scenario.Action) *actionSpec {
	as := &actionSpec{path: path}
	if a.If != "" {
		var err error
		if as.cond, err = compileExpr(a.If, true); err != nil {
			c.errorf(at, "%s: if: %v", what, err)
		} else {
			c.checkNames(at, what+": if", a.If)
		}
	}
	var kinds []string
	if a.Set != nil {
		kinds = append(kinds, "set")
		as.kind, as.sets = actSet, c.sets(at, what, a.Set)
	}
	if a.Reply != nil {
		kinds = append(kinds, "reply")
		as.kind, as.msg = actReply, c.reply(at, what+" reply", path+"/reply", a.Reply)
	}
	if p := a.Publish; p != nil {
		kinds = append(kinds, "publish")
		as.kind = actPublish
		as.msg = c.message(at, what+" publish", path+"/publish", p.Topic, true, p.Fields, p.Payload, nil)
		as.msg.qos, as.msg.retain = c.qos(at, what, p.QoS), p.Retain
	}
	if a.Delay != 0 {
		kinds = append(kinds, "delay")
		as.kind, as.delay = actDelay, time.Duration(a.Delay)
		if as.delay < 0 {
			c.errorf(at, "%s: delay must be positive, e.g. delay: 500ms", what)
		}
	}
	if f := a.Fail; f != nil {
		kinds = append(kinds, "fail")
		as.kind, as.percent = actFail, f.Percent
		if f.Percent < 0 || f.Percent > 100 {
			c.errorf(at, "%s: fail percent is %v; it must be between 0 and 100", what, f.Percent)
		}
		if f.Reply != nil {
			as.msg = c.reply(at, what+" fail reply", path+"/fail", f.Reply)
		}
	}
	if s := a.Stream; s != nil {
		kinds = append(kinds, "stream")
		as.kind, as.on, as.stream = actStream, s.On, c.streamIndex(s.Name)
		if as.stream < 0 {
			c.errorf(at, "%s: no stream is named %q; streams: %s", what, s.Name, strings.Join(c.streamNames(), ", "))
		}
	}
	if a.Offline != 0 {
		kinds = append(kinds, "offline")
		as.kind = actOffline
		as.delay = time.Duration(a.Offline)
		if as.delay < 0 {
			c.errorf(at, "%s: offline must be positive, e.g. offline: 30s", what)
		}
	}
	switch len(kinds) {
	case 0:
		c.errorf(at, "%s does nothing; give one of set, reply, publish, delay, fail, stream, offline", what)
	case 1:
	default:
		c.errorf(at, "%s has %s; an action does one thing, so make them separate actions in the order you want", what, strings.Join(kinds, " and "))
	}
	return as
}

func (c *profileCompiler) sets(at scenario.Pos, what string, m map[string]string) []setSpec {
	var out []setSpec
	for _, k := range slices.Sorted(maps.Keys(m)) {
		src := m[k]
		s := setSpec{key: k}
		var err error
		switch {
		case strings.HasPrefix(src, "="):
			if s.prog, err = compileExpr(src[1:], false); err == nil {
				c.checkNames(at, fmt.Sprintf("%s: set %s", what, k), src[1:])
			}
		case strings.HasPrefix(src, "$"):
			s.path, err = parseJSONPath(src)
		default:
			err = fmt.Errorf("%q is neither a JSON path into the command ($.value) nor an expression (=state.count + 1); for a fixed value write =%q", src, src)
		}
		if err != nil {
			c.errorf(at, "%s: set %s: %v", what, k, err)
			continue
		}
		out = append(out, s)
	}
	return out
}

// reply compiles a reply; its topic is optional, since an MQTT 5 command
// carries its own response topic.
func (c *profileCompiler) reply(at scenario.Pos, what, path string, r *scenario.Reply) *msgSpec {
	m := c.message(at, what, path, r.Topic, false, r.Fields, r.Payload, nil)
	m.qos = c.qos(at, what, r.QoS)
	return m
}

// streamIndex is the index of the stream named name among the device's
// streams (Device.Streams: the profile's, then the Sparkplug node's), -1
// if there is none.
func (c *profileCompiler) streamIndex(name string) int {
	for i, n := range c.streamNames() {
		if n == name {
			return i
		}
	}
	return -1
}

func (c *profileCompiler) streamNames() []string {
	var n []string
	for _, s := range c.out.streams {
		n = append(n, s.name)
	}
	n = append(n, c.p.Sparkplug.StreamNames()...)
	if len(n) == 0 {
		return []string{"(none)"}
	}
	return n
}
