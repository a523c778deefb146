// Package schemagen generates the scenario file's JSON Schema from the Go
// types, by reflection over their yaml tags and `jsonschema` tags.
//
// It is written here rather than taken from a library because the format
// has shapes a struct reflector does not know (a field is a bare constant or
// one generator of many; ramps and durations are strings with a syntax) and
// the descriptions in the tags hold commas, which the common tag syntax
// splits on.
package schemagen

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// durationPattern is what time.ParseDuration accepts (without a sign:
// Parse rejects negative durations).
const durationPattern = `^(0|([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`

// Generate returns the JSON Schema of a scenario file, indented, ending
// with a newline.
func Generate() ([]byte, error) {
	g := &generator{defs: map[string]any{}}
	root := g.schema(reflect.TypeFor[scenario.File]())
	out := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "iotstudio-scenario.schema.json",
		"title":       "IoT Studio scenario file",
		"description": "Simulated devices: profiles (device types) and fleets (how many of which). Generated from engine/sim/scenario; do not edit.",
		"$defs":       g.defs,
	}
	for k, v := range root {
		out[k] = v
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("generate scenario schema: %w", err)
	}
	return append(b, '\n'), nil
}

type generator struct {
	defs map[string]any
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/$defs/" + name} }

// schema is the schema of a value of type t; named structs and the custom
// types go to $defs once and are referred to.
func (g *generator) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if custom, ok := g.custom(t); ok {
		return custom
	}
	switch t.Kind() {
	case reflect.Struct:
		name := t.Name()
		if _, done := g.defs[name]; !done {
			g.defs[name] = true // a placeholder, so recursive types terminate
			g.defs[name] = g.object(t)
		}
		return ref(name)
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem()), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	panic(fmt.Sprintf("schemagen: no schema for %s", t)) // a new field of an unknown kind: fix the generator
}

// custom covers the types whose YAML is not their Go shape.
func (g *generator) custom(t reflect.Type) (map[string]any, bool) {
	define := func(name string, s func() map[string]any) map[string]any {
		if _, done := g.defs[name]; !done {
			g.defs[name] = true
			g.defs[name] = s()
		}
		return ref(name)
	}
	switch t {
	case reflect.TypeFor[scenario.Duration]():
		return define("Duration", func() map[string]any {
			return map[string]any{"type": "string", "pattern": durationPattern, "description": "A duration as Go writes it: 1s, 250ms, 1h30m.", "examples": []string{"1s", "250ms", "1h30m"}}
		}), true
	case reflect.TypeFor[scenario.Ramp]():
		return define("Ramp", func() map[string]any {
			return map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?/s|` + strings.Trim(durationPattern, "^$") + `)$`,
				"description": "Connections per second (200/s) or a duration to spread them over (30s).", "examples": []string{"200/s", "30s"}}
		}), true
	case reflect.TypeFor[scenario.Number]():
		return define("Number", func() map[string]any {
			return map[string]any{"type": []string{"number", "string"}, "description": "A number, or an expression evaluated when used (state.setpoint)."}
		}), true
	case reflect.TypeFor[scenario.Fields]():
		return define("Fields", func() map[string]any {
			return map[string]any{"type": "object", "additionalProperties": g.schema(reflect.TypeFor[scenario.Field]()),
				"description": "Named fields, in order: a constant or one generator each."}
		}), true
	case reflect.TypeFor[scenario.Field]():
		return define("Field", func() map[string]any {
			gen := g.object(t)
			var one []any
			for name := range gen["properties"].(map[string]any) {
				if name != "noise" && name != "precision" {
					one = append(one, map[string]any{"required": []string{name}})
				}
			}
			sortByRequired(one)
			gen["oneOf"] = one
			return map[string]any{
				"description": "A constant (21.5, \"on\") or exactly one generator, with optional noise and precision.",
				"anyOf": []any{
					map[string]any{"type": []string{"string", "number", "integer", "boolean"}},
					gen,
				},
			}
		}), true
	case reflect.TypeFor[scenario.Timestamp]():
		return define("Timestamp", func() map[string]any {
			obj := g.object(t)
			return map[string]any{"anyOf": []any{obj["properties"].(map[string]any)["format"], obj}}
		}), true
	case reflect.TypeFor[scenario.Choice]():
		return define("Choice", func() map[string]any {
			obj := g.object(t)
			return map[string]any{"anyOf": []any{map[string]any{"type": "array", "minItems": 1, "description": "The values, equally likely."}, obj}}
		}), true
	}
	return nil, false
}

func sortByRequired(s []any) {
	key := func(x any) string { return x.(map[string]any)["required"].([]string)[0] }
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && key(s[j]) < key(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// object is the schema of a struct: its yaml-tagged fields, those without
// omitempty required, no other keys allowed (as Parse).
func (g *generator) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" || name == "" || !sf.IsExported() {
			continue
		}
		s := g.schema(sf.Type)
		if tag := sf.Tag.Get("jsonschema"); tag != "" {
			s = annotate(s, tag, sf.Type)
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// annotate applies a `jsonschema:"description=...,enum=0,enum=1,minimum=0"`
// tag. A comma starts a new option only before a known key, so
// descriptions may hold commas.
func annotate(s map[string]any, tag string, t reflect.Type) map[string]any {
	out := map[string]any{}
	if _, isRef := s["$ref"]; isRef {
		out["allOf"] = []any{s} // a $ref's siblings are ignored by older validators
	} else {
		for k, v := range s {
			out[k] = v
		}
	}
	for _, opt := range splitOptions(tag) {
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "description":
			out["description"] = val
		case "enum":
			enum, _ := out["enum"].([]any)
			out["enum"] = append(enum, literal(val, t))
		case "minimum", "maximum":
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				panic(fmt.Sprintf("schemagen: bad %s in tag %q", key, tag))
			}
			out[key] = f
		default:
			panic(fmt.Sprintf("schemagen: unknown option %q in tag %q", key, tag))
		}
	}
	return out
}

func splitOptions(tag string) []string {
	var opts []string
	start := 0
	for i := 0; i < len(tag); i++ {
		if tag[i] != ',' {
			continue
		}
		rest := tag[i+1:]
		for _, k := range []string{"description=", "enum=", "minimum=", "maximum="} {
			if strings.HasPrefix(rest, k) {
				opts = append(opts, tag[start:i])
				start = i + 1
				break
			}
		}
	}
	return append(opts, tag[start:])
}

// literal is an enum value typed as the field is (qos 1, not "1").
func literal(val string, t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n, err := strconv.ParseInt(val, 10, 64); err == nil {
			return n
		}
	}
	return val
}
