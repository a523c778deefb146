package inspector

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/decode"
)

// tabCols is how many columns a tab takes in a label (fyne's default tab
// width).
const tabCols = 4

// hexCols is the width of a full hex dump row of per bytes: 8 offset
// digits, 2 spaces, per three-column bytes, " |", per, "|"; 16-byte rows
// (decode.HexLines) add a gap after the eighth byte.
func hexCols(per int) int {
	cols := 8 + 2 + per*3 + 2 + per + 1
	if per == decode.HexBytesPerLine {
		cols++
	}
	return cols
}

// narrowHexBytes is how many bytes a hex row holds when the classic 16 do
// not fit: 45 columns, which half of a 1100 px window holds, where 16
// bytes (78 columns) wrapped every row in two, splitting a byte.
const narrowHexBytes = 8

// measureChunk is how many lines one Result.Lines call returns while
// measuring: large enough to amortise the pager's seek, small enough not to
// hold a whole 10 MB view's strings at once.
const measureChunk = 4096

// lineLens are the display widths of a decoded view's lines, measured once
// off the UI goroutine, so that wrapping them to any width is a scan of
// small integers rather than of the text.
type lineLens struct {
	n int
	// each holds every line's width in columns; nil for a hex dump, whose
	// rows are all full wide except the last.
	each []uint16
	full int // hex only: width of a full row
	last int // hex only: width of the last row
	max  int
	// hex is the bytes per row of a hex dump, 0 for other views.
	hex int
}

func (l *lineLens) at(i int) int {
	if l.each != nil {
		return int(l.each[i])
	}
	if i == l.n-1 {
		return l.last
	}
	return l.full
}

// hexLens are the widths of the rows of a hex dump of size bytes, per
// bytes a row.
func hexLens(size, per int) lineLens {
	n := (size + per - 1) / per
	tail := size - (n-1)*per
	return lineLens{n: n, full: hexCols(per), last: hexCols(per) - per + tail, max: hexCols(per), hex: per}
}

// measure returns the widths of r's lines. It reads every line of a text
// view once (tens of milliseconds for 10 MB), so call it off the UI
// goroutine.
func measure(r *decode.Result) lineLens {
	n := r.LineCount()
	if r.HexView() && n == decode.HexLineCount(r.Bytes) {
		return hexLens(len(r.Bytes), decode.HexBytesPerLine)
	}
	l := lineLens{n: n, each: make([]uint16, 0, n)}
	for from := 0; from < n; from += measureChunk {
		for _, s := range r.Lines(from, measureChunk) {
			c := min(textCols(s), 1<<16-1)
			l.each = append(l.each, uint16(c))
			l.max = max(l.max, c)
		}
	}
	// Lines never returns fewer rows than LineCount says; if it did, the
	// list would ask for lines that are not there.
	l.n = len(l.each)
	return l
}

// textCols is how many columns s takes in a monospace label.
func textCols(s string) int {
	cols := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\t':
			cols += tabCols
			i++
		case c < utf8.RuneSelf:
			cols++
			i++
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			cols++
			i += size
		}
	}
	return cols
}

// rowMap maps the rows a list shows to the lines of a view wrapped at cols
// columns. Only lines wider than cols are listed, so for the usual view
// (no line that wide) it is empty and mapping is the identity.
type rowMap struct {
	lines, rows, cols int
	// uniform is the rows each line takes when every line has the same
	// width (a hex dump); 0 otherwise.
	uniform int
	long    []wrapped
}

// wrapped is a line that takes more than one row. int32 keeps the table
// small: a 10 MB view has fewer than 2^31 rows at any width.
type wrapped struct {
	line, first, rows int32 // first: the row showing its first segment
}

