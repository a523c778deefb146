package sparkplugb

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxDepth bounds how deeply templates, property sets and datasets may nest.
// Real payloads nest a few levels; the bound keeps a hostile payload from
// exhausting the stack (each level costs only two bytes on the wire).
const MaxDepth = 64

// ErrTooDeep is wrapped by Unmarshal's error when a payload nests deeper
// than MaxDepth.
var ErrTooDeep = errors.New("nested deeper than the limit")

// Unmarshal decodes a Sparkplug B payload. The error says where decoding
// stopped ("metric 3: properties: value 0: field 5 (float_value): ...").
func Unmarshal(b []byte) (*Payload, error) {
	var d decoder
	p := &Payload{}
	if err := d.payload(b, p); err != nil {
		return nil, fmt.Errorf("sparkplug b payload: %w", err)
	}
	return p, nil
}

type decoder struct{ depth int }

// field is one decoded protobuf field: u holds varint, fixed32 and fixed64
// values, b the contents of a length-delimited field.
type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64
	b   []byte
}

// readField consumes one field from b and returns it with its encoded size.
// Groups (deprecated, never in sparkplug_b.proto) are consumed whole so that
// an unknown one can be skipped.
func readField(b []byte) (field, int, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, 0, fmt.Errorf("field tag: %w", protowire.ParseError(n))
	}
	f := field{num: num, typ: typ}
	var m int
	switch typ {
	case protowire.VarintType:
		f.u, m = protowire.ConsumeVarint(b[n:])
	case protowire.Fixed32Type:
		var v uint32
		v, m = protowire.ConsumeFixed32(b[n:])
		f.u = uint64(v)
	case protowire.Fixed64Type:
		f.u, m = protowire.ConsumeFixed64(b[n:])
	case protowire.BytesType:
		f.b, m = protowire.ConsumeBytes(b[n:])
	default:
		m = protowire.ConsumeFieldValue(num, typ, b[n:])
	}
	if m < 0 {
		return field{}, 0, fmt.Errorf("field %d: %w", num, protowire.ParseError(m))
	}
	return f, n + m, nil
}

// fields calls fn for every field of the message encoded in b.
func (d *decoder) fields(b []byte, fn func(f field) error) error {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > MaxDepth {
		return fmt.Errorf("%w of %d levels", ErrTooDeep, MaxDepth)
	}
	for len(b) > 0 {
		f, n, err := readField(b)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

var wireNames = map[protowire.Type]string{
	protowire.VarintType: "varint", protowire.Fixed32Type: "fixed32",
	protowire.Fixed64Type: "fixed64", protowire.BytesType: "length-delimited",
	protowire.StartGroupType: "start-group", protowire.EndGroupType: "end-group",
}

func wireName(t protowire.Type) string {
	if s, ok := wireNames[t]; ok {
		return s
	}
	return fmt.Sprintf("wire type %d", t)
}

func (f field) want(name string, t protowire.Type) error {
	if f.typ != t {
		return fmt.Errorf("field %d (%s): %s, want %s", f.num, name, wireName(f.typ), wireName(t))
	}
	return nil
}

func (f field) varint(name string) (uint64, error) {
	return f.u, f.want(name, protowire.VarintType)
}

// uint32 follows protobuf: a uint32 field keeps the low 32 bits of the varint.
func (f field) uint32(name string) (uint32, error) {
	err := f.want(name, protowire.VarintType)
	return uint32(f.u), err
}

func (f field) bool(name string) (bool, error) {
	return f.u != 0, f.want(name, protowire.VarintType)
}

func (f field) bytes(name string) ([]byte, error) {
	return f.b, f.want(name, protowire.BytesType)
}

func (f field) string(name string) (string, error) {
	return string(f.b), f.want(name, protowire.BytesType)
}

func ptr[T any](v T) *T { return &v }

// repeatedUint32 appends a repeated uint32 field, packed or not (proto2
// writers differ).
func (f field) repeatedUint32(name string, dst []DataType) ([]DataType, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, DataType(uint32(f.u))), nil
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return dst, fmt.Errorf("field %d (%s): packed: %w", f.num, name, protowire.ParseError(n))
			}
			dst = append(dst, DataType(uint32(v)))
			b = b[n:]
		}
		return dst, nil
	}
	return dst, fmt.Errorf("field %d (%s): %s, want varint or packed", f.num, name, wireName(f.typ))
}

