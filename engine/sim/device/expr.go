package device

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// exprEnv is what a handler's expressions (`if`, `set: =...`) see. A
// struct rather than a map so that expr checks names when compiling (a
// typo in `stat.mode` is an error at load, not a silent false at run time)
// while `payload` stays dynamic.
type exprEnv struct {
	Payload any            `expr:"payload"` // decoded JSON, else the text
	Topic   string         `expr:"topic"`
	State   map[string]any `expr:"state"`
	Vars    map[string]any `expr:"vars"`
	ID      string         `expr:"id"`
	Index   int            `expr:"index"`
	Now     time.Time      `expr:"now"`
}

func compileExpr(src string, asBool bool) (*vm.Program, error) {
	opts := []expr.Option{expr.Env(exprEnv{})}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	p, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, fmt.Errorf("expression %q is not valid (names: payload, topic, state, vars, id, index, now): %w", src, err)
	}
	return p, nil
}

// runExpr evaluates p; integers come back as int64, the type counters and
// JSON-free state use, so state compares the same whichever way it was set.
func runExpr(p *vm.Program, env *exprEnv) (any, error) {
	v, err := expr.Run(p, env)
	if i, ok := v.(int); ok {
		return int64(i), err
	}
	return v, err
}

// decodePayload is a command payload as handlers see it: JSON when it
// parses, else the text.
func decodePayload(b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err == nil {
		return v
	}
	return string(b)
}

// jsonPath is a compiled path into a decoded JSON value: $, $.a.b,
// $.list[0], $["a key"].
type jsonPath []pathStep

type pathStep struct {
	key   string
	index int // when key is ""
}

func parseJSONPath(src string) (jsonPath, error) {
	rest, ok := strings.CutPrefix(src, "$")
	if !ok {
		return nil, fmt.Errorf("JSON path %q must start with $ (e.g. $.value or $.list[0])", src)
	}
	var p jsonPath
	for rest != "" {
		var err error
		var st pathStep
		st, rest, err = nextStep(rest)
		if err != nil {
			return nil, fmt.Errorf("JSON path %q: %w", src, err)
		}
		p = append(p, st)
	}
	return p, nil
}

func nextStep(s string) (pathStep, string, error) {
	switch s[0] {
	case '.':
		s = s[1:]
		end := strings.IndexAny(s, ".[")
		if end < 0 {
			end = len(s)
		}
		if end == 0 {
			return pathStep{}, "", fmt.Errorf("a name is missing after a dot")
		}
		return pathStep{key: s[:end]}, s[end:], nil
	case '[':
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return pathStep{}, "", fmt.Errorf("[ is not closed with ]")
		}
		in := s[1:end]
		if k, err := strconv.Unquote(in); err == nil && k != "" {
			return pathStep{key: k}, s[end+1:], nil
		}
		i, err := strconv.Atoi(in)
		if err != nil || i < 0 {
			return pathStep{}, "", fmt.Errorf("[%s] must be an index from 0 or a quoted name", in)
		}
		return pathStep{index: i}, s[end+1:], nil
	}
	return pathStep{}, "", fmt.Errorf("expected . or [ at %q", s)
}

// get returns the value at p in v, false when it is not there.
func (p jsonPath) get(v any) (any, bool) {
	for _, st := range p {
		switch x := v.(type) {
		case map[string]any:
			if st.key == "" {
				return nil, false
			}
			var ok bool
			if v, ok = x[st.key]; !ok {
				return nil, false
			}
		case []any:
			if st.key != "" || st.index >= len(x) {
				return nil, false
			}
			v = x[st.index]
		default:
			return nil, false
		}
	}
	return v, true
}
