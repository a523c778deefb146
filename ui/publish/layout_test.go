package publish

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/uitest"
)

// panelSize is the Publish panel's part of the app's default 1100 × 720
// window, right of the bar of panels.
var panelSize = fyne.NewSize(1000, 720)

// shownText is what a label draws of its text.
func shownText(l *widget.Label) string {
	var b strings.Builder
	uitest.Walk(l, func(o fyne.CanvasObject) bool {
		if t, ok := o.(*canvas.Text); ok {
			b.WriteString(t.Text)
		}
		return true
	})
	return b.String()
}

// A topic's error, a JSON error under the payload, "Published…" under the buttons and a
// note over the saved messages come and go without moving the fields,
// the buttons or the list below or beside them.
func TestMessagesDoNotMoveTheForm(t *testing.T) {
	h := newHarness(t)
	h.win.Resize(panelSize)
	h.selectConnection(localName)
	f := &h.p.form
	typeInto(f.topic, "a/b")
	f.formatSel.SetSelected(string(formatJSON))
	f.payload.SetText(`{"temp": 21.5}`)
	uitest.Relayout(h.win)

	qos, publish, list := uitest.AbsPos(f.qos), uitest.AbsPos(f.publish), uitest.AbsPos(h.p.saved.list)
	still := func(after string) {
		t.Helper()
		uitest.Relayout(h.win)
		if got := uitest.AbsPos(f.qos); got != qos {
			t.Errorf("after %s the QoS row moved from %v to %v", after, qos, got)
		}
		if got := uitest.AbsPos(f.publish); got != publish {
			t.Errorf("after %s the Publish button moved from %v to %v", after, publish, got)
		}
		if got := uitest.AbsPos(h.p.saved.list); got != list {
			t.Errorf("after %s the saved messages moved from %v to %v", after, list, got)
		}
	}
	// The validator's wording for a wildcard takes two lines in the form.
	f.topic.SetText("a/#")
	if !f.topicMsg.Visible() {
		t.Fatal("a wildcard in the topic shows no error")
	}
	still("a topic error appeared")
	f.topic.SetText("a/b")
	still("the topic error went")
	f.payload.SetText(`{"temp": }`)
	if !f.payErr.Visible() {
		t.Fatal("invalid JSON shows no error")
	}
	still("a JSON error appeared")
	f.payload.SetText(`{"temp": 21.5}`)
	still("the JSON error went")

	test.Tap(f.publish)
	h.resultHas("Published")
	still("Published… appeared")

	h.p.saved.collection.SetText("kitchen lamp")
	h.p.saved.name.SetText("turn on")
	test.Tap(h.p.saved.save)
	if !h.p.saved.note.Visible() {
		t.Fatal("saving says nothing")
	}
	still("the saved note appeared")
}

// At 1100 × 720 a saved message's row reads whole: collection, name and
// topic, beside its buttons.
func TestSavedRowsReadWhole(t *testing.T) {
	h := newHarness(t)
	h.win.Resize(panelSize)
	h.selectConnection(localName)
	typeInto(h.p.form.topic, "home/kitchen/light/set")
	h.p.form.payload.SetText("on")
	h.p.saved.collection.SetText("kitchen lamp")
	h.p.saved.name.SetText("turn on")
	test.Tap(h.p.saved.save)
	uitest.Relayout(h.win)

	var rows []*savedRowView
	uitest.Walk(h.p.saved.list, func(o fyne.CanvasObject) bool {
		if v, ok := o.(*savedRowView); ok {
			rows = append(rows, v)
			return false
		}
		return true
	})
	if len(rows) == 0 {
		t.Fatal("no saved message row shown")
	}
	for _, l := range []*widget.Label{rows[0].label, rows[0].topic} {
		if got := shownText(l); got != l.Text {
			t.Errorf("the saved row shows %q of %q", got, l.Text)
		}
	}
}
