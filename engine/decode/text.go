package decode

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text is UTF-8 text, shown as it is (a byte order mark dropped).
const Text Format = "text"

type textFormat struct{}

func (textFormat) Format() Format { return Text }
func (textFormat) Label() string  { return "Text" }

// Claims: a text/* content type, but text/json, which names JSON; when
// that is not valid JSON the bytes decide.
func (textFormat) Claims(p Payload) bool {
	return strings.HasPrefix(p.MediaType, "text/") && p.MediaType != "text/json" && utf8.Valid(p.Bytes)
}

func (textFormat) Looks(p Payload) bool { return IsText(p.Bytes) }

func (textFormat) Decode(p Payload) (View, error) {
	if !utf8.Valid(p.Bytes) {
		return View{}, fmt.Errorf("not UTF-8 text: invalid byte at offset %d", invalidUTF8At(p.Bytes))
	}
	return View{Text: string(stripBOM(p.Bytes))}, nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		c, size := utf8.DecodeRune(b[i:])
		if c == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// IsText reports whether b is valid UTF-8 with no control characters but
// tab, CR and LF: what Detect calls text, and what can go on a clipboard or
// into a label as it is.
func IsText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			return false
		}
	}
	return utf8.Valid(b)
}
