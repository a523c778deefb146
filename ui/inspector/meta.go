package inspector

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// timeLayout shows a message's receive time to the millisecond, in local
// time: messages a few ms apart must be told apart.
const timeLayout = "2006-01-02 15:04:05.000"

// previewBytes is how much of a payload a history row reads.
const previewBytes = 160

// field is one key and value of the metadata.
type field struct{ key, value string }

// basicFields are the metadata every message has.
func basicFields(r *message.Message) []field {
	retain := lang.L("no")
	if r.Retain {
		retain = lang.L("yes")
	}
	client := r.ClientID
	if client == "" {
		client = lang.L("(none)")
	}
	return []field{
		{lang.L("Time"), r.Time.Local().Format(timeLayout)},
		{lang.L("Size"), sizeText(len(r.Payload))},
		{"QoS", strconv.Itoa(int(r.QoS))},
		{lang.L("Retain"), retain},
		{lang.L("Client ID"), client},
		{lang.L("Protocol"), message.ProtocolName(r.Protocol)},
	}
}

// v5Fields are the MQTT 5 properties the message carried; nil for MQTT 3
// and for an MQTT 5 message without any.
func v5Fields(r *message.Message) []field {
	if r.Protocol != 5 {
		return nil
	}
	var fs []field
	if r.PayloadFormat != nil {
		v := strconv.Itoa(int(*r.PayloadFormat))
		switch *r.PayloadFormat {
		case 0:
			v += lang.L(" (bytes)")
		case 1:
			v += lang.L(" (UTF-8)")
		}
		fs = append(fs, field{lang.L("Payload format"), v})
	}
	if r.ContentType != "" {
		fs = append(fs, field{lang.L("Content type"), r.ContentType})
	}
	if r.MessageExpiry != nil {
		fs = append(fs, field{lang.L("Message expiry"), numfmt.Seconds(*r.MessageExpiry)})
	}
	if r.ResponseTopic != "" {
		fs = append(fs, field{lang.L("Response topic"), r.ResponseTopic})
	}
	if len(r.CorrelationData) > 0 {
		fs = append(fs, field{lang.L("Correlation data"), bytesText(r.CorrelationData)})
	}
	if len(r.UserProps) > 0 {
		ps := make([]string, len(r.UserProps))
		for i, p := range r.UserProps {
			ps[i] = p.Key + "=" + p.Value
		}
		fs = append(fs, field{lang.L("User properties"), strings.Join(ps, ", ")})
	}
	return fs
}

func sizeText(n int) string {
	if n < 1024 {
		return numfmt.Plural(n, "byte", "bytes")
	}
	return fmt.Sprintf(lang.L("%s (%s bytes)"), numfmt.Bytes(int64(n)), numfmt.Count(int64(n)))
}

// bytesText shows short binary properties: as text when they are, else as
// hex.
func bytesText(b []byte) string {
	if decode.IsText(b) {
		return strconv.Quote(string(b))
	}
	if len(b) > 64 {
		return "0x" + hex.EncodeToString(b[:64]) + "… (" + numfmt.Plural(len(b), "byte", "bytes") + ")"
	}
	return "0x" + hex.EncodeToString(b)
}

// copyText is what Copy payload puts on the clipboard: the payload itself
// when it is text, else its hex dump (as the Capture panel copies it), since
// a clipboard carries text and raw bytes would be mangled.
func copyText(b []byte) string {
	if decode.IsText(b) {
		return string(b)
	}
	return hex.Dump(b)
}

// preview is a history row's one-line glimpse of a payload.
func preview(b []byte) string {
	if len(b) == 0 {
		return lang.L("(empty payload)")
	}
	cut := b[:min(len(b), previewBytes)]
	for len(cut) > 0 && len(cut) < len(b) && !utf8.Valid(cut) {
		cut = cut[:len(cut)-1] // do not split a character
	}
	if !decode.IsText(cut) {
		head := b[:min(len(b), 24)]
		s := hex.EncodeToString(head)
		if len(head) < len(b) {
			s += "…"
		}
		return "0x" + s
	}
	s := strings.Join(strings.Fields(string(cut)), " ")
	if len(cut) < len(b) {
		s += "…"
	}
	return s
}
