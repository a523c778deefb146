package decode

import (
	"strings"
	"unicode/utf8"
)

// MaxLineBytes is where the text view wraps a line: a 10 MB single-line
// payload becomes 2,560 rows of 4 KiB instead of one row no widget can lay
// out.
const MaxLineBytes = 4096

// checkpointEvery says how many rows lie between two remembered row
// starts: the index costs 4 bytes per 64 rows, and reaching any row scans
// at most 63 rows.
const checkpointEvery = 64

// pager finds rows of a text without splitting it up front.
type pager struct {
	text   string
	starts []int32 // start of row 0, 64, 128, ...
	rows   int
}

func newPager(text string) *pager {
	p := &pager{text: text}
	for pos := 0; pos < len(text); {
		if p.rows%checkpointEvery == 0 {
			p.starts = append(p.starts, int32(pos))
		}
		_, pos = p.row(pos)
		p.rows++
	}
	return p
}

// row returns the row starting at pos (without its line break) and where
// the next row starts.
func (p *pager) row(pos int) (string, int) {
	window := p.text[pos:min(len(p.text), pos+MaxLineBytes+1)]
	if i := strings.IndexByte(window, '\n'); i >= 0 && i <= MaxLineBytes {
		return strings.TrimSuffix(window[:i], "\r"), pos + i + 1
	}
	if len(window) <= MaxLineBytes {
		return window, pos + len(window)
	}
	cut := MaxLineBytes
	for cut > 0 && !utf8.RuneStart(window[cut]) {
		cut-- // wrap between runes, not inside one
	}
	if cut == 0 {
		cut = MaxLineBytes
	}
	return window[:cut], pos + cut
}

// lines returns rows [from, from+n), each made printable.
func (p *pager) lines(from, n int) []string {
	if from < 0 {
		n += from
		from = 0
	}
	if n <= 0 || from >= p.rows {
		return nil
	}
	n = min(n, p.rows-from)
	r := from - from%checkpointEvery
	pos := int(p.starts[r/checkpointEvery])
	for ; r < from; r++ {
		_, pos = p.row(pos)
	}
	out := make([]string, n)
	for i := range out {
		var s string
		s, pos = p.row(pos)
		out[i] = printable(s)
	}
	return out
}

// printable shows control characters as their Unicode control pictures
// (U+2400 + c, ␀ ␛ …) so that they are visible and cannot upset the
// widget; tabs stay, invalid UTF-8 becomes U+FFFD.
func printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t':
			sb.WriteRune(r)
		case r < 0x20:
			sb.WriteRune(0x2400 + r)
		case r == 0x7f:
			sb.WriteRune('␡')
		default:
			sb.WriteRune(r) // utf8.RuneError for invalid bytes
		}
	}
	return sb.String()
}
