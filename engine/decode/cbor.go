package decode

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// CBOR (RFC 8949) is shown as JSON-like text and as a tree, map order kept.
const CBOR Format = "cbor"

type cborFormat struct{}

func (cborFormat) Format() Format { return CBOR }
func (cborFormat) Label() string  { return "CBOR" }

func (cborFormat) Claims(p Payload) bool {
	return (p.MediaType == "application/cbor" || strings.HasSuffix(p.MediaType, "+cbor")) && cborValid(p.Bytes) == nil
}

// Looks: an array (0x80-0x9f), map (0xa0-0xbf) or tag (0xc0-0xdb, e.g.
// 55799, self-described CBOR) that parses to the last byte.
func (cborFormat) Looks(p Payload) bool {
	c := p.Bytes[0]
	return c >= 0x80 && c <= 0xdb && cborValid(p.Bytes) == nil
}

func (cborFormat) Decode(p Payload) (View, error) {
	tree, err := cborTree(p.Bytes)
	if err != nil {
		return View{}, err
	}
	return View{Text: renderJSONish(tree), Tree: func() *Node { return tree }}, nil
}

// maxNesting bounds nesting in CBOR and MessagePack payloads: deep enough
// for any real document, shallow enough that the recursive tree walk stays
// far from the stack limit.
const maxNesting = 64

// cborMode accepts everything well-formed that a person may want to look
// at: invalid UTF-8 in text strings (shown with U+FFFD), byte-string map
// keys, arrays and maps as large as the payload can hold.
var cborMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		MaxNestedLevels:  maxNesting,
		MaxArrayElements: math.MaxInt32,
		MaxMapPairs:      math.MaxInt32,
		UTF8:             cbor.UTF8DecodeInvalid,
		MapKeyByteString: cbor.MapKeyByteStringAllowed,
	}.DecMode()
	if err != nil {
		panic(fmt.Sprintf("decode: CBOR options: %v", err)) // constant options; a test covers them
	}
	return dm
}()

// cborValid reports whether b is exactly one well-formed CBOR item.
func cborValid(b []byte) error {
	if err := cborMode.Wellformed(b); err != nil {
		return fmt.Errorf("not CBOR: %w", err)
	}
	return nil
}

// cborTree builds the tree of a CBOR payload, keeping map order.
func cborTree(b []byte) (*Node, error) {
	if err := cborValid(b); err != nil {
		return nil, err
	}
	w := cborWalker{budget: newBudget()}
	w.budget.take()
	root, _, err := w.node(b, "", "")
	if errors.Is(err, errBudget) {
		err = nil
	}
	return root, err
}

type cborWalker struct{ budget *budget }

// cborHead reads the initial byte and argument of the item at b[0]. For
// major types 2-5 with additional information 31 it reports indefinite.
func cborHead(b []byte) (major byte, arg uint64, hdr int, indefinite bool, err error) {
	if len(b) == 0 {
		return 0, 0, 0, false, errors.New("CBOR item missing")
	}
	major, ai := b[0]>>5, b[0]&0x1f
	switch {
	case ai < 24:
		return major, uint64(ai), 1, false, nil
	case ai <= 27:
		size := 1 << (ai - 24)
		if len(b) < 1+size {
			return 0, 0, 0, false, errors.New("CBOR header truncated")
		}
		for _, c := range b[1 : 1+size] {
			arg = arg<<8 | uint64(c)
		}
		return major, arg, 1 + size, false, nil
	case ai == 31 && major >= 2 && major <= 5:
		return major, 0, 1, true, nil
	case ai == 31 && major == 7:
		return 0, 0, 0, false, errors.New("unexpected CBOR break")
	}
	return 0, 0, 0, false, fmt.Errorf("reserved CBOR additional information %d", ai)
}

// cborItemLen returns the encoded length of the item at b[0]; b is known
// to be well-formed, the checks only keep a library/walker disagreement
// from turning into a panic.
func cborItemLen(b []byte, depth int) (int, error) {
	if depth > maxNesting+1 {
		return 0, errors.New("CBOR nested too deeply")
	}
	major, arg, hdr, indef, err := cborHead(b)
	if err != nil {
		return 0, err
	}
	items := uint64(0)
	switch major {
	case 0, 1, 7:
		return hdr, nil
	case 2, 3:
		if !indef {
			if arg > uint64(len(b)-hdr) {
				return 0, errors.New("CBOR string past the end")
			}
			return hdr + int(arg), nil
		}
	case 4:
		items = arg
	case 5:
		items = 2 * arg
	case 6:
		n, err := cborItemLen(b[hdr:], depth+1)
		return hdr + n, err
	}
	pos := hdr
	for i := uint64(0); indef || i < items; i++ {
		if pos >= len(b) {
			return 0, errors.New("CBOR container past the end")
		}
		if indef && b[pos] == 0xff {
			return pos + 1, nil
		}
		n, err := cborItemLen(b[pos:], depth+1)
		if err != nil {
			return 0, err
		}
		pos += n
	}
	return pos, nil
}

