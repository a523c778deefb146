package decode

import (
	"bytes"
	"strconv"
)

// PayloadPath is the path of a payload that is itself a number ("21.5").
const PayloadPath = "payload"

// Field is one number in a payload.
type Field struct {
	// Path addresses the value the same way in every message of a topic:
	// "temp", "battery.level", "values[0]", `a["b.c"]`, a Sparkplug metric's
	// name (or "alias N"), or PayloadPath for a bare number.
	Path  string
	Value float64
	// Bool means the value was a boolean (true 1, false 0), which charts as
	// a step line.
	Bool bool
}

// NumericFields lists the numbers (and booleans) of a payload in document
// order, for a chart's field picker: the payload itself when it is a
// number, the numeric leaves of a JSON, CBOR or MessagePack document, the
// numeric metrics of a Sparkplug B payload (template members as
// "template/member"). Format f is decoded as by Decode, Auto included; a
// payload that does not decode has no fields. At most MaxTreeNodes values
// are looked at, so a huge payload costs bounded time.
func NumericFields(f Format, topic string, payload []byte) []Field {
	if v, ok := bareNumber(payload); ok {
		return []Field{{Path: PayloadPath, Value: v}}
	}
	r := Decode(f, topic, payload, "")
	if r.Err != nil {
		return nil
	}
	root := r.Tree()
	if root == nil {
		return nil
	}
	var out []Field
	var walk func(n *Node)
	walk = func(n *Node) {
		if n.hasNum && n.Path != "" {
			out = append(out, Field{Path: n.Path, Value: n.num, Bool: n.isBool})
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	if root.hasNum && root.Path == "" {
		// A document that is one number (CBOR 21.5, JSON 1e3). A Sparkplug
		// root is the message, never a number.
		return []Field{{Path: PayloadPath, Value: root.num, Bool: root.isBool}}
	}
	walk(root)
	return out
}

// Number returns the value at path in payload, as NumericFields names it,
// for charting one field over a topic's history.
func Number(f Format, topic string, payload []byte, path string) (float64, bool) {
	for _, fl := range NumericFields(f, topic, payload) {
		if fl.Path == path {
			return fl.Value, true
		}
	}
	return 0, false
}

// bareNumber reads a payload that is just a number, as devices often
// publish ("21.5", " 42\n"). NaN and infinities are not chartable.
func bareNumber(payload []byte) (float64, bool) {
	s := bytes.TrimSpace(stripBOM(payload))
	if len(s) == 0 || len(s) > 64 {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(s), 64)
	if err != nil || !finite(v) {
		return 0, false
	}
	return v, true
}