func (d *decoder) payload(b []byte, p *Payload) error {
	return d.fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			var v uint64
			v, err = f.varint("timestamp")
			p.Timestamp = ptr(v)
		case 2:
			var mb []byte
			if mb, err = f.bytes("metrics"); err == nil {
				p.Metrics = append(p.Metrics, Metric{})
				if err = d.metric(mb, &p.Metrics[len(p.Metrics)-1]); err != nil {
					err = fmt.Errorf("metric %d: %w", len(p.Metrics)-1, err)
				}
			}
		case 3:
			var v uint64
			v, err = f.varint("seq")
			p.Seq = ptr(v)
		case 4:
			var s string
			s, err = f.string("uuid")
			p.UUID = ptr(s)
		case 5:
			var raw []byte
			raw, err = f.bytes("body")
			p.Body = append([]byte{}, raw...)
		}
		return err
	})
}

// oneofKind maps a message's value-oneof field numbers to the member they set.
type oneofKind map[protowire.Number]ValueKind

var (
	metricOneof = oneofKind{10: IntValue, 11: LongValue, 12: FloatValue, 13: DoubleValue,
		14: BoolValue, 15: StringValue, 16: BytesValue, 17: DataSetValue, 18: TemplateValue,
		19: ExtensionValue}
	propertyOneof = oneofKind{3: IntValue, 4: LongValue, 5: FloatValue, 6: DoubleValue,
		7: BoolValue, 8: StringValue, 9: PropertySetValue, 10: PropertySetListValue,
		11: ExtensionValue}
	datasetOneof = oneofKind{1: IntValue, 2: LongValue, 3: FloatValue, 4: DoubleValue,
		5: BoolValue, 6: StringValue, 7: ExtensionValue}
	parameterOneof = oneofKind{3: IntValue, 4: LongValue, 5: FloatValue, 6: DoubleValue,
		7: BoolValue, 8: StringValue, 9: ExtensionValue}
)

// value sets v from a field of its oneof. A message member seen again with
// the same kind is merged, as protobuf merges singular messages; any other
// member replaces what was there.
func (d *decoder) value(f field, k ValueKind, v *Value) error {
	name := k.String()
	prev := *v
	if prev.Kind != k {
		prev = Value{}
	}
	nv := Value{Kind: k}
	var err error
	switch k {
	case IntValue:
		nv.Int, err = f.uint32(name)
	case LongValue:
		nv.Long, err = f.varint(name)
	case FloatValue:
		if err = f.want(name, protowire.Fixed32Type); err == nil {
			nv.Float = math.Float32frombits(uint32(f.u))
		}
	case DoubleValue:
		if err = f.want(name, protowire.Fixed64Type); err == nil {
			nv.Double = math.Float64frombits(f.u)
		}
	case BoolValue:
		nv.Bool, err = f.bool(name)
	case StringValue:
		nv.String, err = f.string(name)
	case BytesValue, ExtensionValue:
		var raw []byte
		if raw, err = f.bytes(name); err == nil {
			nv.Raw = append([]byte{}, raw...)
		}
	case DataSetValue:
		nv.DataSet = prev.DataSet
		if nv.DataSet == nil {
			nv.DataSet = &DataSet{}
		}
		var raw []byte
		if raw, err = f.bytes(name); err == nil {
			err = d.dataset(raw, nv.DataSet)
		}
	case TemplateValue:
		nv.Template = prev.Template
		if nv.Template == nil {
			nv.Template = &Template{}
		}
		var raw []byte
		if raw, err = f.bytes(name); err == nil {
			err = d.template(raw, nv.Template)
		}
	case PropertySetValue:
		nv.PropertySet = prev.PropertySet
		if nv.PropertySet == nil {
			nv.PropertySet = &PropertySet{}
		}
		var raw []byte
		if raw, err = f.bytes(name); err == nil {
			err = d.propertySet(raw, nv.PropertySet)
		}
	case PropertySetListValue:
		nv.PropertySets = prev.PropertySets
		if nv.PropertySets == nil {
			nv.PropertySets = &PropertySetList{}
		}
		var raw []byte
		if raw, err = f.bytes(name); err == nil {
			err = d.propertySetList(raw, nv.PropertySets)
		}
	}
	if err != nil {
		return err
	}
	*v = nv
	return nil
}

