package sparkplugb

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// protocVector is an NBIRTH-like payload encoded by protoc 3.21
// (`protoc --encode=org.eclipse.tahu.protobuf.Payload sparkplug_b.proto`)
// from Eclipse Tahu's sparkplug_b.proto and this text proto:
//
//	timestamp: 1700000000123
//	metrics { name: "Temperature" alias: 3 timestamp: 1700000000100 datatype: 9 float_value: 21.5 }
//	metrics { name: "Pressure/Inlet" datatype: 3 int_value: 4294967295 }
//	metrics { alias: 7 datatype: 4 long_value: 18446744073709551615 }
//	metrics { name: "Running" datatype: 11 boolean_value: true properties { keys: "engUnit" values { type: 12 string_value: "C" } } }
//	metrics { name: "Table" datatype: 16 dataset_value { num_of_columns: 2 columns: "a" columns: "b" types: 3 types: 12
//	          rows { elements { int_value: 1 } elements { string_value: "x" } } } }
//	metrics { name: "Flags" datatype: 32 bytes_value: "\014\000\000\000\064\320" }
//	metrics { name: "UDT" datatype: 19 template_value { version: "1" metrics { name: "rpm" datatype: 10 double_value: 1500.5 }
//	          parameters { name: "max" type: 7 int_value: 3000 } template_ref: "Motor" is_definition: false } }
//	seq: 17
//	uuid: "abc"
//
// It checks the decoder against an independent encoder, byte for byte.
const protocVector = "08fbd095ffbc31121d0a0b54656d706572617475726510031" +
	"8e4d095ffbc3120096500" + "00ac4112180a0e50726573737572652f496e6c6574200350ffffffff0f" +
	"120f1007200458ffffffffffffffffff0112" + "1f0a0752756e6e696e67200b4a100a07656e67556e697412050" +
	"80c42014370011223" + "0a055461626c6520108a011708021201611201621803180c22090a0208010a0332017812" +
	"120a05466c616773202082010" + "60c00000034d01234" + "0a0355445420139201" +
	"2a0a01311210" + "0a0372706d200a69000000000072974" + "01a0a0a036d61781007" +
	"18b81722054d6f746f722800181122" + "03616263"

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUnmarshalProtocVector(t *testing.T) {
	p, err := Unmarshal(mustHex(t, protocVector))
	if err != nil {
		t.Fatal(err)
	}
	if p.Timestamp == nil || *p.Timestamp != 1700000000123 || p.Seq == nil || *p.Seq != 17 || p.UUID == nil || *p.UUID != "abc" {
		t.Fatalf("header: ts %v seq %v uuid %v", p.Timestamp, p.Seq, p.UUID)
	}
	if p.Body != nil {
		t.Errorf("body present: %q", p.Body)
	}
	if len(p.Metrics) != 7 {
		t.Fatalf("%d metrics, want 7", len(p.Metrics))
	}
	tests := []struct {
		i    int
		name string
		want any
	}{
		{0, "Temperature", float32(21.5)},
		{1, "Pressure/Inlet", int64(-1)},
		{2, "", int64(-1)},
		{3, "Running", true},
		{5, "Flags", []bool{false, false, true, true, false, true, false, false, true, true, false, true}},
	}
	for _, tt := range tests {
		m := p.Metrics[tt.i]
		if name := deref(m.Name); name != tt.name {
			t.Errorf("metric %d name %q, want %q", tt.i, name, tt.name)
		}
		got, err := Typed(*m.Datatype, m.Value)
		if err != nil {
			t.Errorf("metric %d: %v", tt.i, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("metric %d = %#v, want %#v", tt.i, got, tt.want)
		}
	}
	if m := p.Metrics[0]; *m.Alias != 3 || *m.Timestamp != 1700000000100 {
		t.Errorf("Temperature alias %d ts %d", *m.Alias, *m.Timestamp)
	}
	if ps := p.Metrics[3].Properties; ps == nil || !reflect.DeepEqual(ps.Keys, []string{"engUnit"}) ||
		ps.Values[0].Value.String != "C" || *ps.Values[0].Type != String {
		t.Errorf("properties %+v", ps)
	}
	ds := p.Metrics[4].Value.DataSet
	if ds == nil || *ds.NumColumns != 2 || !reflect.DeepEqual(ds.Columns, []string{"a", "b"}) ||
		!reflect.DeepEqual(ds.Types, []DataType{Int32, String}) || len(ds.Rows) != 1 ||
		ds.Rows[0].Elements[0].Int != 1 || ds.Rows[0].Elements[1].String != "x" {
		t.Errorf("dataset %+v", ds)
	}
	tp := p.Metrics[6].Value.Template
	if tp == nil || *tp.Version != "1" || *tp.TemplateRef != "Motor" || *tp.IsDefinition ||
		len(tp.Metrics) != 1 || tp.Metrics[0].Value.Double != 1500.5 ||
		len(tp.Parameters) != 1 || *tp.Parameters[0].Name != "max" || tp.Parameters[0].Value.Int != 3000 {
		t.Errorf("template %+v", tp)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Marshal writes fields in field-number order, as protoc does, so
// re-encoding protoc's bytes must give them back exactly.
func TestMarshalMatchesProtoc(t *testing.T) {
	in := mustHex(t, protocVector)
	p, err := Unmarshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) {
		t.Fatalf("re-encoded differs\n got %x\nwant %x", out, in)
	}
}

func tag(num protowire.Number, typ protowire.Type) []byte {
	return protowire.AppendTag(nil, num, typ)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func msg(num protowire.Number, inner []byte) []byte {
	return protowire.AppendBytes(tag(num, protowire.BytesType), inner)
}

func varint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(tag(num, protowire.VarintType), v)
}

// nestedPropertySets builds a metric whose properties nest n property sets
// deep; each adds two levels (PropertySet, PropertyValue).
func nestedPropertySets(n int) []byte {
	ps := []byte{}
	for range n {
		ps = msg(2, msg(9, ps)) // PropertySet.values -> PropertyValue.propertyset_value
	}
	return msg(2, msg(9, ps)) // Payload.metrics -> Metric.properties
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"truncated varint", []byte{0x08, 0xff}, "field 1"},
		{"field number zero", []byte{0x00, 0x01}, "field tag"},
		{"length past end", []byte{0x12, 0x05, 0x0a}, "field 2"},
		{"metric name as varint", msg(2, varint(1, 5)), "metric 0: field 1 (name): varint, want length-delimited"},
		{"float as varint", msg(2, varint(12, 5)), "float_value"},
		{"timestamp as bytes", msg(1, []byte{1}), "field 1 (timestamp)"},
		{"stray end group", tag(9, protowire.EndGroupType), "field 9"},
		{"too deep", nestedPropertySets(MaxDepth / 2), "nested deeper"},
		{"bad dataset row", msg(2, msg(17, msg(4, msg(1, varint(3, 1))))), "row 0: element 0: field 3 (float_value)"},
		{"packed types truncated", msg(2, msg(17, msg(3, []byte{0x80}))), "packed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Unmarshal(tt.in)
			if err == nil {
				t.Fatalf("no error, got %+v", p)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := Unmarshal(nestedPropertySets(MaxDepth / 2)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("too deep: %v is not ErrTooDeep", err)
	}
	// Payload, Metric and the properties' PropertySet take three levels.
	if _, err := Unmarshal(nestedPropertySets((MaxDepth - 3) / 2)); err != nil {
		t.Errorf("just under the limit: %v", err)
	}
}

// Unknown fields (Sparkplug reserves 6 and up for extensions) are skipped,
// in every wire type, groups included.
func TestUnmarshalSkipsUnknownFields(t *testing.T) {
	in := cat(
		varint(6, 42),
		protowire.AppendFixed32(tag(7, protowire.Fixed32Type), 1),
		protowire.AppendFixed64(tag(8, protowire.Fixed64Type), 1),
		msg(9, []byte("ext")),
		tag(10, protowire.StartGroupType), varint(1, 1), tag(10, protowire.EndGroupType),
		varint(3, 5),
		msg(2, cat(varint(2, 9), varint(40, 1))),
	)
	p, err := Unmarshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if *p.Seq != 5 || len(p.Metrics) != 1 || *p.Metrics[0].Alias != 9 {
		t.Fatalf("got %+v", p)
	}
}

// Protobuf rules: the last of a repeated singular scalar wins, a singular
// message seen twice is merged, a new oneof member replaces the old one, and
// repeated scalars may be packed.
func TestUnmarshalProtobufRules(t *testing.T) {
	in := msg(2, cat(
		varint(2, 1), varint(2, 2), // alias twice
		msg(8, msg(2, []byte("text/plain"))), msg(8, varint(3, 10)), // metadata twice
		varint(10, 7), protowire.AppendFixed64(tag(13, protowire.Fixed64Type), math.Float64bits(2.5)), // int then double
		msg(17, msg(3, []byte{3, 12})), // dataset with packed types
	))
	p, err := Unmarshal(in)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Metrics[0]
	if *m.Alias != 2 {
		t.Errorf("alias %d, want the last (2)", *m.Alias)
	}
	if m.Metadata == nil || deref(m.Metadata.ContentType) != "text/plain" || m.Metadata.Size == nil || *m.Metadata.Size != 10 {
		t.Errorf("metadata not merged: %+v", m.Metadata)
	}
	if m.Value.Kind != DataSetValue || !reflect.DeepEqual(m.Value.DataSet.Types, []DataType{Int32, String}) {
		t.Errorf("value %+v", m.Value)
	}
}

func TestTyped(t *testing.T) {
	ms := uint64(1700000000123)
	when := time.UnixMilli(int64(ms)).UTC()
	tests := []struct {
		name    string
		t       DataType
		v       Value
		want    any
		wantErr string
	}{
		{"int8 sign-extended", Int8, Value{Kind: IntValue, Int: 0xffffffff}, int64(-1), ""},
		{"int8 low byte only", Int8, Value{Kind: IntValue, Int: 0xef}, int64(-17), ""},
		{"int16", Int16, Value{Kind: IntValue, Int: 0xfffe}, int64(-2), ""},
		{"int32", Int32, Value{Kind: IntValue, Int: 123456789}, int64(123456789), ""},
		{"int64 negative", Int64, Value{Kind: LongValue, Long: math.MaxUint64 - 4}, int64(-5), ""},
		{"int32 in long_value", Int32, Value{Kind: LongValue, Long: 7}, int64(7), ""},
		{"uint8", UInt8, Value{Kind: IntValue, Int: 200}, uint64(200), ""},
		{"uint32", UInt32, Value{Kind: IntValue, Int: math.MaxUint32}, uint64(math.MaxUint32), ""},
		{"uint64", UInt64, Value{Kind: LongValue, Long: math.MaxUint64}, uint64(math.MaxUint64), ""},
		{"float", Float, Value{Kind: FloatValue, Float: 1.5}, float32(1.5), ""},
		{"double", Double, Value{Kind: DoubleValue, Double: -2.25}, -2.25, ""},
		{"boolean", Boolean, Value{Kind: BoolValue, Bool: true}, true, ""},
		{"string", String, Value{Kind: StringValue, String: "hi"}, "hi", ""},
		{"uuid", UUID, Value{Kind: StringValue, String: "u"}, "u", ""},
		{"datetime", DateTime, Value{Kind: LongValue, Long: ms}, when, ""},
		{"bytes", Bytes, Value{Kind: BytesValue, Raw: []byte{1, 2}}, []byte{1, 2}, ""},
		{"no value", Int32, Value{}, nil, ""},
		{"unknown datatype keeps wire kind", Unknown, Value{Kind: IntValue, Int: 5}, uint32(5), ""},
		// Examples of the Sparkplug 3.0 specification, section 6.4.17, with
		// the little-endian corrections of eclipse-sparkplug/sparkplug#436.
		{"int8 array", Int8Array, Value{Kind: BytesValue, Raw: []byte{0xef, 0x7b}}, []int64{-17, 123}, ""},
		{"int32 array", Int32Array, Value{Kind: BytesValue, Raw: []byte{0x15, 0xcd, 0x5b, 0x07, 0xb1, 0x68, 0xde, 0x3a}}, []int64{123456789, 987654321}, ""},
		{"uint32 array", UInt32Array, Value{Kind: BytesValue, Raw: []byte{0x34, 0, 0, 0, 0x49, 0xfb, 0x55, 0xc4}}, []uint64{52, 3293969225}, ""},
		{"float array", FloatArray, Value{Kind: BytesValue, Raw: []byte{0xa4, 0x70, 0x9d, 0x3f, 0x98, 0xae, 0xb2, 0x42}}, []float32{1.23, 89.341}, ""},
		{"double array", DoubleArray, Value{Kind: BytesValue, Raw: []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x3f}}, []float64{1.5}, ""},
		{"boolean array", BooleanArray, Value{Kind: BytesValue, Raw: []byte{0x0c, 0, 0, 0, 0x34, 0xd0}},
			[]bool{false, false, true, true, false, true, false, false, true, true, false, true}, ""},
		{"string array", StringArray, Value{Kind: BytesValue, Raw: []byte("ABC\x00hello\x00")}, []string{"ABC", "hello"}, ""},
		{"datetime array", DateTimeArray, Value{Kind: BytesValue, Raw: []byte{0x7b, 0x68, 0xe5, 0xcf, 0x8b, 0x01, 0, 0}}, []time.Time{when}, ""},
		{"ragged int16 array", Int16Array, Value{Kind: BytesValue, Raw: []byte{1, 2, 3}}, nil, "whole number"},
		{"boolean array short count", BooleanArray, Value{Kind: BytesValue, Raw: []byte{1, 0}}, nil, "4-byte count"},
		{"boolean array bits missing", BooleanArray, Value{Kind: BytesValue, Raw: []byte{9, 0, 0, 0, 0xff}}, nil, "need 2 bytes"},
		{"string array unterminated", StringArray, Value{Kind: BytesValue, Raw: []byte("ABC")}, nil, "NUL"},
		{"float in string_value", Float, Value{Kind: StringValue, String: "1"}, nil, "needs float_value"},
		{"undefined datatype", DataType(99), Value{Kind: IntValue}, nil, "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Typed(tt.t, tt.v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDataTypeString(t *testing.T) {
	for _, tt := range []struct {
		t    DataType
		want string
	}{{Int8, "Int8"}, {DataSetType, "DataSet"}, {DateTimeArray, "DateTimeArray"}, {99, "DataType(99)"}} {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("%d: %q, want %q", uint32(tt.t), got, tt.want)
		}
	}
}

func TestParseTopic(t *testing.T) {
	tests := []struct {
		topic string
		want  Topic
		ok    bool
	}{
		{"spBv1.0/Plant1/NBIRTH/Edge1", Topic{Group: "Plant1", MessageType: NBIRTH, EdgeNode: "Edge1"}, true},
		{"spBv1.0/Plant1/DDATA/Edge1/Pump 3", Topic{Group: "Plant1", MessageType: DDATA, EdgeNode: "Edge1", Device: "Pump 3"}, true},
		{"spBv1.0/STATE/scada-1", Topic{MessageType: STATE, HostID: "scada-1"}, true},
		{"spBv1.0/Plant1/NDATA/Edge1/extra", Topic{}, false},
		{"spBv1.0/Plant1/DDATA/Edge1", Topic{}, false},
		{"spBv1.0/Plant1/NOPE/Edge1", Topic{}, false},
		{"spBv1.0/Plant1//Edge1", Topic{}, false},
		{"spBv1.0/Plant1", Topic{}, false},
		{"spAv1.0/Plant1/NDATA/Edge1", Topic{}, false},
		{"sensors/temp", Topic{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseTopic(tt.topic)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%q: %+v %v, want %+v %v", tt.topic, got, ok, tt.want, tt.ok)
		}
		if IsTopic(tt.topic) != strings.HasPrefix(tt.topic, "spBv1.0/") {
			t.Errorf("IsTopic(%q) wrong", tt.topic)
		}
	}
}

func TestMarshalRefusesMisplacedValue(t *testing.T) {
	p := &Payload{Metrics: []Metric{{Properties: &PropertySet{Keys: []string{"k"},
		Values: []PropertyValue{{Value: Value{Kind: BytesValue, Raw: []byte{1}}}}}}}}
	if _, err := Marshal(p); err == nil || !strings.Contains(err.Error(), "bytes_value is not allowed") {
		t.Fatalf("error %v", err)
	}
}

// FuzzUnmarshal: no input panics or recurses without bound, and whatever
// decodes re-encodes to a fixed point (decode, encode, decode, encode gives
// the same bytes twice), which checks the encoder against the decoder.
func FuzzUnmarshal(f *testing.F) {
	f.Add(mustHex(f, protocVector))
	f.Add(nestedPropertySets(10))
	f.Add([]byte{0x08, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Unmarshal(in)
		if err != nil {
			return
		}
		for i := range p.Metrics {
			if m := &p.Metrics[i]; m.Datatype != nil {
				_, _ = Typed(*m.Datatype, m.Value) // must not panic
			}
		}
		b1, err := Marshal(p)
		if err != nil {
			t.Fatalf("decoded payload does not encode: %v", err)
		}
		p2, err := Unmarshal(b1)
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		b2, err := Marshal(p2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("not a fixed point: %v\n%x\n%x", err, b1, b2)
		}
	})
}