// newRowMap wraps lens at cols columns (at least 1). It scans the widths
// once: about a millisecond for the 1.7 million lines of a 10 MB indented
// JSON document, and nothing when no line is wider than cols.
func newRowMap(l *lineLens, cols int) rowMap {
	cols = max(cols, 1)
	m := rowMap{lines: l.n, rows: l.n, cols: cols}
	switch {
	case l.n == 0 || l.max <= cols:
	case l.each == nil:
		m.uniform = (l.full + cols - 1) / cols
		m.rows = l.n * m.uniform
	default:
		// Count first so the table is allocated once: in a narrow pane most
		// lines of a large view may wrap.
		n := 0
		for _, c := range l.each {
			if int(c) > cols {
				n++
			}
		}
		m.long = make([]wrapped, 0, n)
		extra := 0
		for i, c := range l.each {
			if int(c) > cols {
				r := (int(c) + cols - 1) / cols
				m.long = append(m.long, wrapped{line: int32(i), first: int32(i + extra), rows: int32(r)})
				extra += r - 1
			}
		}
		m.rows = l.n + extra
	}
	return m
}

// locate returns the line a row shows and which of its segments.
func (m *rowMap) locate(row int) (line, seg int) {
	if m.uniform > 0 {
		return row / m.uniform, row % m.uniform
	}
	k := sort.Search(len(m.long), func(k int) bool { return int(m.long[k].first) > row }) - 1
	if k < 0 {
		return row, 0
	}
	line, first, rows := int(m.long[k].line), int(m.long[k].first), int(m.long[k].rows)
	if row < first+rows {
		return line, row - first
	}
	return line + 1 + row - (first + rows), 0
}

// segment returns the seg-th piece of cols columns of s.
func segment(s string, seg, cols int) string {
	if seg == 0 && len(s) <= cols && isASCIINoTab(s) {
		return s
	}
	from, to := seg*cols, (seg+1)*cols
	start, end := -1, len(s)
	col := 0
	for i := 0; i < len(s); {
		if start < 0 && col >= from {
			start = i
		}
		if col >= to {
			end = i
			break
		}
		c := s[i]
		switch {
		case c == '\t':
			col += tabCols
			i++
		case c < utf8.RuneSelf:
			col++
			i++
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			col++
			i += size
		}
	}
	if start < 0 {
		return ""
	}
	return s[start:end]
}

func isASCIINoTab(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] == '\t' {
			return false
		}
	}
	return true
}

// lineCache keeps a few blocks of a view's lines, so that scrolling asks
// the pager for 64 lines at a time rather than seeking once per row.
type lineCache struct {
	res    *decode.Result
	blocks map[int][]string
	order  []int // block numbers, oldest first
}

const (
	cacheBlock  = 64
	cacheBlocks = 16
)

func (c *lineCache) reset(r *decode.Result) {
	c.res, c.blocks, c.order = r, nil, nil
}

func (c *lineCache) line(i int) string {
	if c.res == nil {
		return ""
	}
	b := i / cacheBlock
	lines, ok := c.blocks[b]
	if !ok {
		lines = c.res.Lines(b*cacheBlock, cacheBlock)
		if c.blocks == nil {
			c.blocks = make(map[int][]string, cacheBlocks)
		}
		if len(c.order) == cacheBlocks {
			delete(c.blocks, c.order[0])
			c.order = c.order[1:]
		}
		c.blocks[b] = lines
		c.order = append(c.order, b)
	}
	if k := i - b*cacheBlock; k < len(lines) {
		return expandTabs(lines[k])
	}
	return ""
}

// expandTabs replaces tabs with tabCols spaces, the width measure counts
// them as, so that a wrapped row can split a tab's columns like any others.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	return strings.ReplaceAll(s, "\t", strings.Repeat(" ", tabCols))
}

// hexRow renders row line of the hex dump of b at per bytes a row, in the
// layout of decode.HexLines without its mid-row gap (which only 16-byte
// rows have).
func hexRow(b []byte, line, per int) string {
	off := line * per
	if off >= len(b) {
		return ""
	}
	row := b[off:min(off+per, len(b))]
	var sb strings.Builder
	sb.Grow(hexCols(per))
	fmt.Fprintf(&sb, "%08x  ", off)
	for i := range per {
		if i < len(row) {
			fmt.Fprintf(&sb, "%02x ", row[i])
		} else {
			sb.WriteString("   ")
		}
	}
	sb.WriteString(" |")
	for _, c := range row {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		sb.WriteByte(c)
	}
	sb.WriteByte('|')
	return sb.String()
}
