package capturepanel

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// parseTime reads a search bound: "" (unbounded, the zero time), an RFC 3339
// time, or a time relative to now such as -30s, -10m, -2h, -7d or -1w (or
// in the window's units: -10 мин, -2 ч, -7 天).
func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if s == "now" {
		return now, nil
	}
	if strings.HasPrefix(s, "-") {
		digits := strings.TrimLeft(s[1:], "0123456789")
		num := s[1 : len(s)-len(digits)]
		d, ok := numfmt.DurationUnit(strings.TrimSpace(digits))
		if !ok || d < time.Second {
			return time.Time{}, fmt.Errorf(lang.L("%q: a relative time ends in s, m, h, d or w, e.g. -10m"), s)
		}
		n, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return time.Time{}, fmt.Errorf(lang.L("%q: a relative time is a whole number and a unit, e.g. -10m"), s)
		}
		if n > uint64(1<<62/int64(d)) {
			return time.Time{}, fmt.Errorf(lang.L("%q: too far back"), s)
		}
		return now.Add(-time.Duration(n) * d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf(lang.L("%q is neither a relative time (-10m, -2h, -7d) nor RFC 3339 (2006-01-02T15:04:05Z)"), s)
	}
	return t, nil
}

// isText reports whether b is UTF-8 without control characters other than
// tab, newline and carriage return.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

const (
	previewRunes = 80 // text payload preview length
	previewBytes = 24 // binary payload preview length
)

// preview is a one-line view of a payload: text with line breaks shown as
// ⏎, binary as hex, cut with the full size appended.
func preview(b []byte) string {
	if len(b) == 0 {
		return lang.L("(empty)")
	}
	if isText(b) {
		s := oneLine.Replace(string(b))
		if utf8.RuneCountInString(s) <= previewRunes {
			return s
		}
		r := []rune(s)
		return string(r[:previewRunes]) + "… (" + numfmt.Bytes(int64(len(b))) + ")"
	}
	if len(b) <= previewBytes {
		return "0x" + hex.EncodeToString(b)
	}
	return "0x" + hex.EncodeToString(b[:previewBytes]) + "… (" + numfmt.Bytes(int64(len(b))) + lang.L(", binary)")
}

// rowText is one line of the results list. The payload comes before the
// client ID (a broker records IDs of 20 characters and more) and, for a
// search, from shortly before its first match, so what was searched for
// is in view.
func rowText(r *message.Message, contains string) string {
	flags := fmt.Sprintf("Q%d", r.QoS)
	if r.Retain {
		flags += " R"
	}
	client := r.ClientID
	if client == "" {
		client = "—"
	}
	return fmt.Sprintf("%s  %s  [%s]  %s  · %s", r.Time.Format("2006-01-02 15:04:05.000"), oneLine.Replace(r.Topic), flags,
		preview(fromMatch(r.Payload, contains)), oneLine.Replace(client))
}

// matchLead is how much of a text payload a row shows before a match.
const matchLead = 3

// fromMatch is b from matchLead bytes before the first match of
// contains, marked with … when that cuts its start; b itself when there
// is no search, no match, the match is near the start, or b is binary.
func fromMatch(b []byte, contains string) []byte {
	i := bytes.Index(b, []byte(contains))
	if contains == "" || i <= matchLead || !isText(b) {
		return b
	}
	start := i - matchLead
	for start < i && !utf8.RuneStart(b[start]) {
		start++
	}
	return append([]byte("…"), b[start:]...)
}

// maxDetailBytes is how much of a payload the detail view shows; a text
// entry holding megabytes would make the UI unusable. Copy payload always
// copies all of it.
const maxDetailBytes = 256 << 10

// payloadText is the full payload as text: as is, or binary as a hex dump.
func payloadText(b []byte) string {
	if isText(b) {
		return string(b)
	}
	return hex.Dump(b)
}

// payloadView is what the detail view shows of r's payload, and how it
// is shown: decoded as the inspector decodes it (JSON indented, CBOR,
// MessagePack and Sparkplug B rendered, binary as a hex dump), or, over
// maxDetailBytes, the start of it as it is.
func payloadView(r *message.Message) (text, shown string) {
	if len(r.Payload) > maxDetailBytes {
		return rawView(r.Payload), lang.L("Shown as received (cut)")
	}
	res := decode.Decode(decode.Auto, r.Topic, r.Payload, r.ContentType)
	text = res.Text
	if res.HexView() {
		text = strings.Join(res.Lines(0, res.LineCount()), "\n")
	}
	shown = lang.L("Shown as ") + numfmt.FormatLabel(res.Format)
	if res.Err != nil {
		shown += fmt.Sprintf(lang.L(" (%s did not fit: %v)"), numfmt.FormatLabel(res.Tried), res.Err)
	}
	return text, shown
}

// rawView is payloadText of at most maxDetailBytes of b, with a note when
// it is cut.
func rawView(b []byte) string {
	if len(b) <= maxDetailBytes {
		return payloadText(b)
	}
	cut := b[:maxDetailBytes]
	if isText(b) {
		for len(cut) > 0 && !utf8.Valid(cut) { // do not split a rune
			cut = cut[:len(cut)-1]
		}
	}
	return payloadText(cut) + fmt.Sprintf(lang.L("\n… showing the first %s of %s; Copy payload copies all of it."),
		numfmt.Bytes(int64(len(cut))), numfmt.Bytes(int64(len(b))))
}

// oneLine replaces line breaks so that s fits a list row.
var oneLine = strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎", "\t", " ")

// sourceText names a record's source as the Explorer does, with the
// embedded broker's stored name ("broker", what exports and imports
// carry) beside its own.
func sourceText(source string) string {
	if source == broker.SourceBroker {
		return localname.Label(localname.Profile) + " (" + source + ")"
	}
	return localname.Label(source)
}

// detailText lists every field of r except the payload.
func detailText(r *message.Message) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", k, v) }
	line(lang.L("Time"), r.Time.Format("2006-01-02 15:04:05.000000000 Z07:00"))
	line(lang.L("Topic"), r.Topic)
	line(lang.L("Client"), r.ClientID)
	line(lang.L("Source"), sourceText(r.Source))
	line(lang.L("Protocol"), message.ProtocolName(r.Protocol))
	line("QoS", strconv.Itoa(int(r.QoS)))
	line(lang.L("Retain"), strconv.FormatBool(r.Retain))
	line(lang.L("Size"), numfmt.Bytes(int64(len(r.Payload))))
	line("Seq", strconv.FormatUint(r.Seq, 10))
	if r.PayloadFormat != nil {
		v := lang.L("unspecified bytes")
		if *r.PayloadFormat == 1 {
			v = "UTF-8"
		}
		line(lang.L("Payload format"), fmt.Sprintf("%d (%s)", *r.PayloadFormat, v))
	}
	if r.ContentType != "" {
		line(lang.L("Content type"), r.ContentType)
	}
	if r.MessageExpiry != nil {
		line(lang.L("Message expiry"), numfmt.Seconds(*r.MessageExpiry))
	}
	if r.ResponseTopic != "" {
		line(lang.L("Response topic"), r.ResponseTopic)
	}
	if len(r.CorrelationData) > 0 {
		v := string(r.CorrelationData)
		if !isText(r.CorrelationData) {
			v = "0x" + hex.EncodeToString(r.CorrelationData)
		}
		line(lang.L("Correlation data"), v)
	}
	if len(r.UserProps) > 0 {
		b.WriteString(lang.L("User properties:\n"))
		for _, up := range r.UserProps {
			fmt.Fprintf(&b, "  %s = %s\n", up.Key, up.Value)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