// node builds the node of the item at b[0] and returns its length.
func (w *cborWalker) node(b []byte, key, path string) (*Node, int, error) {
	n := &Node{Key: key, Path: path}
	major, arg, hdr, indef, err := cborHead(b)
	if err != nil {
		return n, 0, err
	}
	switch major {
	case 4, 5:
		isMap := major == 5
		n.Kind = KindArray
		if isMap {
			n.Kind = KindObject
		}
		pos := hdr
		for i := 0; indef || uint64(i) < arg; i++ {
			if pos >= len(b) {
				return n, 0, errors.New("CBOR container past the end")
			}
			if indef && b[pos] == 0xff {
				pos++
				break
			}
			ckey, cpath := "["+strconv.Itoa(i)+"]", indexPath(path, i)
			if isMap {
				klen, err := cborItemLen(b[pos:], 0)
				if err != nil {
					return n, 0, err
				}
				ckey = cborKeyLabel(b[pos : pos+klen])
				cpath = childPath(path, ckey)
				pos += klen
			}
			if !w.budget.take() {
				n.Truncated = true
				n.Value = containerSummary(n, int(arg), indef)
				return n, 0, errBudget
			}
			child, clen, err := w.node(b[pos:], ckey, cpath)
			n.Children = append(n.Children, child)
			if err != nil {
				n.Truncated = errors.Is(err, errBudget)
				n.Value = containerSummary(n, int(arg), indef)
				return n, 0, err
			}
			pos += clen
		}
		n.Value = containerSummary(n, int(arg), indef)
		return n, pos, nil
	case 6:
		if arg <= 3 {
			// Times (0, 1) and bignums (2, 3) are the library's to read; if the
			// content does not fit the tag, show the tag like any other.
			if l, err := cborItemLen(b, 0); err == nil {
				var v any
				if cborMode.Unmarshal(b[:l], &v) == nil {
					scalarNode(n, v)
					n.Type = "tag " + strconv.FormatUint(arg, 10)
					return n, l, nil
				}
			}
		}
		inner, ilen, err := w.node(b[hdr:], key, path)
		if inner.Type == "" {
			inner.Type = "tag " + strconv.FormatUint(arg, 10)
		} else {
			// Nested tags: show the outer one, keep the inner in the text.
			inner.Type = "tag " + strconv.FormatUint(arg, 10) + "(" + inner.Type + ")"
		}
		return inner, hdr + ilen, err
	}
	l, err := cborItemLen(b, 0)
	if err != nil {
		return n, 0, err
	}
	item := b[:l]
	var v any
	if err := cborMode.Unmarshal(item, &v); err != nil {
		return n, 0, fmt.Errorf("CBOR value at %s: %w", pathOrRoot(path), err)
	}
	if major == 7 && b[0]&0x1f <= 26 {
		if f, ok := v.(float64); ok {
			v = float32(f) // half and single floats: print at their precision
		}
	}
	if item[0] == 0xf7 {
		n.Kind, n.Value = KindNull, "undefined"
		return n, l, nil
	}
	if sv, ok := v.(cbor.SimpleValue); ok {
		n.Kind, n.Value = KindOther, "simple("+strconv.Itoa(int(sv))+")"
		return n, l, nil
	}
	scalarNode(n, v)
	return n, l, nil
}

func cborKeyLabel(item []byte) string {
	var s string
	if item[0]>>5 == 3 && cborMode.Unmarshal(item, &s) == nil {
		return s
	}
	if d, err := cbor.Diagnose(item); err == nil {
		return d
	}
	return hexString(item)
}

func containerSummary(n *Node, count int, unknownCount bool) string {
	if unknownCount || n.Truncated {
		count = len(n.Children)
	}
	more := n.Truncated
	if n.Kind == KindObject {
		return countLabel(count, "key", "keys", more)
	}
	return countLabel(count, "item", "items", more)
}

func pathOrRoot(path string) string {
	if path == "" {
		return "the root"
	}
	return path
}
