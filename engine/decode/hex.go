package decode

// Hex is the hex dump of the payload, the view every failed decode falls
// back to. It is never guessed: it is what Detect returns when nothing fits.
const Hex Format = "hex"

type hexFormat struct{}

func (hexFormat) Format() Format               { return Hex }
func (hexFormat) Label() string                { return "Hex" }
func (hexFormat) Claims(Payload) bool          { return false }
func (hexFormat) Looks(Payload) bool           { return false }
func (hexFormat) Decode(Payload) (View, error) { return View{Hex: true}, nil }

// HexBytesPerLine is the width of a hex dump row.
const HexBytesPerLine = 16

// HexLineCount returns how many rows HexLines has for b.
func HexLineCount(b []byte) int {
	return (len(b) + HexBytesPerLine - 1) / HexBytesPerLine
}

// HexLines renders rows [from, from+n) of the classic hex dump of b, the
// layout of `hexdump -C`:
//
//	00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 0a           |Hello, world.|
//
// Only the rows asked for are rendered, so paging through a 10 MB payload
// costs a few microseconds per screen. Rows outside the dump are left out.
func HexLines(b []byte, from, n int) []string {
	total := HexLineCount(b)
	if from < 0 {
		n += from
		from = 0
	}
	if n <= 0 || from >= total {
		return nil
	}
	if n > total-from {
		n = total - from
	}
	out := make([]string, n)
	for i := range out {
		off := (from + i) * HexBytesPerLine
		end := min(off+HexBytesPerLine, len(b))
		out[i] = hexLine(off, b[off:end])
	}
	return out
}

const hexDigits = "0123456789abcdef"

func hexLine(off int, row []byte) string {
	// 8+ offset digits, 2 spaces, 16×3 hex columns, 1 gap, " |", 16, "|".
	buf := make([]byte, 0, 80)
	width := 8
	for o := off >> 32; o > 0; o >>= 4 {
		width++ // offsets past 4 GiB keep every digit
	}
	for s := (width - 1) * 4; s >= 0; s -= 4 {
		buf = append(buf, hexDigits[(off>>s)&0xf])
	}
	buf = append(buf, ' ', ' ')
	for i := range HexBytesPerLine {
		if i == 8 {
			buf = append(buf, ' ')
		}
		if i < len(row) {
			buf = append(buf, hexDigits[row[i]>>4], hexDigits[row[i]&0xf], ' ')
		} else {
			buf = append(buf, ' ', ' ', ' ')
		}
	}
	buf = append(buf, ' ', '|')
	for _, c := range row {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		buf = append(buf, c)
	}
	buf = append(buf, '|')
	return string(buf)
}

// hexString renders b as lowercase hex without separators.
func hexString(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = hexDigits[c>>4], hexDigits[c&0xf]
	}
	return string(out)
}
