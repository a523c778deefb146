package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"
)

// JSON is a JSON document, shown indented with its key order and number
// spelling kept, and as a tree.
const JSON Format = "json"

type jsonFormat struct{}

func (jsonFormat) Format() Format { return JSON }
func (jsonFormat) Label() string  { return "JSON" }

func (jsonFormat) Claims(p Payload) bool {
	mt := p.MediaType
	return (mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json") &&
		json.Valid(stripBOM(p.Bytes))
}

// Looks: an object or array only; a bare 21.5 or "hi" is text unless a
// content type says JSON.
func (jsonFormat) Looks(p Payload) bool {
	body := stripBOM(p.Bytes)
	first := firstNonSpace(body)
	return (first == '{' || first == '[') && json.Valid(body)
}

func (jsonFormat) Decode(p Payload) (View, error) {
	text, err := prettyJSON(p.Bytes, p.Checked)
	if err != nil {
		return View{}, err
	}
	return View{Text: text, Tree: func() *Node { return jsonTree(p.Bytes) }}, nil
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// stripBOM drops a UTF-8 byte order mark, which some Windows tools write
// and encoding/json rejects.
func stripBOM(b []byte) []byte { return bytes.TrimPrefix(b, utf8BOM) }

// prettyJSON indents a JSON payload exactly as json.Indent(dst, src, "",
// "  ") would (the fuzz test checks), keeping key order and number
// spelling, and fails with the byte offset of the first error. valid says
// the caller already ran json.Valid (Detect does), which saves a pass:
// json.Indent itself scans twice, and on 10 MB each pass is ~30 ms.
func prettyJSON(payload []byte, valid bool) (string, error) {
	body := stripBOM(payload)
	if !valid && !json.Valid(body) {
		// Only a failure asks encoding/json where the document breaks.
		var discard bytes.Buffer
		err := json.Indent(&discard, body, "", "")
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return "", fmt.Errorf("invalid JSON at byte %d: %w", se.Offset+int64(len(payload)-len(body)), err)
		}
		return "", fmt.Errorf("invalid JSON: %w", err)
	}
	return indentValidJSON(body), nil
}

// indentValidJSON indents a document json.Valid accepted, in one pass.
func indentValidJSON(src []byte) string {
	// Indentation typically doubles telemetry JSON; growing past that copies.
	dst := make([]byte, 0, 2*len(src)+16)
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		for range depth {
			dst = append(dst, ' ', ' ')
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			// Copy the string up to its closing quote, skipping escaped ones.
			j := i + 1
			for ; j < len(src); j++ {
				if src[j] == '\\' {
					j++
				} else if src[j] == '"' {
					break
				}
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			// An empty container stays on one line, as json.Indent keeps it.
			k := i + 1
			for k < len(src) && (src[k] == ' ' || src[k] == '\t' || src[k] == '\r' || src[k] == '\n') {
				k++
			}
			if k < len(src) && (src[k] == '}' || src[k] == ']') {
				dst = append(dst, src[k])
				i = k
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, ',')
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			// Numbers, true, false, null: copy up to the next delimiter.
			j := i
			for j < len(src) && !isJSONDelim(src[j]) {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j - 1
		}
	}
	dst = append(dst, '\n')
	return unsafe.String(unsafe.SliceData(dst), len(dst)) // dst is never written again
}

func isJSONDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ':', '{', '}', '[', ']', '"':
		return true
	}
	return false
}

// errBudget stops tree building when MaxTreeNodes is reached.
var errBudget = errors.New("tree node budget spent")

// jsonTree builds the tree of a JSON payload that prettyJSON accepted. It
// streams tokens, so it stops reading once the budget is spent.
func jsonTree(payload []byte) *Node {
	dec := json.NewDecoder(bytes.NewReader(stripBOM(payload)))
	dec.UseNumber()
	b := newBudget()
	tok, err := dec.Token()
	if err != nil {
		return &Node{Kind: KindOther, Value: err.Error()}
	}
	b.take()
	root, _ := jsonNode(dec, b, tok, "", "")
	return root
}

// jsonNode builds the node for tok (already read) and, for containers,
// everything up to the matching close token.
func jsonNode(dec *json.Decoder, b *budget, tok json.Token, key, path string) (*Node, error) {
	n := &Node{Key: key, Path: path}
	switch v := tok.(type) {
	case nil:
		n.Kind, n.Value = KindNull, "null"
	case bool:
		n.Kind, n.Value, n.hasNum, n.isBool = KindBool, strconv.FormatBool(v), true, true
		if v {
			n.num = 1
		}
	case json.Number:
		n.Kind, n.Value = KindNumber, v.String()
		if f, err := v.Float64(); err == nil {
			n.num, n.hasNum = f, true
		}
	case string:
		n.Kind, n.Value = KindString, v
	case json.Delim:
		isObject := v == '{'
		n.Kind = KindArray
		if isObject {
			n.Kind = KindObject
		}
		for i := 0; dec.More(); i++ {
			var ckey, cpath string
			if isObject {
				kt, err := dec.Token()
				if err != nil {
					return n, err
				}
				ckey, _ = kt.(string)
				cpath = childPath(path, ckey)
			} else {
				ckey, cpath = "["+strconv.Itoa(i)+"]", indexPath(path, i)
			}
			if !b.take() {
				n.Truncated = true
				n.Value = jsonSummary(n)
				return n, errBudget
			}
			ct, err := dec.Token()
			if err != nil {
				return n, err
			}
			child, err := jsonNode(dec, b, ct, ckey, cpath)
			n.Children = append(n.Children, child)
			if err != nil {
				n.Truncated = true
				n.Value = jsonSummary(n)
				return n, err
			}
		}
		if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
			return n, err
		}
		n.Value = jsonSummary(n)
	}
	return n, nil
}

func jsonSummary(n *Node) string {
	if n.Kind == KindObject {
		return countLabel(len(n.Children), "key", "keys", n.Truncated)
	}
	return countLabel(len(n.Children), "item", "items", n.Truncated)
}
