// Package numfmt formats numbers the way every panel shows them: counters
// with digits grouped by thousands, small rates with one decimal, both
// with the window language's separators ("1,234.5", "1 234,5"). Byte
// sizes come from engine/bytesize, which the command line shares, and
// protocol level names from engine/message.ProtocolName.
package numfmt

import (
	"strconv"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/ui/translations"
)

// integer is any count a panel shows.
type integer interface {
	~int | ~int32 | ~int64 | ~uint | ~uint32 | ~uint64
}

// Count groups digits by thousands: 1234567 -> 1,234,567 (1 234 567 in
// Russian).
func Count[N integer](n N) string {
	if n < 0 {
		return "-" + group(strconv.FormatUint(-uint64(n), 10), groupSeparator())
	}
	return group(strconv.FormatUint(uint64(n), 10), groupSeparator())
}

// separators are the window language's, looked up once per language:
// a lookup in the translations cost 0.8 µs and 3 allocations, on every
// count the Explorer's rows and the panels' stats show.
type separators struct {
	generation     uint64
	group, decimal string
}

var cachedSeparators atomic.Pointer[separators]

func currentSeparators() *separators {
	g := translations.Generation()
	if s := cachedSeparators.Load(); s != nil && s.generation == g {
		return s
	}
	s := &separators{generation: g, group: lang.X("number.group", ","), decimal: lang.X("number.decimal", ".")}
	cachedSeparators.Store(s)
	return s
}

// groupSeparator goes between thousands: a comma in English and Chinese,
// a no-break space in Russian (so a number never breaks across lines).
func groupSeparator() string { return currentSeparators().group }

// decimalSeparator goes before a fraction: a point in English and Chinese,
// a comma in Russian.
func decimalSeparator() string { return currentSeparators().decimal }

// Decimal writes a number formatted with a point ("1.5", as strconv and
// bytesize write it) with the window language's decimal separator.
func Decimal(s string) string {
	if sep := decimalSeparator(); sep != "." {
		return strings.Replace(s, ".", sep, 1)
	}
	return s
}

// Fixed writes f with prec decimals and the window language's separator:
// 2.5, 2,5 in Russian.
func Fixed(f float64, prec int) string { return Decimal(strconv.FormatFloat(f, 'f', prec, 64)) }

// ParseDecimal reads a number typed in the window's language: "1,5" in
// Russian, "1.5" in English (where "1,5" stays an error rather than a
// silent 15 or 1.5).
func ParseDecimal(text string) (float64, error) {
	if sep := decimalSeparator(); sep != "." {
		text = strings.Replace(text, sep, ".", 1)
	}
	return strconv.ParseFloat(text, 64)
}

// group puts sep before every third digit from the right.
func group(digits, sep string) string {
	out := make([]byte, 0, len(digits)+len(digits)/3*len(sep))
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, sep...)
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
		return Fixed(r, 1)
	}
	return Count(int64(r + 0.5))
}