func (d *decoder) metric(b []byte, m *Metric) error {
	return d.fields(b, func(f field) (err error) {
		if k, ok := metricOneof[f.num]; ok {
			return d.value(f, k, &m.Value)
		}
		switch f.num {
		case 1:
			var s string
			s, err = f.string("name")
			m.Name = ptr(s)
		case 2:
			var v uint64
			v, err = f.varint("alias")
			m.Alias = ptr(v)
		case 3:
			var v uint64
			v, err = f.varint("timestamp")
			m.Timestamp = ptr(v)
		case 4:
			var v uint32
			v, err = f.uint32("datatype")
			m.Datatype = ptr(DataType(v))
		case 5:
			var v bool
			v, err = f.bool("is_historical")
			m.IsHistorical = ptr(v)
		case 6:
			var v bool
			v, err = f.bool("is_transient")
			m.IsTransient = ptr(v)
		case 7:
			var v bool
			v, err = f.bool("is_null")
			m.IsNull = ptr(v)
		case 8:
			var raw []byte
			if raw, err = f.bytes("metadata"); err == nil {
				if m.Metadata == nil {
					m.Metadata = &MetaData{}
				}
				if err = d.metadata(raw, m.Metadata); err != nil {
					err = fmt.Errorf("metadata: %w", err)
				}
			}
		case 9:
			var raw []byte
			if raw, err = f.bytes("properties"); err == nil {
				if m.Properties == nil {
					m.Properties = &PropertySet{}
				}
				if err = d.propertySet(raw, m.Properties); err != nil {
					err = fmt.Errorf("properties: %w", err)
				}
			}
		}
		return err
	})
}

func (d *decoder) metadata(b []byte, md *MetaData) error {
	return d.fields(b, func(f field) (err error) {
		strField := func(name string, dst **string) {
			var s string
			s, err = f.string(name)
			*dst = ptr(s)
		}
		switch f.num {
		case 1:
			var v bool
			v, err = f.bool("is_multi_part")
			md.IsMultiPart = ptr(v)
		case 2:
			strField("content_type", &md.ContentType)
		case 3:
			var v uint64
			v, err = f.varint("size")
			md.Size = ptr(v)
		case 4:
			var v uint64
			v, err = f.varint("seq")
			md.Seq = ptr(v)
		case 5:
			strField("file_name", &md.FileName)
		case 6:
			strField("file_type", &md.FileType)
		case 7:
			strField("md5", &md.MD5)
		case 8:
			strField("description", &md.Description)
		}
		return err
	})
}

func (d *decoder) propertySet(b []byte, ps *PropertySet) error {
	return d.fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			var s string
			s, err = f.string("keys")
			ps.Keys = append(ps.Keys, s)
		case 2:
			var raw []byte
			if raw, err = f.bytes("values"); err == nil {
				ps.Values = append(ps.Values, PropertyValue{})
				if err = d.propertyValue(raw, &ps.Values[len(ps.Values)-1]); err != nil {
					err = fmt.Errorf("value %d: %w", len(ps.Values)-1, err)
				}
			}
		}
		return err
	})
}

