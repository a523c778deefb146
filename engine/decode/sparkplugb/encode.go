package sparkplugb

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Marshal encodes p in the Sparkplug B wire format, fields in field-number
// order. It fails only when a Value's Kind is not a member of the oneof it
// sits in (a BytesValue in a PropertyValue, say) or nesting exceeds
// MaxDepth, which Unmarshal would refuse.
func Marshal(p *Payload) ([]byte, error) {
	e := encoder{depth: 1} // the payload itself is level 1, as in the decoder
	b, err := e.payload(nil, p)
	if err != nil {
		return nil, fmt.Errorf("sparkplug b payload: %w", err)
	}
	return b, nil
}

type encoder struct{ depth int }

func (e *encoder) enter() error {
	e.depth++
	if e.depth > MaxDepth {
		return fmt.Errorf("%w of %d levels", ErrTooDeep, MaxDepth)
	}
	return nil
}

func appendUint(b []byte, num protowire.Number, v *uint64) []byte {
	if v == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, *v)
}

func appendType(b []byte, num protowire.Number, v *DataType) []byte {
	if v == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(*v))
}

func appendBool(b []byte, num protowire.Number, v *bool) []byte {
	if v == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeBool(*v))
}

func appendString(b []byte, num protowire.Number, v *string) []byte {
	if v == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, *v)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// appendMessage appends field num holding the message that fn encodes.
func (e *encoder) appendMessage(b []byte, num protowire.Number, fn func([]byte) ([]byte, error)) ([]byte, error) {
	if err := e.enter(); err != nil {
		return nil, err
	}
	defer func() { e.depth-- }()
	inner, err := fn(nil)
	if err != nil {
		return nil, err
	}
	return appendBytes(b, num, inner), nil
}

func (e *encoder) payload(b []byte, p *Payload) ([]byte, error) {
	b = appendUint(b, 1, p.Timestamp)
	for i := range p.Metrics {
		var err error
		b, err = e.appendMessage(b, 2, func(x []byte) ([]byte, error) { return e.metric(x, &p.Metrics[i]) })
		if err != nil {
			return nil, fmt.Errorf("metric %d: %w", i, err)
		}
	}
	b = appendUint(b, 3, p.Seq)
	b = appendString(b, 4, p.UUID)
	if p.Body != nil {
		b = appendBytes(b, 5, p.Body)
	}
	return b, nil
}

// numberOf inverts a oneofKind table.
func numberOf(t oneofKind, k ValueKind) (protowire.Number, bool) {
	for n, kk := range t {
		if kk == k {
			return n, true
		}
	}
	return 0, false
}

func (e *encoder) value(b []byte, t oneofKind, v *Value) ([]byte, error) {
	if v.Kind == NoValue {
		return b, nil
	}
	num, ok := numberOf(t, v.Kind)
	if !ok {
		return nil, fmt.Errorf("%s is not allowed here", v.Kind)
	}
	switch v.Kind {
	case IntValue:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(v.Int))
	case LongValue:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		b = protowire.AppendVarint(b, v.Long)
	case FloatValue:
		b = protowire.AppendTag(b, num, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(v.Float))
	case DoubleValue:
		b = protowire.AppendTag(b, num, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(v.Double))
	case BoolValue:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeBool(v.Bool))
	case StringValue:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendString(b, v.String)
	case BytesValue, ExtensionValue:
		b = appendBytes(b, num, v.Raw)
	case DataSetValue:
		ds := v.DataSet
		if ds == nil {
			ds = &DataSet{}
		}
		return e.appendMessage(b, num, func(x []byte) ([]byte, error) { return e.dataset(x, ds) })
	case TemplateValue:
		t := v.Template
		if t == nil {
			t = &Template{}
		}
		return e.appendMessage(b, num, func(x []byte) ([]byte, error) { return e.template(x, t) })
	case PropertySetValue:
		ps := v.PropertySet
		if ps == nil {
			ps = &PropertySet{}
		}
		return e.appendMessage(b, num, func(x []byte) ([]byte, error) { return e.propertySet(x, ps) })
	case PropertySetListValue:
		l := v.PropertySets
		if l == nil {
			l = &PropertySetList{}
		}
		return e.appendMessage(b, num, func(x []byte) ([]byte, error) { return e.propertySetList(x, l) })
	default:
		return nil, fmt.Errorf("unknown value kind %d", v.Kind)
	}
	return b, nil
}

