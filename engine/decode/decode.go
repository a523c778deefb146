package decode

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"
)

// EmptyPayload is the only line of the view of an empty payload (such as
// the one that deletes a retained message).
const EmptyPayload = "(empty payload)"

// Result is a decoded payload. It is safe for concurrent use; do not copy.
type Result struct {
	// Requested is the format Decode was asked for (possibly Auto).
	Requested Format
	// Tried is the decoder that ran: Requested, or Detect's choice for Auto.
	Tried Format
	// Format is the view produced: Tried, or Hex when Tried failed.
	Format Format
	// Err says why Tried could not decode the payload; the view is then the
	// hex dump of the payload. Nil when Tried worked.
	Err error
	// Inner is, for Base64, the format the decoded bytes were shown in.
	Inner Format
	// Text is the whole text view: the payload as text, indented JSON, the
	// rendering of a CBOR, MessagePack or Sparkplug document. Empty for a
	// hex view. Lines pages through it.
	Text string
	// Bytes are the bytes the hex view shows: the payload, or for Base64
	// the decoded bytes.
	Bytes []byte

	empty     bool
	hexView   bool
	jsonValid bool
	pager     *pager
	treeOnce  sync.Once
	buildTree func() *Node
	tree      *Node
}

// Fallback reports whether the chosen format failed and the view fell back
// to the hex dump.
func (r *Result) Fallback() bool { return r.Err != nil }

// Tree returns the collapsible tree of a JSON, CBOR, MessagePack or
// Sparkplug view (built on first call, at most MaxTreeNodes nodes), or nil
// for other views.
func (r *Result) Tree() *Node {
	r.treeOnce.Do(func() {
		if r.buildTree != nil {
			r.tree = r.buildTree()
			r.buildTree = nil
		}
	})
	return r.tree
}

// LineCount returns the number of lines of the view; never 0.
func (r *Result) LineCount() int {
	switch {
	case r.empty:
		return 1
	case r.hexView:
		return max(1, HexLineCount(r.Bytes))
	}
	return max(1, r.pager.rows)
}

// Lines returns lines [from, from+n) of the view, each printable and at
// most MaxLineBytes long: hex dump rows, or the text wrapped and with
// control characters made visible. An empty payload is one line,
// EmptyPayload; an empty document (the text "") is one empty line.
func (r *Result) Lines(from, n int) []string {
	switch {
	case r.empty:
		if from <= 0 && from+n > 0 {
			return []string{EmptyPayload}
		}
		return nil
	case r.hexView:
		if len(r.Bytes) == 0 {
			if from <= 0 && from+n > 0 {
				return []string{EmptyPayload}
			}
			return nil
		}
		return HexLines(r.Bytes, from, n)
	}
	if r.pager.rows == 0 {
		if from <= 0 && from+n > 0 {
			return []string{""}
		}
		return nil
	}
	return r.pager.lines(from, n)
}

// Decode renders payload in format f; Auto asks Detect (topic and the MQTT
// 5 content type help it). When f does not fit, Result.Err says why and the
// view is the hex dump, so the inspector is never blank.
func Decode(f Format, topic string, payload []byte, contentType string) *Result {
	r := &Result{Requested: f, Tried: f, Bytes: payload}
	if f == Auto {
		r.Tried = Detect(topic, payload, contentType)
	}
	r.Format = r.Tried
	if len(payload) == 0 {
		r.empty = true
		return r
	}
	// Detect has run json.Valid on what it calls JSON; no need to again.
	r.jsonValid = f == Auto && r.Tried == JSON
	if err := r.decodeAs(r.Tried, topic, payload); err != nil {
		r.Err = err
		r.Format = Hex
		r.Text, r.Inner, r.Bytes, r.buildTree, r.pager = "", "", payload, nil, nil
		r.hexView = true
	}
	return r
}

func (r *Result) decodeAs(f Format, topic string, payload []byte) error {
	switch f {
	case Text:
		if !utf8.Valid(payload) {
			return fmt.Errorf("not UTF-8 text: invalid byte at offset %d", invalidUTF8At(payload))
		}
		r.setText(string(stripBOM(payload)))
	case JSON:
		text, err := prettyJSON(payload, r.jsonValid)
		if err != nil {
			return err
		}
		r.setText(text)
		r.buildTree = func() *Node { return jsonTree(payload) }
	case Hex:
		r.hexView = true
	case Base64:
		raw, err := decodeBase64(payload)
		if err != nil {
			return err
		}
		r.Bytes = raw
		r.Inner = Detect("", raw, "")
		r.jsonValid = r.Inner == JSON
		if len(raw) == 0 {
			r.empty = true
			return nil
		}
		// The inner format was detected, so it decodes; Hex is the catch-all.
		if err := r.decodeAs(r.Inner, "", raw); err != nil {
			return fmt.Errorf("base64 content as %s: %w", r.Inner.Label(), err)
		}
	case CBOR, MessagePack, SparkplugB:
		var tree *Node
		var err error
		switch f {
		case CBOR:
			tree, err = cborTree(payload)
		case MessagePack:
			tree, err = mpTree(payload)
		default:
			tree, err = sparkplugTree(topic, payload)
		}
		if err != nil {
			return err
		}
		if f == SparkplugB {
			r.setText(renderOutline(tree))
		} else {
			r.setText(renderJSONish(tree))
		}
		r.buildTree = func() *Node { return tree }
	default:
		return fmt.Errorf("unknown payload format %q", f)
	}
	return nil
}

func (r *Result) setText(s string) {
	r.Text = s
	r.pager = newPager(s)
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		c, size := utf8.DecodeRune(b[i:])
		if c == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

var base64Encodings = []*base64.Encoding{
	base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
}

// decodeBase64 accepts the standard and URL alphabets, padded or not, and
// ignores whitespace (line-wrapped base64 is common).
func decodeBase64(payload []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, payload)
	var firstErr error
	for _, enc := range base64Encodings {
		out, err := enc.DecodeString(string(clean))
		if err == nil {
			return out, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	var cie base64.CorruptInputError
	if errors.As(firstErr, &cie) {
		return nil, fmt.Errorf("not base64: illegal data at byte %d (whitespace removed)", int64(cie))
	}
	return nil, fmt.Errorf("not base64: %w", firstErr)
}
