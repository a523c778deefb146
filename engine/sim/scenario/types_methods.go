package scenario

import (
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"
)

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// The yaml interfaces let a consumer decode or encode a single piece (a
// Fields in a preview, a Field in the editor) the way Parse and Marshal do.

func unmarshalWith(n *yaml.Node, v reflect.Value, name string) error {
	d := &decoder{}
	d.value(n, v, name, 0)
	if len(d.errs) > 0 {
		d.errs.sort()
		return &d.errs
	}
	return nil
}

func (f *Fields) UnmarshalYAML(n *yaml.Node) error {
	*f = nil
	return unmarshalWith(n, reflect.ValueOf(f).Elem(), "fields")
}

func (f *Field) UnmarshalYAML(n *yaml.Node) error {
	*f = Field{}
	return unmarshalWith(n, reflect.ValueOf(f).Elem(), "field")
}

func (x *Number) UnmarshalYAML(n *yaml.Node) error {
	*x = Number{}
	return unmarshalWith(n, reflect.ValueOf(x).Elem(), "number")
}

func (r *Ramp) UnmarshalYAML(n *yaml.Node) error {
	*r = Ramp{}
	return unmarshalWith(n, reflect.ValueOf(r).Elem(), "ramp")
}

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	*d = 0
	return unmarshalWith(n, reflect.ValueOf(d).Elem(), "duration")
}

func (t *Timestamp) UnmarshalYAML(n *yaml.Node) error {
	*t = Timestamp{}
	return unmarshalWith(n, reflect.ValueOf(t).Elem(), "timestamp")
}

func (f Fields) MarshalYAML() (any, error)    { return encode(reflect.ValueOf(f)), nil }
func (f Field) MarshalYAML() (any, error)     { return encode(reflect.ValueOf(f)), nil }
func (x Number) MarshalYAML() (any, error)    { return encode(reflect.ValueOf(x)), nil }
func (r Ramp) MarshalYAML() (any, error)      { return encode(reflect.ValueOf(r)), nil }
func (d Duration) MarshalYAML() (any, error)  { return encode(reflect.ValueOf(d)), nil }
func (t Timestamp) MarshalYAML() (any, error) { return encode(reflect.ValueOf(t)), nil }
