package subscribe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// previewRunes bounds a row's preview: a row shows a line, and making
// the preview of a 1 MiB payload must not cost a pass over all of it.
const previewRunes = 120

// preview is one printable line from the start of a payload: its text
// when it is UTF-8, else the first bytes in hex.
func preview(payload []byte, size int) string {
	if size == 0 {
		return lang.L("(empty)")
	}
	head := payload[:min(len(payload), previewRunes*utf8.UTFMax)]
	if isText(head) {
		var b strings.Builder
		n := 0
		for _, r := range string(head) {
			if n == previewRunes {
				break
			}
			if r == utf8.RuneError {
				break // a rune cut at the edge of head
			}
			if unicode.IsControl(r) {
				r = ' '
			}
			b.WriteRune(r)
			n++
		}
		out := b.String()
		if n == previewRunes || len(head) < size {
			out += "…"
		}
		return out
	}
	const hexBytes = 24
	var b strings.Builder
	for i, c := range payload[:min(len(payload), hexBytes)] {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%02x", c)
	}
	if size > hexBytes {
		b.WriteString(" …")
	}
	return fmt.Sprintf(lang.L("binary, %s bytes: %s"), numfmt.Count(int64(size)), b.String())
}

// isText reports whether b is UTF-8, allowing a rune cut at its end
// (b may be the start of a longer payload).
func isText(b []byte) bool {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:])
		}
		if r == 0 {
			return false
		}
		i += n
	}
	return true
}

// containsFold reports whether needle (already lower case) occurs in s,
// ignoring ASCII case; the text filter runs over every kept payload, so
// it must not allocate.
func containsFold[S string | []byte](s S, needle string) bool {
	if needle == "" {
		return true
	}
	for i := 0; i+len(needle) <= len(s); i++ {
		j := 0
		for j < len(needle) && lower(s[i+j]) == needle[j] {
			j++
		}
		if j == len(needle) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// qosWords are the QoS choices as the form shows them; the form reads
// the choice by its index.
func qosWords() []string {
	return []string{lang.L("0 · at most once"), lang.L("1 · at least once"), lang.L("2 · exactly once")}
}

// retainWords are the retain handling choices [MQTT-3.8.3.1].
func retainWords() []string {
	return []string{lang.L("0 · send retained messages at subscribe"), lang.L("1 · only if the subscription is new"), lang.L("2 · do not send retained messages")}
}

// resultText says what the broker answered to a SUBSCRIBE.
func resultText(r client.SubResult) string {
	if r.Refused {
		return lang.L("Refused: ") + r.Reason
	}
	return fmt.Sprintf(lang.L("Granted QoS %d"), r.Granted)
}

// optionsText lists a subscription's MQTT 5 options that are not the
// defaults.
func optionsText(s client.Subscription) string {
	var parts []string
	if s.NoLocal {
		parts = append(parts, "no-local")
	}
	if s.RetainAsPublished {
		parts = append(parts, lang.L("retain as published"))
	}
	switch s.RetainHandling {
	case 1:
		parts = append(parts, lang.L("retained only if new"))
	case 2:
		parts = append(parts, lang.L("no retained"))
	}
	return strings.Join(parts, ", ")
}

// stateText says how a connection is doing, with the reason when it is
// not connected.
func stateText(s client.Status) string {
	switch s.State {
	case client.StateConnected:
		return fmt.Sprintf(lang.L("Connected · MQTT %s"), s.Protocol)
	case client.StateReconnecting:
		if s.LastError != nil {
			return lang.L("Reconnecting: ") + s.LastError.Error()
		}
		return lang.L("Reconnecting…")
	case client.StateConnecting:
		return lang.L("Connecting…")
	default:
		return lang.L("Disconnected")
	}
}
