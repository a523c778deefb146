// Package numfmt formats numbers the way every panel shows them: counters
// with digits grouped by thousands, small rates with one decimal. Byte
// sizes come from engine/bytesize, which the command line shares, and
// protocol level names from engine/message.ProtocolName.
package numfmt

import (
	"strconv"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/ui/translations"
)

// integer is any count a panel shows.
type integer interface {
	~int | ~int32 | ~int64 | ~uint | ~uint32 | ~uint64
}

// Count groups digits by thousands: 1234567 -> 1,234,567.
func Count[N integer](n N) string {
	if n < 0 {
		return "-" + group(strconv.FormatUint(-uint64(n), 10))
	}
	return group(strconv.FormatUint(uint64(n), 10))
}

// group puts a comma before every third digit from the right.
func group(digits string) string {
	out := make([]byte, 0, len(digits)+len(digits)/3)
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	return string(out)
}

// Plural counts things: "1 record", "2,500 records". Once the
// translations are registered the words come from them, keyed
// "{{.Count}} records", in the plural forms of the window's language
// (Russian has three); before that (widget tests) from one and many.
func Plural[N integer](n N, one, many string) string {
	if translations.Registered() {
		return lang.N("{{.Count}} "+many, int(n), map[string]any{"Count": Count(n)})
	}
	if n == 1 {
		return "1 " + one
	}
	return Count(n) + " " + many
}

// Rate shows a per-second rate: one decimal below 10, whole numbers above.
func Rate(r float64) string {
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return Count(int64(r + 0.5))
}
