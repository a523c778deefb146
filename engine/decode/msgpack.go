package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shamaton/msgpack/v3"
)

// MessagePack is shown as JSON-like text and as a tree, map order kept.
const MessagePack Format = "msgpack"

type msgpackFormat struct{}

func (msgpackFormat) Format() Format { return MessagePack }
func (msgpackFormat) Label() string  { return "MessagePack" }

func (msgpackFormat) Claims(p Payload) bool {
	mt := p.MediaType
	return (mt == "application/msgpack" || mt == "application/x-msgpack" || mt == "application/vnd.msgpack" || strings.HasSuffix(mt, "+msgpack")) &&
		mpValid(p.Bytes) == nil
}

// Looks: a fixarray (0x80-0x9f), array16/32 or map16/32 (0xdc-0xdf) that
// parses to the last byte; a fixmap (0x80-0x8f) is within the fixarray
// test's range.
func (msgpackFormat) Looks(p Payload) bool {
	c := p.Bytes[0]
	return (c >= 0x80 && c <= 0x9f || c >= 0xdc && c <= 0xdf) && mpValid(p.Bytes) == nil
}

func (msgpackFormat) Decode(p Payload) (View, error) {
	tree, err := mpTree(p.Bytes)
	if err != nil {
		return View{}, err
	}
	return View{Text: renderJSONish(tree), Tree: func() *Node { return tree }}, nil
}

// MessagePack structure (containers, lengths, nesting) is walked here and
// each scalar is handed to shamaton/msgpack: the library decodes a whole
// document recursively with no nesting limit (5 MB of 0x91 overflows the
// stack, which no recover catches), loses map order, and refuses
// extension types nobody registered.

type mpKind uint8

const (
	mpScalar mpKind = iota // fixed size: ints, floats, nil, bools
	mpStr
	mpBin
	mpExt
	mpArray
	mpMap
)

// mpHead is the header of one MessagePack item.
type mpHead struct {
	kind mpKind
	hdr  int  // header bytes (for ext: including the type byte)
	n    int  // scalar: bytes after hdr; str/bin/ext: data bytes; array: items; map: pairs
	ext  int8 // extension type
}

// mpReadHead reads the header at b[0] and checks that the bytes it
// announces (or, for containers, at least one per item) are there.
func mpReadHead(b []byte) (mpHead, error) {
	if len(b) == 0 {
		return mpHead{}, errors.New("MessagePack item missing")
	}
	c := b[0]
	var h mpHead
	// size reads a big-endian length of w bytes after the first byte.
	size := func(w int) (int, error) {
		if len(b) < 1+w {
			return 0, errors.New("MessagePack header truncated")
		}
		var v uint64
		switch w {
		case 1:
			v = uint64(b[1])
		case 2:
			v = uint64(binary.BigEndian.Uint16(b[1:]))
		case 4:
			v = uint64(binary.BigEndian.Uint32(b[1:]))
		}
		if v > uint64(len(b)) {
			return 0, fmt.Errorf("MessagePack length %d past the end of the payload", v)
		}
		return int(v), nil
	}
	var err error
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		h = mpHead{kind: mpScalar, hdr: 1}
	case c <= 0x8f:
		h = mpHead{kind: mpMap, hdr: 1, n: int(c & 0x0f)}
	case c <= 0x9f:
		h = mpHead{kind: mpArray, hdr: 1, n: int(c & 0x0f)}
	case c <= 0xbf:
		h = mpHead{kind: mpStr, hdr: 1, n: int(c & 0x1f)}
	case c == 0xc4, c == 0xc5, c == 0xc6:
		w := 1 << (c - 0xc4)
		h = mpHead{kind: mpBin, hdr: 1 + w}
		h.n, err = size(w)
	case c == 0xc7, c == 0xc8, c == 0xc9:
		w := 1 << (c - 0xc7)
		h = mpHead{kind: mpExt, hdr: 2 + w}
		h.n, err = size(w)
		if err == nil && len(b) > 1+w {
			h.ext = int8(b[1+w])
		}
	case c == 0xca:
		h = mpHead{kind: mpScalar, hdr: 1, n: 4}
	case c == 0xcb:
		h = mpHead{kind: mpScalar, hdr: 1, n: 8}
	case c >= 0xcc && c <= 0xcf:
		h = mpHead{kind: mpScalar, hdr: 1, n: 1 << (c - 0xcc)}
	case c >= 0xd0 && c <= 0xd3:
		h = mpHead{kind: mpScalar, hdr: 1, n: 1 << (c - 0xd0)}
	case c >= 0xd4 && c <= 0xd8:
		h = mpHead{kind: mpExt, hdr: 2, n: 1 << (c - 0xd4)}
		if len(b) > 1 {
			h.ext = int8(b[1])
		}
	case c == 0xd9, c == 0xda, c == 0xdb:
		w := 1 << (c - 0xd9)
		h = mpHead{kind: mpStr, hdr: 1 + w}
		h.n, err = size(w)
	case c == 0xdc, c == 0xdd:
		w := 2 << (c - 0xdc)
		h = mpHead{kind: mpArray, hdr: 1 + w}
		h.n, err = size(w)
	case c == 0xde, c == 0xdf:
		w := 2 << (c - 0xde)
		h = mpHead{kind: mpMap, hdr: 1 + w}
		h.n, err = size(w)
	default: // 0xc1 is never used
		return mpHead{}, fmt.Errorf("MessagePack: byte 0x%02x is not a valid type", c)
	}
	if err != nil {
		return mpHead{}, err
	}
	if h.hdr > len(b) {
		return mpHead{}, errors.New("MessagePack header truncated")
	}
	rest := len(b) - h.hdr
	switch h.kind {
	case mpArray:
		if h.n > rest {
			return mpHead{}, fmt.Errorf("MessagePack array of %d items in %d bytes", h.n, rest)
		}
	case mpMap:
		if h.n > rest/2 {
			return mpHead{}, fmt.Errorf("MessagePack map of %d pairs in %d bytes", h.n, rest)
		}
	default:
		if h.n > rest {
			return mpHead{}, errors.New("MessagePack value past the end of the payload")
		}
	}
	return h, nil
}

