package subscribe

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// panelSize is the Subscribe panel's part of the app's default 1100 × 720
// window, right of the bar of panels.
var panelSize = fyne.NewSize(1000, 720)

// drawn is the text o draws.
func drawn(o fyne.CanvasObject) string {
	var b strings.Builder
	uitest.Walk(o, func(o fyne.CanvasObject) bool {
		if t, ok := o.(*canvas.Text); ok {
			b.WriteString(t.Text)
		}
		return true
	})
	return b.String()
}

// "Subscribed to # on Local broker: granted QoS 1", a filter's error and
// the MQTT 3.1.1 note come and go without pushing the subscriptions and
// the messages down.
func TestMessagesDoNotMoveTheLists(t *testing.T) {
	h := newHarness(t, Options{})
	h.connect(t, "v5", "alice", "alice-demo", client.MQTT5)
	h.connect(t, "v311", "alice", "alice-demo", client.MQTT311)
	h.choose(t, "v5")
	h.win.Resize(panelSize)
	uitest.Relayout(h.win)

	subs, list := uitest.AbsPos(h.p.subsBox), uitest.AbsPos(h.p.list)
	still := func(after string) {
		t.Helper()
		uitest.Relayout(h.win)
		if got := uitest.AbsPos(h.p.subsBox); got != subs {
			t.Errorf("after %s the subscriptions moved from %v to %v", after, subs, got)
		}
		if got := uitest.AbsPos(h.p.list); got != list {
			t.Errorf("after %s the messages moved from %v to %v", after, list, got)
		}
	}
	h.subscribe(t, "#", 1)
	if !h.p.formMsg.Visible() || !has(h.p.formMsg.Text, "granted QoS 1") {
		t.Fatalf("the answer %q (shown %v)", h.p.formMsg.Text, h.p.formMsg.Visible())
	}
	still("the answer appeared")
	h.p.filter.SetText("sensors/#/temp")
	if !h.p.filterErr.Visible() {
		t.Fatal("an invalid filter shows no error")
	}
	still("a filter error appeared")
	h.p.filter.SetText("sensors/+/temp")
	still("the filter error went")
	h.choose(t, "v311")
	if !h.p.v5Note.Visible() {
		t.Fatal("no MQTT 3.1.1 note")
	}
	still("the MQTT 3.1.1 note appeared")
	h.choose(t, "v5")
	still("the MQTT 3.1.1 note went")
}

// At 1100 × 720 every retain-handling choice reads whole in its box.
func TestRetainHandlingReadsWhole(t *testing.T) {
	h := newHarness(t, Options{})
	h.connect(t, "v5", "alice", "alice-demo", client.MQTT5)
	h.choose(t, "v5")
	h.win.Resize(panelSize)
	for i, want := range retainWords() {
		h.p.retain.SetSelectedIndex(i)
		uitest.Relayout(h.win)
		if got := drawn(h.p.retain); got != want {
			t.Errorf("retain handling shows %q of %q", got, want)
		}
	}
}

// Pause becoming Resume, and the status growing by what arrived since,
// leave the message list and the filter box where they were.
func TestPauseDoesNotMoveTheList(t *testing.T) {
	h := newHarness(t, Options{})
	h.connect(t, "v5", "alice", "alice-demo", client.MQTT5)
	h.choose(t, "v5")
	h.subscribe(t, "#", 1)
	h.win.Resize(panelSize)
	uitest.Relayout(h.win)
	list, box := uitest.AbsPos(h.p.list), h.p.textFilter.Size()
	test.Tap(h.p.pauseBtn)
	for range 3 {
		h.pub(t, "sensors/a/temp", "21.5")
	}
	h.q.until(t, "the count of messages since the pause", func() bool { return has(h.p.status.Text, "Paused: 3 more") })
	uitest.Relayout(h.win)
	if got := uitest.AbsPos(h.p.list); got != list {
		t.Errorf("pausing moved the messages from %v to %v", list, got)
	}
	if got := h.p.textFilter.Size(); got != box {
		t.Errorf("Resume resized the filter box from %v to %v", box, got)
	}
}
