package decode

import (
	"encoding/hex"
	"testing"

	"github.com/iotstudio/iotstudio/engine/decode/sparkplugb"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// sparkplugSample encodes a DDATA-like payload with the sparkplugb encoder
// (itself checked byte for byte against protoc in its own tests).
func sparkplugSample(t testing.TB) []byte {
	t.Helper()
	p := &sparkplugb.Payload{
		Timestamp: ptr(uint64(1700000000123)),
		Seq:       ptr(uint64(4)),
		Metrics: []sparkplugb.Metric{
			{Name: ptr("Temperature"), Alias: ptr(uint64(3)), Datatype: ptr(sparkplugb.Float),
				Value: sparkplugb.Value{Kind: sparkplugb.FloatValue, Float: 21.5},
				Properties: &sparkplugb.PropertySet{Keys: []string{"engUnit"},
					Values: []sparkplugb.PropertyValue{{Type: ptr(sparkplugb.String), Value: sparkplugb.Value{Kind: sparkplugb.StringValue, String: "°C"}}}}},
			{Alias: ptr(uint64(7)), Datatype: ptr(sparkplugb.Int16), Value: sparkplugb.Value{Kind: sparkplugb.IntValue, Int: 0xfffe}},
			{Name: ptr("Running"), Datatype: ptr(sparkplugb.Boolean), Value: sparkplugb.Value{Kind: sparkplugb.BoolValue, Bool: true}},
			{Name: ptr("Label"), Datatype: ptr(sparkplugb.String), Value: sparkplugb.Value{Kind: sparkplugb.StringValue, String: "line 1"}},
			{Name: ptr("Missing"), Datatype: ptr(sparkplugb.Double), IsNull: ptr(true)},
			{Name: ptr("Speeds"), Datatype: ptr(sparkplugb.Int32Array), Value: sparkplugb.Value{Kind: sparkplugb.BytesValue, Raw: []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}}},
			{Name: ptr("Motor"), Datatype: ptr(sparkplugb.TemplateType), Value: sparkplugb.Value{Kind: sparkplugb.TemplateValue, Template: &sparkplugb.Template{
				TemplateRef: ptr("MotorType"),
				Metrics: []sparkplugb.Metric{{Name: ptr("rpm"), Datatype: ptr(sparkplugb.Double),
					Value: sparkplugb.Value{Kind: sparkplugb.DoubleValue, Double: 1500.5}}},
			}}},
			{Name: ptr("Table"), Datatype: ptr(sparkplugb.DataSetType), Value: sparkplugb.Value{Kind: sparkplugb.DataSetValue, DataSet: &sparkplugb.DataSet{
				NumColumns: ptr(uint64(2)), Columns: []string{"id", "name"}, Types: []sparkplugb.DataType{sparkplugb.Int32, sparkplugb.String},
				Rows: []sparkplugb.Row{{Elements: []sparkplugb.Value{{Kind: sparkplugb.IntValue, Int: 1}, {Kind: sparkplugb.StringValue, String: "a"}}}},
			}}},
		},
	}
	b, err := sparkplugb.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countNodes counts a tree's nodes.
func countNodes(n *Node) int {
	if n == nil {
		return 0
	}
	c := 1
	for _, ch := range n.Children {
		c += countNodes(ch)
	}
	return c
}

// sparkplugSampleWith encodes one metric with the given datatype and a
// string value, to test datatype mismatches.
func sparkplugSampleWith(t testing.TB, name string, dt uint32, s string) []byte {
	t.Helper()
	b, err := sparkplugb.Marshal(&sparkplugb.Payload{Metrics: []sparkplugb.Metric{{
		Name: ptr(name), Datatype: ptr(sparkplugb.DataType(dt)),
		Value: sparkplugb.Value{Kind: sparkplugb.StringValue, String: s},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
