package decode

import (
	"mime"
	"strings"
)

// Detect picks the format a payload is most likely in. In order:
//
//   - empty: Text (the view says "(empty payload)");
//   - a format that what comes with the payload claims, when the payload
//     really is that: a Sparkplug B topic (spBv1.0/..., not STATE), then
//     an MQTT 5 content type naming JSON, CBOR, MessagePack or text (a
//     scalar JSON payload such as 21.5 is JSON only this way);
//   - the first format the bytes look like, in the order the registry's
//     sniff ranks give: a JSON object or array (a UTF-8 byte order mark
//     allowed); valid UTF-8 without control characters other than tab, CR
//     and LF, checked before the binary formats because short text is
//     often also a valid binary document ("ab" is the CBOR string "b"); a
//     CBOR, then MessagePack, map or array that parses to the last byte (a
//     lone binary scalar is too ambiguous);
//   - anything else: Hex.
//
// Base64 is never detected: too many words ("test", "cafe") are valid
// base64. Detect never fails; Decode with the result shows the payload.
func Detect(topic string, payload []byte, contentType string) Format {
	if len(payload) == 0 {
		return Text
	}
	p := Payload{Topic: topic, Bytes: payload, MediaType: mediaType(contentType)}
	for _, d := range detectOrder {
		if d.Claims(p) {
			return d.Format()
		}
	}
	for _, d := range detectOrder {
		if d.Looks(p) {
			return d.Format()
		}
	}
	return Hex
}

// mediaType is an MQTT 5 content type without parameters, lower case; a
// malformed one is taken as it is.
func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}
