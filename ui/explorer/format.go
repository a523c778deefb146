package explorer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/decode/sparkplugb"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// nameText is a row's name: the topic level, or the source for a root. An
// empty level (the first of "/a", or "a//b") is shown as "" so that it is
// not an invisible row.
func nameText(s *topics.NodeSummary) string {
	switch {
	case s.Parent == 0:
		return sourceTitle(s.Source)
	case s.Name == "":
		return `""`
	}
	return s.Name
}

// sourceTitle is how a source is named to the user: the embedded broker
// as its connection is named everywhere else in the window ("Local
// broker"), a connection by its name. (The inspector names roots the same
// way.)
func sourceTitle(source string) string {
	if source == broker.SourceBroker {
		return localname.Label(localname.Profile)
	}
	return localname.Label(source)
}

// previewText is what a row shows of its topic's last payload: text on one
// line, or for binary payloads their likely format and size. Levels that
// never got a message of their own show nothing.
func previewText(s *topics.NodeSummary) string {
	if s.Messages == 0 {
		return ""
	}
	if s.PayloadLen == 0 {
		return lang.L("(empty)")
	}
	p := s.Preview
	if isText(p) {
		out := strings.Join(strings.Fields(p), " ")
		if s.PayloadLen > len(p) {
			out += " …"
		}
		return out
	}
	kind := lang.L("binary")
	switch {
	case sparkplugb.IsTopic(s.Topic):
		kind = numfmt.FormatLabel(decode.SparkplugB)
	case s.PayloadLen == len(p):
		// The preview is the whole payload, so its format can be told.
		// Text and JSON are text, shown above; Hex says no more than binary.
		if f := decode.Detect(s.Topic, []byte(p), ""); f != decode.Hex && f != decode.Text && f != decode.JSON {
			kind = numfmt.FormatLabel(f)
		}
	}
	return kind + ", " + numfmt.Bytes(int64(s.PayloadLen))
}

// isText: valid UTF-8 without control characters other than white space,
// i.e. something that reads as text on one line.
func isText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// countsText is a row's counts: for a branch its children and the messages
// in its subtree, for a leaf its messages; and whether the broker holds a
// retained message for it. That is "has retained", not "retained": the
// topic keeps its retained message when live ones follow, and the row
// beside it previews the last message, which a bare "retained" would
// describe wrongly.
func countsText(d *rowData) string {
	var b strings.Builder
	if d.Retained {
		b.WriteString(lang.L("has retained · "))
	}
	switch {
	case d.filtered && d.shownKids < d.Children:
		// A filtered tree shows only the children leading to a match:
		// say how many of them there are.
		b.WriteString(numfmt.Count(d.shownKids) + lang.L(" of ") + numfmt.Plural(d.Children, "child", "children"))
		b.WriteString(" · ")
		b.WriteString(numfmt.Plural(d.SubtreeMessages, "msg", "msgs"))
	case d.Children > 0:
		b.WriteString(numfmt.Plural(d.Children, "child", "children"))
		b.WriteString(" · ")
		b.WriteString(numfmt.Plural(d.SubtreeMessages, "msg", "msgs"))
	default:
		b.WriteString(numfmt.Plural(d.Messages, "msg", "msgs"))
	}
	return b.String()
}

// statusText is the status line: the model's message rate, size, what a
// burst made it skip (each topic still shows its newest message) and what
// it lost.
func statusText(st topics.Stats) string {
	s := fmt.Sprintf(lang.L("%s msg/s · %s · %s · %s dropped"), numfmt.Rate(st.Rate),
		numfmt.Plural(st.Topics, "topic", "topics"), numfmt.Plural(st.Messages, "msg", "msgs"), numfmt.Count(st.Dropped))
	// After "dropped", so that a narrow panel cuts the explanation first.
	if st.Coalesced > 0 {
		s += fmt.Sprintf(lang.L(" · %s skipped (newest shown)"), numfmt.Count(st.Coalesced))
	}
	if st.OverLimit > 0 {
		s += fmt.Sprintf(lang.L(" · %s not shown (over the tree's node limit)"), numfmt.Count(st.OverLimit))
	}
	return s
}

// filterText describes what a filter matched.
func filterText(u *update) string {
	if !u.filtered {
		return ""
	}
	if u.truncated {
		return fmt.Sprintf(lang.L("Filter: the first %s matches"), numfmt.Count(u.matches))
	}
	if u.matches == 0 {
		return lang.L("Filter: no topic matches")
	}
	return lang.L("Filter: ") + numfmt.Plural(u.matches, "match", "matches")
}
