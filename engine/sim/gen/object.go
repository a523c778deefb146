package gen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// Object is a JSON object that keeps its keys in order: a payload's
// fields as the scenario lists them (a map would sort them).
type Object []KV

// KV is one key of an Object.
type KV struct {
	Key   string
	Value any
}

// Get returns the value of key, and whether it is there.
func (o Object) Get(key string) (any, bool) {
	for _, kv := range o {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the keys in order.
func (o Object) MarshalJSON() ([]byte, error) { return o.AppendJSON(nil) }

// AppendJSON appends o as JSON to dst. It writes the values generators
// make (numbers, strings, bools, nested Objects) without reflection, which
// is most of the cost of a payload; other values go through encoding/json.
// NaN and infinities (an expression dividing by zero) are written as null
// rather than failing the whole message.
func (o Object) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, '{')
	for i, kv := range o {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, kv.Key)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, kv.Value); err != nil {
			return nil, fmt.Errorf("field %q: %w", kv.Key, err)
		}
	}
	return append(dst, '}'), nil
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case float64:
		return appendFloat(dst, x), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case string:
		return appendString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case Object:
		return x.AppendJSON(dst)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// appendFloat formats as encoding/json does, so payloads read the same
// whichever path wrote them.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// FieldError is a field of an object that New could not compile. Path
// leads to it from the object ("pos.lat"), At is its place in the file,
// so the caller can point at the field itself rather than the object.
type FieldError struct {
	Path string
	At   scenario.Pos
	Err  error
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// fieldError says which field failed, keeping the innermost position when
// the field is itself an object.
func fieldError(nf scenario.NamedField, err error) error {
	var inner *FieldError
	if errors.As(err, &inner) {
		return &FieldError{Path: nf.Name + "." + inner.Path, At: inner.At, Err: inner.Err}
	}
	return &FieldError{Path: nf.Name, At: nf.Field.At, Err: err}
}

// Map is o as nested maps, for text/template payloads ({{.Fields.pos.lat}}).
func (o Object) Map() map[string]any {
	m := make(map[string]any, len(o))
	for _, kv := range o {
		if inner, ok := kv.Value.(Object); ok {
			m[kv.Key] = inner.Map()
		} else {
			m[kv.Key] = kv.Value
		}
	}
	return m
}

// object is a nested set of fields; its value is an Object. Its fields
// read the fields before them both outside and inside the object, so a
// computed field inside can use a sibling.
type object struct {
	names   []string
	gens    []Generator
	reads   bool           // some field reads earlier fields
	scratch map[string]any // the fields a nested field sees, reused between samples
	child   Sample         // the sample nested fields get, reused so it is not allocated per message
}

func newObject(fs scenario.Fields, seed uint64, opt Options) (*object, error) {
	o := &object{}
	seen := map[string]bool{}
	for _, nf := range fs {
		if nf.Name == "" {
			return nil, &FieldError{At: nf.Field.At, Err: fmt.Errorf("a field has no name")}
		}
		if seen[nf.Name] {
			return nil, &FieldError{Path: nf.Name, At: nf.Field.At, Err: fmt.Errorf("field %q is given twice", nf.Name)}
		}
		seen[nf.Name] = true
		g, err := New(nf.Field, childSeed(seed, nf.Name), opt)
		if err != nil {
			return nil, fieldError(nf, err)
		}
		o.names = append(o.names, nf.Name)
		o.gens = append(o.gens, g)
		f := nf.Field
		if f.Expr != "" || f.Integrate != nil || f.Derive != nil || f.Object != nil || (f.Approach != nil && f.Approach.Target.Expr != "") {
			o.reads = true
		}
	}
	if o.reads {
		o.scratch = make(map[string]any, len(fs)+8)
	}
	return o, nil
}

func (o *object) Next(s *Sample) any {
	out := make(Object, len(o.gens))
	o.child = *s
	if o.reads {
		clear(o.scratch)
		for k, v := range s.Fields {
			o.scratch[k] = v
		}
		o.child.Fields = o.scratch
	}
	for i, g := range o.gens {
		v := g.Next(&o.child)
		out[i] = KV{o.names[i], v}
		if o.reads {
			o.scratch[o.names[i]] = v
		}
	}
	return out
}

func (o *object) errors() (uint64, error) {
	var (
		n    uint64
		last error
	)
	for _, g := range o.gens {
		if k, err := Errors(g); k > 0 {
			n += k
			last = err
		}
	}
	return n, last
}