func (d *decoder) propertyValue(b []byte, pv *PropertyValue) error {
	return d.fields(b, func(f field) (err error) {
		if k, ok := propertyOneof[f.num]; ok {
			return d.value(f, k, &pv.Value)
		}
		switch f.num {
		case 1:
			var v uint32
			v, err = f.uint32("type")
			pv.Type = ptr(DataType(v))
		case 2:
			var v bool
			v, err = f.bool("is_null")
			pv.IsNull = ptr(v)
		}
		return err
	})
}

func (d *decoder) propertySetList(b []byte, l *PropertySetList) error {
	return d.fields(b, func(f field) (err error) {
		if f.num == 1 {
			var raw []byte
			if raw, err = f.bytes("propertyset"); err == nil {
				l.PropertySets = append(l.PropertySets, PropertySet{})
				if err = d.propertySet(raw, &l.PropertySets[len(l.PropertySets)-1]); err != nil {
					err = fmt.Errorf("propertyset %d: %w", len(l.PropertySets)-1, err)
				}
			}
		}
		return err
	})
}

func (d *decoder) dataset(b []byte, ds *DataSet) error {
	return d.fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			var v uint64
			v, err = f.varint("num_of_columns")
			ds.NumColumns = ptr(v)
		case 2:
			var s string
			s, err = f.string("columns")
			ds.Columns = append(ds.Columns, s)
		case 3:
			ds.Types, err = f.repeatedUint32("types", ds.Types)
		case 4:
			var raw []byte
			if raw, err = f.bytes("rows"); err == nil {
				ds.Rows = append(ds.Rows, Row{})
				if err = d.row(raw, &ds.Rows[len(ds.Rows)-1]); err != nil {
					err = fmt.Errorf("row %d: %w", len(ds.Rows)-1, err)
				}
			}
		}
		return err
	})
}

func (d *decoder) row(b []byte, r *Row) error {
	return d.fields(b, func(f field) (err error) {
		if f.num != 1 {
			return nil
		}
		var raw []byte
		if raw, err = f.bytes("elements"); err != nil {
			return err
		}
		r.Elements = append(r.Elements, Value{})
		el := &r.Elements[len(r.Elements)-1]
		err = d.fields(raw, func(f field) error {
			if k, ok := datasetOneof[f.num]; ok {
				return d.value(f, k, el)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("element %d: %w", len(r.Elements)-1, err)
		}
		return nil
	})
}

func (d *decoder) template(b []byte, t *Template) error {
	return d.fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			var s string
			s, err = f.string("version")
			t.Version = ptr(s)
		case 2:
			var raw []byte
			if raw, err = f.bytes("metrics"); err == nil {
				t.Metrics = append(t.Metrics, Metric{})
				if err = d.metric(raw, &t.Metrics[len(t.Metrics)-1]); err != nil {
					err = fmt.Errorf("template metric %d: %w", len(t.Metrics)-1, err)
				}
			}
		case 3:
			var raw []byte
			if raw, err = f.bytes("parameters"); err == nil {
				t.Parameters = append(t.Parameters, Parameter{})
				if err = d.parameter(raw, &t.Parameters[len(t.Parameters)-1]); err != nil {
					err = fmt.Errorf("parameter %d: %w", len(t.Parameters)-1, err)
				}
			}
		case 4:
			var s string
			s, err = f.string("template_ref")
			t.TemplateRef = ptr(s)
		case 5:
			var v bool
			v, err = f.bool("is_definition")
			t.IsDefinition = ptr(v)
		}
		return err
	})
}

func (d *decoder) parameter(b []byte, p *Parameter) error {
	return d.fields(b, func(f field) (err error) {
		if k, ok := parameterOneof[f.num]; ok {
			return d.value(f, k, &p.Value)
		}
		switch f.num {
		case 1:
			var s string
			s, err = f.string("name")
			p.Name = ptr(s)
		case 2:
			var v uint32
			v, err = f.uint32("type")
			p.Type = ptr(DataType(v))
		}
		return err
	})
}
