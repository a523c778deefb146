package gen

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/iotstudio/iotstudio/engine/payloadexpr"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// program is a compiled expression over a sample: the earlier fields by
// name (and as `fields`), then `state`, `vars`, `id`, `index`, `seq` and
// `now`, which win over a field of the same name. It keeps its VM and
// environment between samples, which saves allocating them per message.
type program struct {
	src  string
	prog *vm.Program
	vm   vm.VM
	env  map[string]any
	// uses says which sample names the source mentions: boxing id, seq and
	// now into the environment allocates, so only those read are set.
	uses map[string]bool
}

// envTypes declares the names every sample has, so `now` is the sample's
// time rather than expr's builtin now() (the wall clock, which would make
// previews and tests differ run to run). Other names are earlier fields,
// unknown until a sample arrives: a misspelt one reads as nil.
var envTypes = map[string]any{
	"fields": map[string]any{},
	"state":  map[string]any{},
	"vars":   map[string]any{},
	"id":     "",
	"index":  0,
	"seq":    uint64(0),
	"now":    time.Time{},
}

func compile(src string) (*program, error) {
	c, err := compiled.get(src)
	if err != nil {
		return nil, err
	}
	return &program{src: src, prog: c.prog, env: make(map[string]any, 8), uses: c.uses}, nil
}

// compiledExpr is what every device's copy of an expression shares: the
// program is read-only once compiled, so one serves all VMs.
type compiledExpr struct {
	prog *vm.Program
	uses map[string]bool
	err  error
}

// programCache compiles each expression once for a whole fleet: compiling
// is about half a millisecond, paid by every device otherwise (seconds of
// CPU for a ramp of 10,000). It is emptied when full, because an editor
// validating as the user types compiles a new source per keystroke.
type programCache struct {
	mu sync.Mutex
	m  map[string]*compiledExpr
}

const programCacheSize = 512

var compiled = &programCache{m: map[string]*compiledExpr{}}

func (c *programCache) get(src string) (*compiledExpr, error) {
	c.mu.Lock()
	e, ok := c.m[src]
	c.mu.Unlock()
	if !ok {
		e = compileExpr(src)
		c.mu.Lock()
		if len(c.m) >= programCacheSize {
			clear(c.m)
		}
		c.m[src] = e
		c.mu.Unlock()
	}
	return e, e.err
}

func compileExpr(src string) *compiledExpr {
	opts := append([]expr.Option{expr.Env(envTypes), expr.AllowUndefinedVariables()}, payloadexpr.Shadowing(src)...)
	p, err := expr.Compile(src, opts...)
	if err != nil {
		return &compiledExpr{err: fmt.Errorf("expression %q is not valid: %w", src, err)}
	}
	uses := map[string]bool{}
	for name := range envTypes {
		uses[name] = strings.Contains(src, name)
	}
	return &compiledExpr{prog: p, uses: uses}
}

func (p *program) run(s *Sample) (any, error) {
	clear(p.env)
	for k, v := range s.Fields {
		p.env[k] = v
	}
	p.env["fields"] = s.Fields
	p.env["state"] = s.State
	p.env["vars"] = s.Vars
	if p.uses["id"] {
		p.env["id"] = s.ID
	}
	if p.uses["index"] {
		p.env["index"] = s.Index
	}
	if p.uses["seq"] {
		p.env["seq"] = s.Seq
	}
	if p.uses["now"] {
		p.env["now"] = s.Now
	}
	out, err := p.vm.Run(p.prog, p.env)
	if err != nil {
		return nil, fmt.Errorf("expression %q failed: %w", p.src, err)
	}
	return out, nil
}

// exprGen is a computed field. A sample on which the expression fails
// yields nil and is counted (see Errors).
type exprGen struct {
	failures
	p *program
}

func newExpr(src string) (*exprGen, error) {
	p, err := compile(src)
	if err != nil {
		return nil, err
	}
	return &exprGen{p: p}, nil
}

func (e *exprGen) Next(s *Sample) any {
	v, err := e.p.run(s)
	if err != nil {
		e.fail(err)
		return nil
	}
	return normalize(v)
}

// approach moves from start towards a target, halving the distance every
// half-life of sample time. The target may be an expression followed
// sample by sample (a thermostat's setpoint in state); when it fails the
// previous target is kept and the failure counted.
type approach struct {
	failures
	v, target float64
	expr      *program
	halfLife  float64 // seconds
	last      time.Time
	started   bool
}

