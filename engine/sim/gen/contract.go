// Package gen makes the values of a scenario's fields: one Generator per
// scenario.Field, seeded per device so that a seed replays the same values.
//
// STAND-IN: this file holds only the contract's exported API (see
// notes/sim-contract.md) with const, counter and expr, so that
// engine/sim/device builds and is tested on its own branch. The gen
// branch replaces this whole file at merge.
package gen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// Sample is what a generator may read when it makes a value.
type Sample struct {
	Now    time.Time
	Seq    uint64         // this stream's message number, from 0
	Fields map[string]any // values of the fields before this one in the same payload
	State  map[string]any // the device's state (read-only for generators)
	Vars   map[string]any
	ID     string
	Index  int
}

// Generator makes one field's values, one per Next.
type Generator interface{ Next(s *Sample) any }

// Options are what generators need from outside the file.
type Options struct {
	// Replay returns the captured values of a topic (payload, or the JSON
	// value at path), oldest first.
	Replay func(topic, path string) ([]any, error)
}

// Object is an ordered JSON object.
type Object []KV

// KV is one member of an Object.
type KV struct {
	Key   string
	Value any
}

// MarshalJSON keeps the members in order.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(kv.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", kv.Key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// New returns f's generator.
func New(f scenario.Field, seed uint64, opt Options) (Generator, error) {
	var g Generator
	switch {
	case f.Counter != nil:
		step := f.Counter.Step
		if step == 0 {
			step = 1
		}
		g = &counter{next: f.Counter.Start, c: *f.Counter, step: step}
	case f.Expr != "":
		p, err := expr.Compile(f.Expr)
		if err != nil {
			return nil, fmt.Errorf("expression %q is not valid: %w", f.Expr, err)
		}
		g = exprGen{p}
	case f.Const != nil:
		g = constant{f.Const}
	default:
		return nil, errors.New("a field needs a generator, e.g. const, counter or expr")
	}
	if f.Precision != nil {
		g = rounded{g, math.Pow10(*f.Precision)}
	}
	return g, nil
}

// Kinds lists the generator keys as written in YAML.
func Kinds() []string { return []string{"const", "counter", "expr"} }

type constant struct{ v any }

func (c constant) Next(*Sample) any { return c.v }

type counter struct {
	c    scenario.Counter
	step int64
	next int64
}

func (c *counter) Next(*Sample) any {
	v := c.next
	c.next += c.step
	if c.c.Wrap != 0 && c.next >= c.c.Wrap {
		c.next = c.c.Start
	}
	return v
}

type exprGen struct{ p *vm.Program }

func (e exprGen) Next(s *Sample) any {
	env := make(map[string]any, len(s.Fields)+6)
	for k, v := range s.Fields {
		env[k] = v
	}
	env["state"], env["vars"], env["id"], env["index"], env["seq"], env["now"] = s.State, s.Vars, s.ID, s.Index, s.Seq, s.Now
	v, err := expr.Run(e.p, env)
	if err != nil {
		return nil
	}
	return v
}

type rounded struct {
	g     Generator
	scale float64
}

func (r rounded) Next(s *Sample) any {
	v := r.g.Next(s)
	if f, ok := v.(float64); ok {
		return math.Round(f*r.scale) / r.scale
	}
	return v
}