// mpValid checks that b is exactly one MessagePack item nested at most
// maxNesting deep. It walks iteratively, so no input can exhaust the stack.
func mpValid(b []byte) error {
	pos := 0
	pending := []int{1} // items still to read at each open level
	for len(pending) > 0 {
		top := len(pending) - 1
		if pending[top] == 0 {
			pending = pending[:top]
			continue
		}
		pending[top]--
		h, err := mpReadHead(b[pos:])
		if err != nil {
			return fmt.Errorf("not MessagePack at byte %d: %w", pos, err)
		}
		pos += h.hdr
		switch h.kind {
		case mpArray, mpMap:
			if len(pending) > maxNesting {
				return fmt.Errorf("not MessagePack: nested more than %d levels at byte %d", maxNesting, pos-h.hdr)
			}
			items := h.n
			if h.kind == mpMap {
				items *= 2
			}
			pending = append(pending, items)
		default:
			pos += h.n
		}
	}
	if pos != len(b) {
		return fmt.Errorf("not MessagePack: %d bytes left after the first item, at byte %d", len(b)-pos, pos)
	}
	return nil
}

// mpTree builds the tree of a MessagePack payload, keeping map order.
func mpTree(b []byte) (*Node, error) {
	if err := mpValid(b); err != nil {
		return nil, err
	}
	bud := newBudget()
	bud.take()
	root, _, err := mpNode(b, bud, "", "")
	if errors.Is(err, errBudget) {
		err = nil
	}
	return root, err
}

// mpNode builds the node of the item at b[0] (validated by mpValid) and
// returns its length.
func mpNode(b []byte, bud *budget, key, path string) (*Node, int, error) {
	n := &Node{Key: key, Path: path}
	h, err := mpReadHead(b)
	if err != nil {
		return n, 0, err
	}
	switch h.kind {
	case mpArray, mpMap:
		isMap := h.kind == mpMap
		n.Kind = KindArray
		if isMap {
			n.Kind = KindObject
		}
		pos := h.hdr
		for i := range h.n {
			ckey, cpath := "["+strconv.Itoa(i)+"]", indexPath(path, i)
			if isMap {
				// Keys are built outside the budget: they become labels.
				k, klen, err := mpNode(b[pos:], &budget{left: 1 << 30}, "", "")
				if err != nil {
					return n, 0, err
				}
				ckey = mpKeyLabel(k)
				cpath = childPath(path, ckey)
				pos += klen
			}
			if !bud.take() {
				n.Truncated = true
				n.Value = containerSummary(n, h.n, false)
				return n, 0, errBudget
			}
			child, clen, err := mpNode(b[pos:], bud, ckey, cpath)
			n.Children = append(n.Children, child)
			if err != nil {
				n.Truncated = errors.Is(err, errBudget)
				n.Value = containerSummary(n, h.n, false)
				return n, 0, err
			}
			pos += clen
		}
		n.Value = containerSummary(n, h.n, false)
		return n, pos, nil
	case mpExt:
		l := h.hdr + h.n
		if h.ext == -1 { // the timestamp extension, which the library knows
			var v any
			if err := msgpack.Unmarshal(b[:l], &v); err == nil {
				scalarNode(n, v)
				return n, l, nil
			}
			// A malformed timestamp is still a well-formed extension: show it raw.
		}
		n.Kind, n.Value, n.Type = KindBytes, hexString(b[h.hdr:l]), "ext "+strconv.Itoa(int(h.ext))
		return n, l, nil
	}
	l := h.hdr + h.n
	var v any
	if err := msgpack.Unmarshal(b[:l], &v); err != nil {
		return n, 0, fmt.Errorf("MessagePack value at %s: %w", pathOrRoot(path), err)
	}
	if b[0] == 0xca {
		n.Type = "float32"
	}
	scalarNode(n, v)
	return n, l, nil
}

// mpKeyLabel turns a decoded map key into a label: strings as they are,
// anything else as it would print.
func mpKeyLabel(k *Node) string {
	switch k.Kind {
	case KindObject, KindArray:
		return renderCompact(k)
	}
	return k.Value
}

// renderCompact renders a small node on one line (for map keys that are
// themselves containers, which MessagePack and CBOR allow).
func renderCompact(n *Node) string {
	s := renderJSONish(n)
	return oneLine(s[:len(s)-1])
}
