package decode

import (
	"encoding/json"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/decode/sparkplugb"
)

// Detect picks the format a payload is most likely in. In order:
//
//   - empty: Text (the view says "(empty payload)");
//   - a Sparkplug B topic (spBv1.0/..., not STATE) whose payload decodes:
//     SparkplugB;
//   - an MQTT 5 content type naming JSON, CBOR or MessagePack, when the
//     payload really is that: the named format (a scalar JSON payload such
//     as 21.5 is JSON only this way);
//   - a JSON object or array, a UTF-8 byte order mark allowed: JSON;
//   - valid UTF-8 without control characters other than tab, CR and LF:
//     Text (checked before CBOR and MessagePack, because short text is
//     often also a valid binary document: "ab" is the CBOR string "b");
//   - a CBOR or MessagePack map or array that parses to the last byte:
//     CBOR, then MessagePack (a lone binary scalar is too ambiguous);
//   - anything else: Hex.
//
// Base64 is never detected: too many words ("test", "cafe") are valid
// base64. Detect never fails; Decode with the result shows the payload.
func Detect(topic string, payload []byte, contentType string) Format {
	if len(payload) == 0 {
		return Text
	}
	if isSparkplugDataTopic(topic) {
		if _, err := sparkplugb.Unmarshal(payload); err == nil {
			return SparkplugB
		}
	}
	if f := byContentType(contentType); f != "" && fits(f, payload) {
		return f
	}
	body := stripBOM(payload)
	if first := firstNonSpace(body); (first == '{' || first == '[') && json.Valid(body) {
		return JSON
	}
	if isText(payload) {
		return Text
	}
	switch c := payload[0]; {
	case c >= 0x80 && c <= 0xdb && cborValid(payload) == nil:
		// Arrays 0x80-0x9f, maps 0xa0-0xbf, tags 0xc0-0xdb (e.g. 55799,
		// self-described CBOR).
		return CBOR
	case (c >= 0x80 && c <= 0x9f || c >= 0xdc && c <= 0xdf) && mpValid(payload) == nil:
		return MessagePack
	}
	return Hex
}

// isSparkplugDataTopic: Sparkplug topics carry protobuf, except STATE,
// which carries JSON (Sparkplug 3.0) or text (2.2).
func isSparkplugDataTopic(topic string) bool {
	return sparkplugb.IsTopic(topic) && !strings.HasPrefix(topic, sparkplugb.Namespace+"/"+sparkplugb.STATE+"/")
}

// byContentType maps an MQTT 5 content type to a format, or "".
func byContentType(ct string) Format {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(ct))
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json":
		return JSON
	case mt == "application/cbor" || strings.HasSuffix(mt, "+cbor"):
		return CBOR
	case mt == "application/msgpack" || mt == "application/x-msgpack" || mt == "application/vnd.msgpack" || strings.HasSuffix(mt, "+msgpack"):
		return MessagePack
	case strings.HasPrefix(mt, "text/"):
		return Text
	case mt == "application/x-protobuf" || mt == "application/protobuf" || mt == "application/vnd.google.protobuf":
		return "" // protobuf other than Sparkplug has no schema here
	}
	return ""
}

// fits reports whether payload decodes cleanly as f.
func fits(f Format, payload []byte) bool {
	switch f {
	case JSON:
		return json.Valid(stripBOM(payload))
	case CBOR:
		return cborValid(payload) == nil
	case MessagePack:
		return mpValid(payload) == nil
	case Text:
		return utf8.Valid(payload)
	}
	return false
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// isText: valid UTF-8 with no control characters but tab, CR and LF.
func isText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			return false
		}
	}
	return utf8.Valid(b)
}
