package decode

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTreeNodes bounds the nodes of one Result.Tree. Past it, building stops
// and the containers still open are marked Truncated: a tree of a million
// nodes helps nobody and would cost hundreds of megabytes. The text and hex
// views still show every byte.
const MaxTreeNodes = 100_000

// Kind says what sort of value a Node holds.
type Kind uint8

// Node kinds.
const (
	KindNull Kind = iota
	KindBool
	KindNumber
	KindString
	KindBytes
	KindTime
	KindObject
	KindArray
	KindOther // CBOR simple values, MessagePack extensions, ...
)

var kindNames = [...]string{"null", "bool", "number", "string", "bytes", "time", "object", "array", "other"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Node is one entry of the collapsible tree of a structured payload.
type Node struct {
	// Key labels the node: an object key, "[3]" for an array element, a
	// Sparkplug metric's name; empty for the root.
	Key string
	// Path addresses the value for NumericFields and Number ("battery.level",
	// "values[0]", a metric name); empty when the value has no such address.
	Path string
	Kind Kind
	// Value is the rendered value: the number, the string (any bytes made
	// valid UTF-8), "true", an RFC 3339 time, hex for bytes; for objects and
	// arrays a summary ("3 keys", "10 items").
	Value string
	// Type annotates the value: a CBOR tag ("tag 1"), a MessagePack
	// extension ("ext 5"), a Sparkplug datatype ("Float").
	Type     string
	Children []*Node
	// Truncated means building stopped at MaxTreeNodes inside this node:
	// Children are only the first ones.
	Truncated bool

	num    float64 // the value, for NumericFields, when hasNum
	hasNum bool
	isBool bool
}

// Preview returns Value for one line of a tree: line breaks as ⏎, control
// characters as their pictures, cut to at most max runes with "…".
func (n *Node) Preview(max int) string {
	return clip(printable(oneLine(n.Value)), max)
}

func clip(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < max {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + "…"
}

// budget counts the nodes a tree may still get.
type budget struct{ left int }

func newBudget() *budget { return &budget{left: MaxTreeNodes} }

func (b *budget) take() bool {
	if b.left <= 0 {
		return false
	}
	b.left--
	return true
}

// childPath extends path by an object key: "a.b", or `a["x.y"]` when the
// key is not a plain word.
func childPath(path, key string) string {
	if plainKey(key) {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

func countLabel(n int, one, many string, more bool) string {
	s := strconv.Itoa(n)
	if more {
		s += "+"
	}
	if n == 1 && !more {
		return s + " " + one
	}
	return s + " " + many
}

// renderJSONish writes n as indented JSON, with the notation of RFC 8949
// diagnostic notation where JSON has none: h'0102' for bytes, 1(...) for
// a CBOR tag. Object keys are always quoted, whatever their type was.
func renderJSONish(n *Node) string {
	var sb strings.Builder
	writeJSONish(&sb, n, 0)
	sb.WriteByte('\n')
	return sb.String()
}

func writeIndent(sb *strings.Builder, depth int) {
	for range depth {
		sb.WriteString("  ")
	}
}

func writeJSONish(sb *strings.Builder, n *Node, depth int) {
	tag, tagged := strings.CutPrefix(n.Type, "tag ")
	if tagged {
		sb.WriteString(tag)
		sb.WriteByte('(')
	}
	switch n.Kind {
	case KindObject, KindArray:
		open, close := byte('{'), byte('}')
		if n.Kind == KindArray {
			open, close = '[', ']'
		}
		sb.WriteByte(open)
		if len(n.Children) == 0 && !n.Truncated {
			sb.WriteByte(close)
			break
		}
		sb.WriteByte('\n')
		for i, c := range n.Children {
			writeIndent(sb, depth+1)
			if n.Kind == KindObject {
				writeJSONString(sb, c.Key)
				sb.WriteString(": ")
			}
			writeJSONish(sb, c, depth+1)
			if i < len(n.Children)-1 || n.Truncated {
				sb.WriteByte(',')
			}
			sb.WriteByte('\n')
		}
		if n.Truncated {
			writeIndent(sb, depth+1)
			sb.WriteString("… (tree limit reached; the hex view shows every byte)\n")
		}
		writeIndent(sb, depth)
		sb.WriteByte(close)
	case KindString, KindTime:
		writeJSONString(sb, n.Value)
	case KindBytes:
		if ext, ok := strings.CutPrefix(n.Type, "ext "); ok {
			// A MessagePack extension: its type number, then its data.
			sb.WriteString("ext(" + ext + ", h'" + n.Value + "')")
			break
		}
		sb.WriteString("h'")
		sb.WriteString(n.Value)
		sb.WriteByte('\'')
	default:
		sb.WriteString(n.Value)
	}
	if tagged {
		sb.WriteByte(')')
	}
}

// writeJSONString writes s as a JSON string literal. Invalid UTF-8 becomes
// U+FFFD; control characters are escaped.
func writeJSONString(sb *strings.Builder, s string) {
	const hexDigits = "0123456789abcdef"
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			sb.WriteString(`\u00`)
			sb.WriteByte(hexDigits[r>>4])
			sb.WriteByte(hexDigits[r&0xf])
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
}

// renderOutline writes n as an indented outline, one "key: value (type)"
// per line; it suits trees whose nodes have both a value and details, such
// as Sparkplug metrics. The root's Value, if any, is the first line.
func renderOutline(n *Node) string {
	var sb strings.Builder
	if n.Value != "" {
		sb.WriteString(n.Value)
		sb.WriteByte('\n')
	}
	for _, c := range n.Children {
		writeOutline(&sb, c, 0)
	}
	if n.Truncated {
		sb.WriteString("… (tree limit reached; the hex view shows every byte)\n")
	}
	return sb.String()
}

func writeOutline(sb *strings.Builder, n *Node, depth int) {
	writeIndent(sb, depth)
	sb.WriteString(n.Key)
	if n.Value != "" {
		sb.WriteString(": ")
		sb.WriteString(oneLine(n.Value))
	}
	if n.Type != "" {
		sb.WriteString("  (")
		sb.WriteString(n.Type)
		sb.WriteByte(')')
	}
	sb.WriteByte('\n')
	for _, c := range n.Children {
		writeOutline(sb, c, depth+1)
	}
	if n.Truncated {
		writeIndent(sb, depth+1)
		sb.WriteString("… (tree limit reached)\n")
	}
}

// oneLine keeps a value on its line: newlines are shown as ⏎.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎").Replace(s)
}