func newApproach(a *scenario.Approach) (*approach, error) {
	if time.Duration(a.HalfLife) <= 0 {
		return nil, fmt.Errorf("half_life %v must be positive, e.g. 5m", time.Duration(a.HalfLife))
	}
	g := &approach{v: a.Start, target: a.Target.Value, halfLife: time.Duration(a.HalfLife).Seconds()}
	if a.Target.Expr != "" {
		p, err := compile(a.Target.Expr)
		if err != nil {
			return nil, fmt.Errorf("target: %w", err)
		}
		g.expr = p
		g.target = a.Start // until the expression first gives a number
	}
	return g, nil
}

func (a *approach) Next(s *Sample) any {
	if a.expr != nil {
		out, err := a.expr.run(s)
		if err == nil {
			if x, ok := toFloat(out); ok {
				a.target = x
			} else {
				err = fmt.Errorf("target %q gave %v, not a number", a.expr.src, out)
			}
		}
		if err != nil {
			a.fail(err)
		}
	}
	if !a.started {
		a.started, a.last = true, s.Now
		return a.v
	}
	dt := s.Now.Sub(a.last).Seconds()
	a.last = s.Now
	if dt > 0 {
		a.v = a.target + (a.v-a.target)*math.Exp2(-dt/a.halfLife)
	}
	return a.v
}

// calculus integrates or derives an earlier field over the sample time
// between messages (not the nominal interval, so jitter and lag are
// accounted for). Integration uses the trapezoid rule.
type calculus struct {
	failures
	integrate bool
	of        string
	scale     float64
	total     float64 // integral so far, or the last rate
	prev      float64
	prevAt    time.Time
	started   bool
}

func newCalculus(c *scenario.Calculus, integrate bool) (*calculus, error) {
	if c.Of == "" {
		return nil, fmt.Errorf("of is empty; name an earlier numeric field of the same payload, e.g. of: speed")
	}
	if math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) {
		return nil, fmt.Errorf("scale %v must be a finite number", c.Scale)
	}
	g := &calculus{integrate: integrate, of: c.Of, scale: c.Scale}
	if g.scale == 0 {
		g.scale = 1
	}
	return g, nil
}

// Next gives the integral so far (0 at the first sample) or the rate of
// change (0 until a second sample). When the field is missing or not a
// number the sample is counted as an error and the integral keeps its
// value (an odometer does not vanish); a rate yields nil.
func (c *calculus) Next(s *Sample) any {
	x, ok := toFloat(s.Fields[c.of])
	if !ok {
		c.fail(fmt.Errorf("field %q is missing or not a number (got %v); it must come before this field in the payload", c.of, s.Fields[c.of]))
		if c.integrate {
			return c.total
		}
		return nil
	}
	if !c.started {
		c.started, c.prev, c.prevAt = true, x, s.Now
		return c.total
	}
	dt := s.Now.Sub(c.prevAt).Seconds()
	if dt > 0 {
		if c.integrate {
			c.total += (c.prev + x) / 2 * dt * c.scale
		} else {
			c.total = (x - c.prev) / dt * c.scale
		}
		c.prev, c.prevAt = x, s.Now
	}
	return c.total
}

// replay plays captured values in order, looping at the end.
type replay struct {
	values []any
	i      int
}

func newReplay(r *scenario.Replay, opt Options) (*replay, error) {
	if r.Topic == "" {
		return nil, fmt.Errorf("topic is empty; name a captured topic, e.g. topic: plant/line1/temp")
	}
	if opt.Replay == nil {
		return nil, fmt.Errorf("no capture to replay topic %q from; run with the capture's data directory", r.Topic)
	}
	values, err := opt.Replay(r.Topic, r.Path)
	if err != nil {
		return nil, fmt.Errorf("reading topic %q from the capture: %w", r.Topic, err)
	}
	if len(values) == 0 {
		where := ""
		if r.Path != "" {
			where = fmt.Sprintf(" at %s", r.Path)
		}
		return nil, fmt.Errorf("the capture has no values of topic %q%s; capture it first or check the topic and path", r.Topic, where)
	}
	return &replay{values: values}, nil
}

func (r *replay) Next(*Sample) any {
	v := r.values[r.i]
	r.i = (r.i + 1) % len(r.values)
	return v
}
