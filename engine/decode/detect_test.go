package decode

import "testing"

func TestDetect(t *testing.T) {
	const sp = "spBv1.0/Plant/DDATA/Edge/Pump"
	tests := []struct {
		name        string
		topic       string
		payload     []byte
		contentType string
		want        Format
	}{
		{"empty", "", nil, "", Text},
		{"plain text", "", []byte("hello world"), "", Text},
		{"text that is also CBOR (the string \"b\")", "", []byte("ab"), "", Text},
		{"digit that is also CBOR and MessagePack", "", []byte("1"), "", Text},
		{"number is text without a content type", "", []byte("21.5"), "", Text},
		{"number with a JSON content type", "", []byte("21.5"), "application/json", JSON},
		{"bool with a +json content type", "", []byte("true"), "application/vnd.x+json; charset=utf-8", JSON},
		{"JSON content type on non-JSON", "", []byte("hi"), "application/json", Text},
		{"text/json on broken JSON with an escape is not claimed as text", "", []byte("{\x1b"), "text/json", Hex},
		{"text/plain claims text with an escape", "", []byte("\x1b[31mred"), "text/plain", Text},
		{"JSON object", "", []byte(`{"temp":21.5}`), "", JSON},
		{"JSON array after whitespace", "", []byte("\n  [1,2]"), "", JSON},
		{"JSON with a UTF-8 BOM", "", []byte("\xef\xbb\xbf{\"a\":1}"), "", JSON},
		{"broken JSON is text", "", []byte(`{"a":`), "", Text},
		{"multi-line text with CRLF and tab", "", []byte("a\tb\r\nc\n"), "", Text},
		{"UTF-8 text", "", []byte("température °C"), "", Text},
		{"text with an escape character", "", []byte("\x1b[31mred"), "", Hex},
		{"invalid UTF-8", "", []byte{'a', 0xff, 'b'}, "", Hex},
		{"CBOR map", "", unhex(t, "a26161016162820203"), "", CBOR},
		{"CBOR self-describe tag", "", unhex(t, "d9d9f7a161610a"), "", CBOR},
		{"CBOR content type", "", unhex(t, "a161610a"), "application/cbor", CBOR},
		{"MessagePack map", "", unhex(t, "82a474656d70cb4035800000000000a176c3"), "", MessagePack},
		{"MessagePack array16", "", unhex(t, "dc0002c0c3"), "", MessagePack},
		{"MessagePack content type", "", unhex(t, "93010203"), "application/x-msgpack", MessagePack},
		{"binary scalar is too ambiguous", "", []byte{0x05}, "", Hex},
		{"random binary", "", unhex(t, "00ff13377f80"), "", Hex},
		{"CBOR array with trailing byte", "", unhex(t, "820102ff"), "", Hex},
		{"Sparkplug topic and payload", sp, sparkplugSample(t), "", SparkplugB},
		{"Sparkplug topic with JSON payload", sp, []byte(`{"a":1}`), "", JSON},
		{"Sparkplug STATE is JSON", "spBv1.0/STATE/host1", []byte(`{"online":true,"timestamp":1}`), "", JSON},
		{"Sparkplug payload off a Sparkplug topic", "plant/pump", sparkplugSample(t), "", Hex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect(tt.topic, tt.payload, tt.contentType); got != tt.want {
				t.Fatalf("Detect = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		ok   bool
	}{
		{"auto", Auto, true}, {"MessagePack", MessagePack, true}, {"msgpack", MessagePack, true},
		{"Sparkplug B", SparkplugB, true}, {"JSON", JSON, true}, {"yaml", "", false},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v", tt.in, got, err)
		}
	}
	fs := Formats()
	if len(fs) != 8 || fs[0] != Auto {
		t.Fatalf("Formats() = %v", fs)
	}
	for _, f := range fs {
		if back, err := ParseFormat(f.Label()); err != nil || back != f {
			t.Errorf("label %q of %s does not parse back: %v %v", f.Label(), f, back, err)
		}
	}
}