func (e *encoder) metric(b []byte, m *Metric) ([]byte, error) {
	var err error
	b = appendString(b, 1, m.Name)
	b = appendUint(b, 2, m.Alias)
	b = appendUint(b, 3, m.Timestamp)
	b = appendType(b, 4, m.Datatype)
	b = appendBool(b, 5, m.IsHistorical)
	b = appendBool(b, 6, m.IsTransient)
	b = appendBool(b, 7, m.IsNull)
	if m.Metadata != nil {
		if b, err = e.appendMessage(b, 8, func(x []byte) ([]byte, error) { return metadata(x, m.Metadata), nil }); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
	}
	if m.Properties != nil {
		if b, err = e.appendMessage(b, 9, func(x []byte) ([]byte, error) { return e.propertySet(x, m.Properties) }); err != nil {
			return nil, fmt.Errorf("properties: %w", err)
		}
	}
	return e.value(b, metricOneof, &m.Value)
}

func metadata(b []byte, md *MetaData) []byte {
	b = appendBool(b, 1, md.IsMultiPart)
	b = appendString(b, 2, md.ContentType)
	b = appendUint(b, 3, md.Size)
	b = appendUint(b, 4, md.Seq)
	b = appendString(b, 5, md.FileName)
	b = appendString(b, 6, md.FileType)
	b = appendString(b, 7, md.MD5)
	return appendString(b, 8, md.Description)
}

func (e *encoder) propertySet(b []byte, ps *PropertySet) ([]byte, error) {
	for i := range ps.Keys {
		b = appendString(b, 1, &ps.Keys[i])
	}
	for i := range ps.Values {
		var err error
		b, err = e.appendMessage(b, 2, func(x []byte) ([]byte, error) {
			pv := &ps.Values[i]
			x = appendType(x, 1, pv.Type)
			x = appendBool(x, 2, pv.IsNull)
			return e.value(x, propertyOneof, &pv.Value)
		})
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
	}
	return b, nil
}

func (e *encoder) propertySetList(b []byte, l *PropertySetList) ([]byte, error) {
	for i := range l.PropertySets {
		var err error
		b, err = e.appendMessage(b, 1, func(x []byte) ([]byte, error) { return e.propertySet(x, &l.PropertySets[i]) })
		if err != nil {
			return nil, fmt.Errorf("propertyset %d: %w", i, err)
		}
	}
	return b, nil
}

func (e *encoder) dataset(b []byte, ds *DataSet) ([]byte, error) {
	b = appendUint(b, 1, ds.NumColumns)
	for i := range ds.Columns {
		b = appendString(b, 2, &ds.Columns[i])
	}
	// Unpacked, as proto2 writes a repeated scalar without [packed=true].
	for _, t := range ds.Types {
		b = appendType(b, 3, &t)
	}
	for i := range ds.Rows {
		var err error
		b, err = e.appendMessage(b, 4, func(x []byte) ([]byte, error) {
			for j := range ds.Rows[i].Elements {
				var err error
				x, err = e.appendMessage(x, 1, func(y []byte) ([]byte, error) {
					return e.value(y, datasetOneof, &ds.Rows[i].Elements[j])
				})
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", j, err)
				}
			}
			return x, nil
		})
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
	}
	return b, nil
}

func (e *encoder) template(b []byte, t *Template) ([]byte, error) {
	b = appendString(b, 1, t.Version)
	for i := range t.Metrics {
		var err error
		b, err = e.appendMessage(b, 2, func(x []byte) ([]byte, error) { return e.metric(x, &t.Metrics[i]) })
		if err != nil {
			return nil, fmt.Errorf("template metric %d: %w", i, err)
		}
	}
	for i := range t.Parameters {
		var err error
		b, err = e.appendMessage(b, 3, func(x []byte) ([]byte, error) {
			p := &t.Parameters[i]
			x = appendString(x, 1, p.Name)
			x = appendType(x, 2, p.Type)
			return e.value(x, parameterOneof, &p.Value)
		})
		if err != nil {
			return nil, fmt.Errorf("parameter %d: %w", i, err)
		}
	}
	b = appendString(b, 4, t.TemplateRef)
	return appendBool(b, 5, t.IsDefinition), nil
}
