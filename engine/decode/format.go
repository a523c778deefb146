package decode

import (
	"fmt"
	"strings"
)

// Format names a decoder. The zero value is not a format; use Auto.
type Format string

// Auto asks Detect for the format. Each format's constant is in its file.
const Auto Format = "auto"

// Formats returns every format, Auto first, for a format picker.
func Formats() []Format {
	out := []Format{Auto}
	for _, r := range registry {
		out = append(out, r.Format())
	}
	return out
}

// Label returns the name to show for f ("Sparkplug B").
func (f Format) Label() string {
	if f == Auto {
		return "Auto"
	}
	if d := decoderFor(f); d != nil {
		return d.Label()
	}
	return string(f)
}

// ParseFormat accepts a format's value or label, in any case ("msgpack",
// "MessagePack", "Sparkplug B").
func ParseFormat(s string) (Format, error) {
	fs := Formats()
	names := make([]string, len(fs))
	for i, f := range fs {
		if strings.EqualFold(s, string(f)) || strings.EqualFold(s, f.Label()) {
			return f, nil
		}
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown payload format %q (want one of %s)", s, strings.Join(names, ", "))
}
