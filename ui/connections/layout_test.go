package connections

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// The form's error appears without pushing its fields down.
func TestFormErrorDoesNotMoveTheFields(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	form := h.newCustomForm(t, "mqtt://broker.example:1883")
	name := entry(t, form, "a name for the list")
	uitest.Relayout(h.win)
	at := uitest.AbsPos(name)
	entry(t, form, "one filter per line").SetText("plant/#/temp")
	test.Tap(button(t, form, "Save"))
	if !strings.Contains(texts(form), "must be the last level") {
		t.Fatalf("the form shows no error:\n%s", texts(form))
	}
	form.Refresh()
	uitest.Relayout(h.win)
	if got := uitest.AbsPos(name); got != at {
		t.Errorf("the form's error moved its fields from %v to %v", at, got)
	}
}

// A connection's error comes and goes without moving the rows below it.
func TestConnectionErrorDoesNotMoveTheList(t *testing.T) {
	b := brokertest.Start(t)
	second := mustPreset(t, "Second", "mqtt://"+b.Addr)
	third := mustPreset(t, "Third", "mqtt://127.0.0.1:1")
	h := newHarness(t, harnessOpts{localAddr: b.Addr, profiles: []client.Profile{second, third}})
	sec, thr := h.row(t, "Second"), h.row(t, "Third")
	test.Tap(sec.connect)
	h.q.Until(t, "the second connection to be connected", func() bool { return strings.HasPrefix(sec.state.Text, "Connected") })
	uitest.Relayout(h.win)
	at := uitest.AbsPos(thr.name)
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	h.q.Until(t, "the connection's error", func() bool { return sec.errText.Visible() })
	uitest.Relayout(h.win)
	if got := uitest.AbsPos(thr.name); got != at {
		t.Errorf("the error of the row above (%q) moved the next row from %v to %v", sec.errText.Text, at, got)
	}
}
