package decode

import (
	"reflect"
	"testing"
)

func TestNumericFields(t *testing.T) {
	tests := []struct {
		name    string
		f       Format
		topic   string
		payload []byte
		want    []Field
	}{
		{"bare number", Auto, "", []byte(" 21.5\n"), []Field{{Path: PayloadPath, Value: 21.5}}},
		{"bare negative exponent", Text, "", []byte("-1e-3"), []Field{{Path: PayloadPath, Value: -0.001}}},
		{"NaN is not chartable", Auto, "", []byte("NaN"), nil},
		{"text", Auto, "", []byte("hello 5"), nil},
		{"JSON fields in document order", Auto, "", []byte(`{"temp":21.5,"battery":{"level":87,"ok":true},"values":[1,"x",3],"name":"a","a.b":2}`),
			[]Field{{"temp", 21.5, false}, {"battery.level", 87, false}, {"battery.ok", 1, true},
				{"values[0]", 1, false}, {"values[2]", 3, false}, {`["a.b"]`, 2, false}}},
		{"JSON root array", JSON, "", []byte(`[{"v":1},{"v":2}]`), []Field{{"[0].v", 1, false}, {"[1].v", 2, false}}},
		{"JSON number with content type only as JSON", JSON, "", []byte(`42`), []Field{{Path: PayloadPath, Value: 42}}},
		{"CBOR", Auto, "", unhex(t, "a26161016162820203"), []Field{{"a", 1, false}, {"b[0]", 2, false}, {"b[1]", 3, false}}},
		{"CBOR single float document", CBOR, "", unhex(t, "f93e00"), []Field{{Path: PayloadPath, Value: 1.5}}},
		{"MessagePack", Auto, "", unhex(t, "82a474656d70cb4035800000000000a176c3"), []Field{{"temp", 21.5, false}, {"v", 1, true}}},
		{"Sparkplug metrics by name and alias", Auto, "spBv1.0/G/DDATA/E/D", nil,
			[]Field{{"Temperature", 21.5, false}, {"alias 7", -2, false}, {"Running", 1, true}, {"Motor/rpm", 1500.5, false}}},
		{"undecodable payload has none", JSON, "", []byte(`{"a":`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := tt.payload
			if payload == nil {
				payload = sparkplugSample(t)
			}
			got := NumericFields(tt.f, tt.topic, payload)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			for _, fl := range tt.want {
				v, ok := Number(tt.f, tt.topic, payload, fl.Path)
				if !ok || v != fl.Value {
					t.Errorf("Number(%q) = %v %v, want %v", fl.Path, v, ok, fl.Value)
				}
			}
		})
	}
	if _, ok := Number(Auto, "", []byte(`{"a":1}`), "b"); ok {
		t.Error("Number found a path that is not there")
	}
}
