package scenario

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Marshal writes f as YAML that Parse reads back to the same File: fields
// in their order, shorthands where they read better (bare constants,
// `timestamp: unix_ms`, `choice: [a, b]`), durations as 1m30s.
func Marshal(f *File) ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("marshal scenario: no file")
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(encode(reflect.ValueOf(*f))); err != nil {
		return nil, fmt.Errorf("marshal scenario: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal scenario: %w", err)
	}
	return buf.Bytes(), nil
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

func text(s string) *yaml.Node {
	n := &yaml.Node{}
	_ = n.Encode(s) // a string always encodes; Encode picks the quoting that keeps it a string
	return n
}

// floatText writes a float so it reads back as a float: 5 as 5.0, or a
// state value 5.0 would come back as the integer 5.
func floatText(f float64) *yaml.Node {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return scalar("!!float", s)
}

// encode is decode's mirror, by reflection over the yaml tags.
func encode(v reflect.Value) *yaml.Node {
	switch x := v.Interface().(type) {
	case Field:
		return encodeField(x)
	case Fields:
		return encodeFields(x)
	case Number:
		if x.Expr != "" {
			return text(x.Expr)
		}
		return floatText(x.Value)
	case Ramp:
		if x.Over > 0 {
			return scalar("!!str", durationText(x.Over))
		}
		return scalar("!!str", strconv.FormatFloat(x.PerSecond, 'g', -1, 64)+"/s")
	case Duration:
		return scalar("!!str", durationText(time.Duration(x)))
	case Timestamp:
		return scalar("!!str", x.Format)
	case Choice:
		if len(x.Weights) == 0 {
			return encode(reflect.ValueOf(x.Values))
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return scalar("!!null", "null")
		}
		if f, ok := v.Interface().(float64); ok && v.Kind() == reflect.Interface {
			return floatText(f) // free-form data keeps 5.0 a float
		}
		return encode(v.Elem())
	case reflect.Struct:
		return encodeStruct(v, nil)
	case reflect.Slice, reflect.Array:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		flat := v.Len() <= 12
		for i := range v.Len() {
			c := encode(v.Index(i))
			flat = flat && (c.Kind == yaml.ScalarNode && len(c.Value) < 20 && !strings.Contains(c.Value, "{{") ||
				c.Kind == yaml.SequenceNode && c.Style == yaml.FlowStyle)
			n.Content = append(n.Content, c)
		}
		if flat {
			n.Style = yaml.FlowStyle // [north, south] and [lat, lon] read best on one line
		}
		return n
	case reflect.Map:
		// Every map of the format has text keys; sorted, so output is stable.
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		for _, k := range keys {
			n.Content = append(n.Content, text(k), encode(v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key()))))
		}
		return n
	case reflect.String:
		return text(v.String())
	case reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar("!!int", strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return scalar("!!float", ".nan") // Parse rejects it, as it should
		}
		return scalar("", strconv.FormatFloat(f, 'g', -1, 64)) // no tag: 18 reads as 18, not !!float 18
	}
	return scalar("!!null", "null")
}

// encodeStruct writes the tagged fields of a struct, leaving out empty
// omitempty ones, and skip's.
func encodeStruct(v reflect.Value, skip map[string]bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" || name == "" || !sf.IsExported() || skip[name] {
			continue
		}
		f := v.Field(i)
		if strings.Contains(opts, "omitempty") && empty(f) {
			continue
		}
		n.Content = append(n.Content, text(name), encode(f))
	}
	return n
}

func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}

func encodeField(f Field) *yaml.Node {
	rest := f
	rest.Const = nil
	rest.At = Pos{}
	if f.Const != nil && reflect.ValueOf(rest).IsZero() {
		switch f.Const.(type) {
		case map[string]any, []any:
		default:
			return encode(reflect.ValueOf(&f.Const).Elem())
		}
	}
	n := encodeStruct(reflect.ValueOf(rest), map[string]bool{"const": true})
	if f.Const != nil {
		n.Content = append([]*yaml.Node{text("const"), encode(reflect.ValueOf(&f.Const).Elem())}, n.Content...)
	}
	return n
}

func encodeFields(fs Fields) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, nf := range fs {
		n.Content = append(n.Content, text(nf.Name), encodeField(nf.Field))
	}
	return n
}

// durationText is d as Go writes it without the trailing zero units: 24h,
// not 24h0m0s.
func durationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
