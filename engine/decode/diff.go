package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MaxDiffBytes bounds the payloads Diff compares line by line (both
// together): past it Diff only says whether they differ, so selecting a
// message in a history of 10 MB payloads cannot stall the inspector.
const MaxDiffBytes = 4 << 20

// maxDiffCells bounds the LCS table of the changed middle part (lines of
// one side × lines of the other); past it that part is shown as removed
// then added, which is correct, only not minimal.
const maxDiffCells = 4 << 20

// DiffOp says what a DiffLine or Change did.
type DiffOp int8

// Diff operations.
const (
	Same DiffOp = iota
	Removed
	Added
	Changed // Change only: the value at Path differs
)

func (o DiffOp) String() string {
	return [...]string{"same", "removed", "added", "changed"}[o]
}

// DiffLine is one line of a line diff: Same lines are context.
type DiffLine struct {
	Op   DiffOp
	Text string
}

// Change is one difference between two JSON documents at a path.
type Change struct {
	Path     string // as NumericFields names it; "" is the whole document
	Op       DiffOp // Added, Removed or Changed
	Old, New string // compact JSON of the values (empty when absent)
}

// Comparison is the difference between two payloads.
type Comparison struct {
	// JSON is true when both were JSON and were compared as documents: key
	// order and formatting do not count, values do.
	JSON bool
	// Equal reports whether the payloads are the same (for JSON: the same
	// document).
	Equal bool
	// Lines is the line diff: of the indented documents with sorted keys
	// (JSON), of the text (UTF-8), or of the hex dumps (binary).
	Lines []DiffLine
	// Changes lists the paths added, removed or changed (JSON only).
	Changes []Change
	// Note explains a shortened comparison (too large to diff line by line,
	// LCS skipped for a very different middle part); empty otherwise.
	Note string
	// TooLarge: the payloads, of Sizes bytes, were not compared line by
	// line. Middle is the lines of the changed part (before, after) when
	// it was shown as removed, then added. With them a window words the
	// Note in its own language.
	TooLarge bool
	Sizes    [2]int
	Middle   [2]int
}

// Diff compares the payload before (prev) with the one after (cur).
func Diff(prev, cur []byte) Comparison {
	if len(prev)+len(cur) > MaxDiffBytes {
		c := Comparison{Equal: bytes.Equal(prev, cur), TooLarge: true, Sizes: [2]int{len(prev), len(cur)}}
		verb := "differ"
		if c.Equal {
			verb = "are identical"
		}
		c.Note = fmt.Sprintf("payloads too large to compare line by line (%d and %d bytes); they %s", len(prev), len(cur), verb)
		return c
	}
	pv, pok := parseJSONDoc(prev)
	cv, cok := parseJSONDoc(cur)
	if pok && cok {
		c := Comparison{JSON: true}
		c.Changes = jsonChanges("", pv, cv, nil)
		c.Equal = len(c.Changes) == 0
		c.Lines, c.Note, c.Middle = lineDiff(splitLines(canonicalJSON(normalizeNumbers(pv))), splitLines(canonicalJSON(normalizeNumbers(cv))))
		return c
	}
	c := Comparison{Equal: bytes.Equal(prev, cur)}
	var a, b []string
	if IsText(prev) && IsText(cur) {
		a, b = splitLines(string(prev)), splitLines(string(cur))
	} else {
		a, b = HexLines(prev, 0, HexLineCount(prev)), HexLines(cur, 0, HexLineCount(cur))
	}
	c.Lines, c.Note, c.Middle = lineDiff(a, b)
	return c
}

// parseJSONDoc parses a JSON object or array (not a bare scalar, which
// compares better as text) keeping numbers as written.
func parseJSONDoc(b []byte) (any, bool) {
	body := stripBOM(b)
	if first := firstNonSpace(body); first != '{' && first != '[' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // more than one document
	}
	return v, true
}

// normalizeNumbers spells every non-integer number the shortest way
// (1.0 → 1, 2e3 → 2000), as jsonChanges compares them by value; integer
// literals stay exact, however long.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			x[k] = normalizeNumbers(c)
		}
	case []any:
		for i, c := range x {
			x[i] = normalizeNumbers(c)
		}
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			if f, err := x.Float64(); err == nil {
				return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
			}
		}
	}
	return v
}

