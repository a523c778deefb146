// Package numfmt formats numbers the way every panel shows them: counters
// with digits grouped by thousands, small rates with one decimal, protocol
// levels by name. Byte sizes come from engine/bytesize, which the command
// line shares.
package numfmt

import "strconv"

// Count groups digits by thousands: 1234567 -> 1,234,567.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Rate shows a per-second rate: one decimal below 10, whole numbers above.
func Rate(r float64) string {
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return Count(int64(r + 0.5))
}
