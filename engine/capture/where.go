package capture

import (
	"encoding/json"
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/iotstudio/iotstudio/engine/payloadexpr"
)

// Condition is a compiled condition on a JSON payload, such as `temp > 30`,
// `status == "alarm"` or `battery.level < 10 && !charging`: a JSON object's
// fields are its variables, and `payload` is the whole decoded payload (so
// `payload > 20` works for a bare number). Expressions are expr-lang/expr
// (https://expr-lang.org), compiled once per query.
type Condition struct {
	src  string
	prog *vm.Program
}

// CompileCondition parses src. The error shows where it is wrong, with a
// caret under the offending position.
func CompileCondition(src string) (*Condition, error) {
	opts := append([]expr.Option{expr.AsBool(), expr.AllowUndefinedVariables()}, payloadexpr.Shadowing(src)...)
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, fmt.Errorf("condition %q is not valid: %w", src, err)
	}
	return &Condition{src: src, prog: prog}, nil
}

// String returns the condition as written.
func (c *Condition) String() string { return c.src }

// Match reports whether payload satisfies the condition. A payload that is
// not JSON, or on which the condition cannot be evaluated (a field of the
// wrong type, a missing field compared with a number), does not match.
func (c *Condition) Match(payload []byte) bool {
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return false
	}
	env := map[string]any{}
	if obj, ok := v.(map[string]any); ok {
		for k, x := range obj {
			env[k] = x
		}
	}
	env["payload"] = v
	out, err := expr.Run(c.prog, env)
	if err != nil {
		return false
	}
	ok, _ := out.(bool)
	return ok
}
