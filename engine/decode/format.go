package decode

import (
	"fmt"
	"strings"
)

// Format names a decoder. The zero value is not a format; use Auto.
type Format string

// The formats, in the order Formats lists them for a picker.
const (
	Auto        Format = "auto"
	Text        Format = "text"
	JSON        Format = "json"
	Hex         Format = "hex"
	Base64      Format = "base64"
	CBOR        Format = "cbor"
	MessagePack Format = "msgpack"
	SparkplugB  Format = "sparkplugb"
)

var formats = []Format{Auto, Text, JSON, Hex, Base64, CBOR, MessagePack, SparkplugB}

var labels = map[Format]string{
	Auto: "Auto", Text: "Text", JSON: "JSON", Hex: "Hex", Base64: "Base64",
	CBOR: "CBOR", MessagePack: "MessagePack", SparkplugB: "Sparkplug B",
}

// Formats returns every format, Auto first, for a format picker.
func Formats() []Format { return append([]Format(nil), formats...) }

// Label returns the name to show for f ("Sparkplug B").
func (f Format) Label() string {
	if l, ok := labels[f]; ok {
		return l
	}
	return string(f)
}

// ParseFormat accepts a format's value or label, in any case ("msgpack",
// "MessagePack", "Sparkplug B").
func ParseFormat(s string) (Format, error) {
	for _, f := range formats {
		if strings.EqualFold(s, string(f)) || strings.EqualFold(s, labels[f]) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown payload format %q (want one of auto, text, json, hex, base64, cbor, msgpack, sparkplugb)", s)
}
