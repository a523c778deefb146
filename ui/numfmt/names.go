package numfmt

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/bytesize"
	"github.com/iotstudio/iotstudio/engine/decode"
)

// FormatLabel is a decoder's name as the window shows it: the engine's
// label (shared with the command line, so English), with the words
// translated. Names that read the same in every language (JSON, Hex,
// Base64, CBOR, MessagePack, Sparkplug B) stay as they are.
func FormatLabel(f decode.Format) string {
	switch f {
	case decode.Auto:
		return lang.X("decoder.auto", "Auto")
	case decode.Text:
		return lang.L("Text")
	}
	return f.Label()
}

// Bytes is a byte size as the window shows it: bytesize's number (as the
// command line prints it) with the separator and unit of the window's
// language, "1,5 КиБ" in Russian.
func Bytes[N integer](n N) string {
	s := bytesize.Text(int64(n))
	num, unit, ok := strings.Cut(s, " ")
	if !ok {
		return s
	}
	return Decimal(num) + " " + ByteUnit(unit)
}

// ByteUnit translates one of bytesize's units ("MiB"); others come back
// as they are.
func ByteUnit(unit string) string {
	switch unit {
	case "B":
		return lang.X("unit.bytes", "B")
	case "KiB":
		return lang.X("unit.kib", "KiB")
	case "MiB":
		return lang.X("unit.mib", "MiB")
	case "GiB":
		return lang.X("unit.gib", "GiB")
	case "TiB":
		return lang.X("unit.tib", "TiB")
	case "PiB":
		return lang.X("unit.pib", "PiB")
	case "EiB":
		return lang.X("unit.eib", "EiB")
	}
	return unit
}

// Seconds is a whole number of seconds with its unit: "60 s", "60 с".
func Seconds[N integer](n N) string {
	return fmt.Sprintf(lang.X("unit.seconds", "%s s"), Count(n))
}
