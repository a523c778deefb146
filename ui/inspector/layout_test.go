package inspector

import (
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// inspectorSize is the inspector's part of the app's default 1100 × 720
// window, with a margin: it gets 490 px beside the panel bar and the
// explorer's tree, and got 455 before the tree's buttons were narrowed.
var inspectorSize = fyne.NewSize(455, 720)

// A hex dump fits the inspector's width: each row is a whole dump row
// (offset, bytes, text), none wraps onto a row of its own.
func TestHexRowsFitTheInspector(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.win.Resize(inspectorSize)
	payload := make([]byte, 61) // the last row is partial
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	h.feed(rec("dev/raw", string(payload), 0))
	h.show("dev/raw")
	lv := h.in.lines
	cols := monoCols(lv.Size().Width)
	dumpRow := regexp.MustCompile(`^[0-9a-f]{8}  ([0-9a-f]{2} +)+ \|.*\|$`)
	seen := 0
	for i := range lv.rowCount() {
		r := lv.row(i)
		if !dumpRow.MatchString(r) {
			t.Errorf("row %d %q is not a whole dump row (the list fits %d columns)", i, r, cols)
		}
		if textCols(r) > cols {
			t.Errorf("row %d is %d columns, the list fits %d", i, textCols(r), cols)
		}
		if i := strings.Index(r, " |"); i >= 0 {
			seen += len(r) - (i + 2) - 1
		}
	}
	if seen != len(payload) {
		t.Errorf("the rows show %d bytes as text, want all %d", seen, len(payload))
	}
}

// cutLabels returns the labels under o, outside skip, that show less
// than their text: an ellipsis where the text did not fit.
func cutLabels(o fyne.CanvasObject, skip fyne.CanvasObject) []string {
	var out []string
	skipped := map[fyne.CanvasObject]bool{}
	visible(skip, func(o fyne.CanvasObject) { skipped[o] = true })
	visible(o, func(o fyne.CanvasObject) {
		l, ok := o.(*widget.Label)
		if !ok || l.Text == "" || skipped[l] {
			return
		}
		var shown strings.Builder
		visible(l, func(o fyne.CanvasObject) {
			if t, ok := o.(*canvas.Text); ok {
				shown.WriteString(t.Text)
			}
		})
		if strings.Join(strings.Fields(shown.String()), "") != strings.Join(strings.Fields(l.Text), "") {
			out = append(out, l.Text)
		}
	})
	return out
}

// v5Message is an MQTT 5 message with every property set.
func v5Message(topic, payload string, i int) message.Message {
	m := rec(topic, payload, i)
	m.Protocol, m.QoS, m.Retain = 5, 1, true
	pf, expiry := byte(1), uint32(60)
	m.PayloadFormat, m.MessageExpiry = &pf, &expiry
	m.ContentType = "application/json"
	m.ResponseTopic = topic + "/reply"
	m.CorrelationData = []byte("req-42")
	m.UserProps = []message.UserProp{{Key: "unit", Value: "C"}, {Key: "site", Value: "north"}, {Key: "firmware", Value: "4.2.1-rc3"}}
	return m
}

// At the default window size the inspector shows the payload however many
// MQTT 5 properties the message has, and every label whole: nothing cut
// with an ellipsis, nothing squeezed into a column of single words.
func TestInspectorIsLegibleAtTheDefaultWindowSize(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.win.Resize(inspectorSize)
	h.feed(v5Message("plant/pump-7/state", `{"temp":21.5,"status":"ok"}`, 0),
		v5Message("plant/pump-7/state", `{"temp":22.5,"status":"ok"}`, 1))
	h.show("plant/pump-7/state")
	in := h.in
	in.tabs.SelectIndex(0)
	h.q.until(t, "the diff", func() bool { return len(in.diff.rows) > 0 })
	uitest.Relayout(h.win)

	lineH := fyne.MeasureText("0", theme.TextSize(), fyne.TextStyle{Monospace: true}).Height
	if got := in.lines.Size().Height; got < 4*lineH {
		t.Errorf("the payload pane is %v high, %.1f lines: the metadata pushed it out of view", got, got/lineH)
	}
	// The properties are there, folded, one click away.
	var props *widget.Accordion
	visible(in.Content(), func(o fyne.CanvasObject) {
		if a, ok := o.(*widget.Accordion); ok && len(a.Items) == 1 && strings.Contains(a.Items[0].Title, "MQTT 5 properties") {
			props = a
		}
	})
	if props == nil {
		t.Fatal("an MQTT 5 message has no section of MQTT 5 properties to open")
	}
	props.Open(0)
	var shown strings.Builder
	visible(props, func(o fyne.CanvasObject) {
		if rt, ok := o.(*widget.RichText); ok {
			shown.WriteString(rt.String() + "  ")
		}
	})
	containsAll(t, "MQTT 5 properties", shown.String(), "Content type application/json", "User properties unit=C, site=north")
	props.Close(0)
	// The history rows are previews, cut on purpose.
	if cut := cutLabels(in.Content(), in.histList); len(cut) > 0 {
		t.Errorf("labels cut at 1100 × 720: %q", cut)
	}
	minW := fyne.MeasureText(strings.Repeat("m", 12), theme.TextSize(), fyne.TextStyle{}).Width
	visible(in.Content(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Wrapping != fyne.TextWrapOff && strings.Contains(l.Text, " ") && l.Size().Width < minW {
			t.Errorf("label %q is squeezed into %v px", l.Text, l.Size().Width)
		}
	})

	// A topic without numbers says so in the chart, whole.
	h.feed(rec("plant/pump-7/name", "pump seven", 2))
	h.show("plant/pump-7/name")
	in.tabs.SelectIndex(1)
	h.q.until(t, "the chart's note", func() bool { return in.chart.chart.empty != "" })
	c := in.chart.chart
	var said []string
	for _, o := range test.WidgetRenderer(c).Objects() {
		if txt, ok := o.(*canvas.Text); ok {
			said = append(said, txt.Text)
			if txt.Position().X < 0 || txt.Position().X+txt.MinSize().Width > c.Size().Width {
				t.Errorf("the chart's %q spans x %v..%v in a chart %v wide", txt.Text, txt.Position().X, txt.Position().X+txt.MinSize().Width, c.Size().Width)
			}
		}
	}
	if strings.Join(said, " ") != c.empty {
		t.Errorf("the chart says %q, want %q", said, c.empty)
	}
}
