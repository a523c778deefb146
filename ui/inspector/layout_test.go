package inspector

import (
	"fmt"
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
	"github.com/iotstudio/iotstudio/ui/translations"
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

// In every language, at the width the inspector gets in the default
// window, the decoder row shows its status whole ("5 строк" was cut to
// "5 …" in Russian) and the history rows show their whole stamp, time,
// size and R, four-digit sizes included ("47 B" was cut by the divider
// to the diff).
func TestInspectorLabelsWholeInEveryLanguage(t *testing.T) {
	for _, c := range []translations.Choice{translations.English, translations.Russian, translations.Chinese} {
		t.Run(string(c), func(t *testing.T) {
			uitest.InLanguage(t, c)
			h := newHarness(t, topics.Options{}, nil)
			if c == translations.Russian && h.in.freezeBtn.Text != "Заморозить" {
				t.Fatalf("the inspector is not in Russian: Freeze reads %q", h.in.freezeBtn.Text)
			}
			h.win.Resize(inspectorSize)
			// MQTT 5 messages, whose metadata takes the most room.
			big := v5Message("plant/pump-7/state", `{"temp":21.5,"status":"`+strings.Repeat("x", 1023-30)+`"}`, 0)
			h.feed(big, v5Message("plant/pump-7/state", `{"temp":22.5,"status":"ok"}`, 1))
			h.show("plant/pump-7/state")
			in := h.in
			in.tabs.SelectIndex(0)
			h.q.until(t, "the diff", func() bool { return len(in.diff.rows) > 0 })
			uitest.Relayout(h.win)

			lineH := fyne.MeasureText("0", theme.TextSize(), fyne.TextStyle{Monospace: true}).Height
			if got := in.lines.Size().Height; got < 4*lineH {
				t.Errorf("the payload pane is %v high, %.1f lines", got, got/lineH)
			}
			if in.status.Text == "" {
				t.Fatal("the decoder row has no status")
			}
			if got := squashed(in.status); got != strings.Join(strings.Fields(in.status.Text), "") {
				t.Errorf("the decoder row's status shows %q of %q", got, in.status.Text)
			}
			if cut := cutLabels(in.Content(), in.histList); len(cut) > 0 {
				t.Errorf("labels cut: %q", cut)
			}

			d := fyne.CurrentApp().Driver()
			listRight := d.AbsolutePositionForObject(in.histList).X + in.histList.Size().Width
			stamps := 0
			visible(in.histList, func(o fyne.CanvasObject) {
				l, ok := o.(*widget.Label)
				if ok && !l.TextStyle.Monospace && l.Text != "" && squashed(l) == "…" {
					t.Errorf("a preview shows only an ellipsis of %q", l.Text)
				}
				if !ok || !l.TextStyle.Monospace || l.Text == "" {
					return
				}
				stamps++
				if right := d.AbsolutePositionForObject(l).X + l.MinSize().Width; right > listRight {
					t.Errorf("the stamp %q ends at x %v, the list at %v", l.Text, right, listRight)
				}
				if l.Size().Width < l.MinSize().Width {
					t.Errorf("the stamp %q has %v px of the %v it needs", l.Text, l.Size().Width, l.MinSize().Width)
				}
			})
			if stamps < 2 {
				t.Errorf("%d history stamps shown, want 2", stamps)
			}

			// A topic without numbers says so in the chart, whole.
			h.feed(rec("plant/pump-7/name", "pump seven", 2))
			h.show("plant/pump-7/name")
			in.tabs.SelectIndex(1)
			h.q.until(t, "the chart's note", func() bool { return in.chart.chart.empty != "" })
			uitest.Relayout(h.win)
			ch := in.chart.chart
			for _, o := range test.WidgetRenderer(ch).Objects() {
				if txt, ok := o.(*canvas.Text); ok && (txt.Position().X < 0 || txt.Position().X+txt.MinSize().Width > ch.Size().Width) {
					t.Errorf("the chart's %q spans x %v..%v in a chart %v wide", txt.Text, txt.Position().X, txt.Position().X+txt.MinSize().Width, ch.Size().Width)
				}
			}
			if cut := cutLabels(in.Content(), nil); len(cut) > 0 {
				t.Errorf("labels cut in the chart tab: %q", cut)
			}
			if s := historyStamp(big.Time, int64(len(big.Payload)), true); !regexp.MustCompile(`\d{4} \pL+ R$`).MatchString(s) {
				t.Errorf("the big message's stamp %q has no four-digit size", s)
			}
		})
	}
}

// squashed is what l draws of its text, spaces left out.
func squashed(l *widget.Label) string {
	var b strings.Builder
	visible(l, func(o fyne.CanvasObject) {
		if t, ok := o.(*canvas.Text); ok {
			b.WriteString(t.Text)
		}
	})
	return strings.Join(strings.Fields(b.String()), "")
}

// In the default window the history list holds still while its status
// grows to two lines (frozen, with messages held back) and back, and the
// buttons beside the status stay side by side, their middles level. (In
// Russian the frozen status needs four lines there, more than the room
// kept for it; the buttons still stay level.)
func TestHistoryHoldsStillAsItsStatusGrows(t *testing.T) {
	for _, c := range []translations.Choice{translations.English, translations.Russian} {
		t.Run(string(c), func(t *testing.T) {
			uitest.InLanguage(t, c)
			h := newHarness(t, topics.Options{}, openStore(t))
			h.win.Resize(inspectorSize)
			for i := range 5 {
				h.feed(rec("plant/t", fmt.Sprintf(`{"v":%d}`, i), i))
			}
			h.show("plant/t")
			in := h.in
			in.tabs.SelectIndex(0)
			uitest.Relayout(h.win)
			d := fyne.CurrentApp().Driver()
			listPos, listSize := d.AbsolutePositionForObject(in.histList), in.histList.Size()
			still := func(after string) {
				t.Helper()
				uitest.Relayout(h.win)
				if p, s := d.AbsolutePositionForObject(in.histList), in.histList.Size(); c == translations.English && (p != listPos || s != listSize) {
					t.Errorf("after %s the history list moved from %v %v to %v %v (status %q)", after, listPos, listSize, p, s, in.histStatus.Text)
				}
				centre := func(o fyne.CanvasObject) float32 { return d.AbsolutePositionForObject(o).Y + o.Size().Height/2 }
				if f, o := centre(in.freezeBtn), centre(in.olderBtn); f != o {
					t.Errorf("after %s the buttons' middles are at y %v and %v", after, f, o)
				}
			}
			still("showing the topic")
			test.Tap(in.freezeBtn)
			for i := 5; i < 8; i++ {
				h.feed(rec("plant/t", fmt.Sprintf(`{"v":%d}`, i), i))
			}
			h.q.until(t, "the count of messages held back", func() bool { return in.st.heldBack() == 3 })
			if lines := in.histStatus.MinSize().Height; lines <= widget.NewLabel("1").MinSize().Height {
				t.Fatalf("the frozen status %q is one line: the test needs it to grow", in.histStatus.Text)
			}
			still("freezing with messages held back")
			test.Tap(in.freezeBtn)
			still("following again")
		})
	}
}
