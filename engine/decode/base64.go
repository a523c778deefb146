package decode

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// Base64 unwraps base64 (standard or URL alphabet, padded or not) and shows
// the bytes in the format Detect finds for them.
const Base64 Format = "base64"

type base64Format struct{}

func (base64Format) Format() Format { return Base64 }
func (base64Format) Label() string  { return "Base64" }

// Claims and Looks: never guessed, as too many words ("test", "cafe") are
// valid base64.
func (base64Format) Claims(Payload) bool { return false }
func (base64Format) Looks(Payload) bool  { return false }

func (base64Format) Decode(p Payload) (View, error) {
	raw, err := decodeBase64(p.Bytes)
	if err != nil {
		return View{}, err
	}
	inner := Detect("", raw, "")
	if len(raw) == 0 {
		return View{Inner: inner, Bytes: raw}, nil
	}
	d := decoderFor(inner)
	// The inner format was detected, so its bytes fit; Hex is the catch-all.
	v, err := d.Decode(Payload{Bytes: raw, Checked: true})
	if err != nil {
		return View{}, fmt.Errorf("base64 content as %s: %w", d.Label(), err)
	}
	v.Inner, v.Bytes = inner, raw
	return v, nil
}

var base64Encodings = []*base64.Encoding{
	base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
}

// decodeBase64 accepts the standard and URL alphabets, padded or not, and
// ignores whitespace (line-wrapped base64 is common).
func decodeBase64(payload []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, payload)
	var firstErr error
	for _, enc := range base64Encodings {
		out, err := enc.DecodeString(string(clean))
		if err == nil {
			return out, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	var cie base64.CorruptInputError
	if errors.As(firstErr, &cie) {
		return nil, fmt.Errorf("not base64: illegal data at byte %d (whitespace removed)", int64(cie))
	}
	return nil, fmt.Errorf("not base64: %w", firstErr)
}
