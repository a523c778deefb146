package decode

import (
	"fmt"
	"sync"
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

	empty      bool
	hexView    bool
	structured bool
	pager      *pager
	treeOnce   sync.Once
	buildTree  func() *Node
	tree       *Node
}

// Fallback reports whether the chosen format failed and the view fell back
// to the hex dump.
func (r *Result) Fallback() bool { return r.Err != nil }

// HasTree reports whether the view is structured (JSON, CBOR, MessagePack,
// Sparkplug B, or base64 of one of them), so Tree has one to build.
func (r *Result) HasTree() bool { return r.structured }

// HexView reports whether the view is the hex dump of Bytes rather than
// text: the format was Hex, a decode fell back to it, or base64 content
// was binary. An empty payload is neither.
func (r *Result) HexView() bool { return r.hexView && !r.empty }

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
	d := decoderFor(r.Tried)
	if d == nil {
		r.fallBack(fmt.Errorf("unknown payload format %q", r.Tried))
		return r
	}
	v, err := d.Decode(Payload{Topic: topic, Bytes: payload, Checked: f == Auto})
	if err != nil {
		r.fallBack(err)
		return r
	}
	r.show(v)
	return r
}

// fallBack shows the hex dump of the payload because err.
func (r *Result) fallBack(err error) {
	r.Err = err
	r.Format = Hex
	r.hexView = true
}

// show makes v the view.
func (r *Result) show(v View) {
	if v.Inner != "" {
		r.Inner, r.Bytes = v.Inner, v.Bytes
		if len(v.Bytes) == 0 {
			r.empty = true
			return
		}
	}
	r.hexView = v.Hex
	if !v.Hex {
		r.Text = v.Text
		r.pager = newPager(v.Text)
	}
	r.buildTree = v.Tree
	r.structured = v.Tree != nil
}
