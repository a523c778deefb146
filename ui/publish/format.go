package publish

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/saved"
)

// payloadFormat is how the payload editor reads what is typed.
type payloadFormat string

const (
	formatText   payloadFormat = "Text"
	formatJSON   payloadFormat = "JSON"
	formatHex    payloadFormat = "Hex"
	formatBase64 payloadFormat = "Base64"
)

var payloadFormats = []payloadFormat{formatText, formatJSON, formatHex, formatBase64}

// label is the format's name in the format picker: the words translated,
// the technical names (JSON, Hex, Base64) the same in every language.
func (f payloadFormat) label() string {
	if f == formatText {
		return lang.L("Text")
	}
	return string(f)
}

// formatByLabel is the format the picker's label names; Text for none.
func formatByLabel(label string) payloadFormat {
	for _, f := range payloadFormats {
		if f.label() == label {
			return f
		}
	}
	return formatText
}

// fileName is the format's name in saved messages.
func (f payloadFormat) fileName() string { return strings.ToLower(string(f)) }

// formatFromFile reads a saved message's format; unknown is text.
func formatFromFile(s string) payloadFormat {
	for _, f := range payloadFormats {
		if f.fileName() == s {
			return f
		}
	}
	return formatText
}

// hexBytesPerLine keeps a hex payload readable in the editor.
const hexBytesPerLine = 16

// base64LineLen wraps base64 as MIME does.
const base64LineLen = 76

// parsePayload turns the editor's text into the bytes to send. Errors say
// where the text is wrong.
func parsePayload(f payloadFormat, text string) ([]byte, error) {
	switch f {
	case formatJSON:
		if strings.TrimSpace(text) == "" {
			return nil, errors.New(lang.L("JSON: the payload is empty; type a JSON value, or choose Text to send nothing"))
		}
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			if line, col, ok := saved.JSONErrorAt([]byte(text), err); ok {
				return nil, fmt.Errorf(lang.L("JSON: line %d, column %d: %s"), line, col, strings.TrimPrefix(err.Error(), "json: "))
			}
			return nil, fmt.Errorf("JSON: %w", err)
		}
		return []byte(text), nil
	case formatHex:
		return parseHex(text)
	case formatBase64:
		return parseBase64(text)
	default:
		return []byte(text), nil
	}
}

// renderPayload shows b in format f, or says why it cannot.
func renderPayload(f payloadFormat, b []byte) (string, error) {
	switch f {
	case formatHex:
		var sb strings.Builder
		for i, c := range b {
			if i > 0 {
				if i%hexBytesPerLine == 0 {
					sb.WriteByte('\n')
				} else {
					sb.WriteByte(' ')
				}
			}
			sb.WriteString(hex.EncodeToString([]byte{c}))
		}
		return sb.String(), nil
	case formatBase64:
		s := base64.StdEncoding.EncodeToString(b)
		var sb strings.Builder
		for len(s) > base64LineLen {
			sb.WriteString(s[:base64LineLen])
			sb.WriteByte('\n')
			s = s[base64LineLen:]
		}
		sb.WriteString(s)
		return sb.String(), nil
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf(lang.L("the payload is binary (not UTF-8 text), so it cannot be shown as %s; keep Hex or Base64"), f.label())
	}
	if f == formatJSON && len(b) > 0 {
		if _, err := parsePayload(formatJSON, string(b)); err != nil {
			return "", fmt.Errorf(lang.L("the payload is not valid JSON (%v); fix it as Text first"), err)
		}
	}
	return string(b), nil
}

// prettyJSON indents valid JSON text.
func prettyJSON(text string) (string, error) {
	if _, err := parsePayload(formatJSON, text); err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(strings.TrimSpace(text)), "", "  "); err != nil {
		return "", fmt.Errorf("JSON: %w", err)
	}
	return out.String(), nil
}

// parseHex reads hex digit pairs; spaces, newlines, ':' and '-' between
// bytes and a 0x before them are allowed, as tools print hex in all of
// those ways.
func parseHex(text string) ([]byte, error) {
	var out []byte
	hi := -1              // the first digit of a byte, while its second is awaited
	var hiLine, hiCol int // where that digit is
	line, col := 1, 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		col++
		switch {
		case hi < 0 && r == '0' && i+1 < len(text) && (text[i+1] == 'x' || text[i+1] == 'X'):
			i, col = i+2, col+1
			continue
		case hexDigit(r) >= 0 && hi < 0:
			hi, hiLine, hiCol = hexDigit(r), line, col
		case hexDigit(r) >= 0:
			out = append(out, byte(hi<<4|hexDigit(r)))
			hi = -1
		case unicode.IsSpace(r) || r == ':' || r == '-':
			if hi >= 0 {
				return nil, fmt.Errorf(lang.L("hex: line %d, column %d: a byte needs two hex digits"), hiLine, hiCol)
			}
			if r == '\n' {
				line, col = line+1, 0
			}
		default:
			return nil, fmt.Errorf(lang.L("hex: line %d, column %d: %q is not a hex digit (use 0-9 and a-f)"), line, col, r)
		}
		i += size
	}
	if hi >= 0 {
		return nil, fmt.Errorf(lang.L("hex: line %d, column %d: a byte needs two hex digits"), hiLine, hiCol)
	}
	return out, nil
}

func hexDigit(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= 'a' && r <= 'f':
		return int(r-'a') + 10
	case r >= 'A' && r <= 'F':
		return int(r-'A') + 10
	}
	return -1
}

// parseBase64 reads standard or URL-safe base64, padded or not, ignoring
// line breaks.
func parseBase64(text string) ([]byte, error) {
	compact := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, text)
	enc := base64.StdEncoding
	if strings.ContainsAny(compact, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(compact, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.DecodeString(compact)
	var ce base64.CorruptInputError
	if errors.As(err, &ce) {
		at := int(ce)
		if at >= len(compact)-1 && len(compact)%4 == 1 || at >= len(compact) {
			return nil, fmt.Errorf(lang.L("base64: the text ends too early (%d characters, not a whole number of bytes)"), len(compact))
		}
		return nil, fmt.Errorf(lang.L("base64: character %d (%q) is not valid here (whitespace not counted)"), at+1, compact[at])
	}
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	return b, nil
}
