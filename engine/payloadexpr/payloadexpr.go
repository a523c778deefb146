// Package payloadexpr holds what every expression a user writes over
// payload fields needs from expr-lang/expr (the capture's --where
// conditions, the simulator's computed fields): payload fields are
// variables, and a field may be named like one of expr's builtin
// functions (count, max, len, all, sum…), common in IoT payloads.
package payloadexpr

import (
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/parser"
)

// Shadowing returns the options that let src name a variable like one
// of expr's builtins: expr would read `count > 3` as its count function
// and refuse it. A call such as count(…) keeps the function.
func Shadowing(src string) []expr.Option {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil // Compile reports it
	}
	v := &identifiers{}
	ast.Walk(&tree.Node, v)
	var opts []expr.Option
	for _, name := range v.builtins {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	return opts
}

type identifiers struct{ builtins []string }

func (v *identifiers) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok {
		if _, ok := builtin.Index[id.Value]; ok {
			v.builtins = append(v.builtins, id.Value)
		}
	}
}