// canonicalJSON indents v with sorted keys (encoding/json sorts map keys)
// and without HTML escaping.
func canonicalJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v) // cannot happen for decoded JSON
	}
	return buf.String()
}

func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// jsonChanges appends the differences between a and b under path. Numbers
// are compared by value (1.0 equals 1), containers member by member.
func jsonChanges(path string, a, b any, out []Change) []Change {
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			keys := make([]string, 0, len(av)+len(bv))
			for k := range av {
				keys = append(keys, k)
			}
			for k := range bv {
				if _, ok := av[k]; !ok {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				ca, ina := av[k]
				cb, inb := bv[k]
				p := childPath(path, k)
				switch {
				case !inb:
					out = append(out, Change{Path: p, Op: Removed, Old: compactJSON(ca)})
				case !ina:
					out = append(out, Change{Path: p, Op: Added, New: compactJSON(cb)})
				default:
					out = jsonChanges(p, ca, cb, out)
				}
			}
			return out
		}
	case []any:
		if bv, ok := b.([]any); ok {
			for i := range max(len(av), len(bv)) {
				p := indexPath(path, i)
				switch {
				case i >= len(bv):
					out = append(out, Change{Path: p, Op: Removed, Old: compactJSON(av[i])})
				case i >= len(av):
					out = append(out, Change{Path: p, Op: Added, New: compactJSON(bv[i])})
				default:
					out = jsonChanges(p, av[i], bv[i], out)
				}
			}
			return out
		}
	case json.Number:
		if bn, ok := b.(json.Number); ok {
			if av == bn {
				return out
			}
			fa, ea := av.Float64()
			fb, eb := bn.Float64()
			if ea == nil && eb == nil && fa == fb {
				return out
			}
		}
	default:
		if sameScalar(a, b) {
			return out
		}
	}
	return append(out, Change{Path: path, Op: Changed, Old: compactJSON(a), New: compactJSON(b)})
}

func sameScalar(a, b any) bool {
	switch av := a.(type) {
	case nil:
		return b == nil
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	}
	return false
}

// splitLines splits text into lines without their line breaks; a final
// line break does not start another line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		line := s[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		out = append(out, line)
		s = s[i+1:]
	}
	return out
}

// lineDiff diffs a and b: common head and tail first, then a longest
// common subsequence of the middle when that is small enough.
// When it is not, note says so and middle is the lines of the part.
func lineDiff(a, b []string) (lines []DiffLine, note string, middle [2]int) {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	out := make([]DiffLine, 0, len(a)+len(b)-head-tail)
	for _, l := range a[:head] {
		out = append(out, DiffLine{Same, l})
	}
	ma, mb := a[head:len(a)-tail], b[head:len(b)-tail]
	if len(ma)*len(mb) <= maxDiffCells {
		out = append(out, lcsDiff(ma, mb)...)
	} else {
		note = "changed part too large for a minimal diff (" + strconv.Itoa(len(ma)) + " × " + strconv.Itoa(len(mb)) + " lines): shown as removed, then added"
		middle = [2]int{len(ma), len(mb)}
		for _, l := range ma {
			out = append(out, DiffLine{Removed, l})
		}
		for _, l := range mb {
			out = append(out, DiffLine{Added, l})
		}
	}
	for _, l := range a[len(a)-tail:] {
		out = append(out, DiffLine{Same, l})
	}
	return out, note, middle
}

// lcsDiff is the textbook dynamic program; removals come before additions
// in each changed run.
func lcsDiff(a, b []string) []DiffLine {
	n, m := len(a), len(b)
	// lcs[i*(m+1)+j] = LCS length of a[i:] and b[j:].
	lcs := make([]int32, (n+1)*(m+1))
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*(m+1)+j] = lcs[(i+1)*(m+1)+j+1] + 1
			} else {
				lcs[i*(m+1)+j] = max(lcs[(i+1)*(m+1)+j], lcs[i*(m+1)+j+1])
			}
		}
	}
	out := make([]DiffLine, 0, n+m)
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, DiffLine{Same, a[i]})
			i++
			j++
		case j >= m || (i < n && lcs[(i+1)*(m+1)+j] >= lcs[i*(m+1)+j+1]):
			out = append(out, DiffLine{Removed, a[i]})
			i++
		default:
			out = append(out, DiffLine{Added, b[j]})
			j++
		}
	}
	return out
}
