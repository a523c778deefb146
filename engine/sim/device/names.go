package device

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// knownNames are the state keys and variables a profile's expressions
// may read. state and vars are maps, so expr itself accepts any name and a
// misspelt one (state.setpont) reads as nil at run time: the device then
// sends null, or a condition is silently false. The compiler checks the
// names instead.
type knownNames struct {
	state, vars map[string]bool
}

// namesOf is what p declares: its initial state, every key a handler
// sets, and its variables.
func namesOf(p *scenario.Profile) knownNames {
	k := knownNames{state: map[string]bool{}, vars: map[string]bool{}}
	for name := range p.State {
		k.state[name] = true
	}
	for _, h := range p.Handlers {
		for _, a := range h.Actions {
			for name := range a.Set {
				k.state[name] = true
			}
		}
	}
	for _, v := range p.Vars {
		k.vars[v.Name] = true
	}
	return k
}

// checkNames reports each state.x and vars.x in the expression src that
// the profile does not declare.
func (c *profileCompiler) checkNames(at scenario.Pos, what, src string) {
	tree, err := parser.Parse(src)
	if err != nil {
		return // compiling it reports the syntax
	}
	v := &nameVisitor{known: c.names}
	ast.Walk(&tree.Node, v)
	for _, m := range v.missing {
		c.errorf(at, "%s: %s", what, m)
	}
}

type nameVisitor struct {
	known   knownNames
	missing []string
}

func (v *nameVisitor) Visit(n *ast.Node) {
	m, ok := (*n).(*ast.MemberNode)
	if !ok {
		return
	}
	root, ok1 := m.Node.(*ast.IdentifierNode)
	prop, ok2 := m.Property.(*ast.StringNode)
	if !ok1 || !ok2 {
		return
	}
	var set map[string]bool
	var where string
	switch root.Value {
	case "state":
		set, where = v.known.state, "state: (or set by a handler)"
	case "vars":
		set, where = v.known.vars, "vars:"
	default:
		return
	}
	if set[prop.Value] {
		return
	}
	msg := fmt.Sprintf("%s.%s is not declared under the profile's %s", root.Value, prop.Value, where)
	names := slices.Sorted(maps.Keys(set))
	switch best := closest(prop.Value, names); {
	case best != "":
		msg += fmt.Sprintf("; did you mean %s.%s?", root.Value, best)
	case len(names) > 0:
		msg += "; it has " + strings.Join(names, ", ")
	default:
		msg += "; add it there (it reads as null otherwise)"
	}
	v.missing = append(v.missing, msg)
}

// exprsIn lists the expressions of a field: its own expr and any of its
// generator's numbers given as an expression.
func exprsIn(f scenario.Field) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			if n, ok := v.Interface().(scenario.Number); ok {
				if n.Expr != "" {
					out = append(out, n.Expr)
				}
				return
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k))
			}
		}
	}
	walk(reflect.ValueOf(f))
	if f.Expr != "" {
		out = append(out, f.Expr)
	}
	return out
}
