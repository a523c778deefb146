package capturepanel

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// A form error and an action's progress and result come and go without
// moving the search form or the results.
func TestMessagesDoNotMoveTheResults(t *testing.T) {
	h := newHarness(t, openStore(t))
	p := h.panel
	h.win.Resize(fyne.NewSize(1000, 720))
	uitest.Relayout(h.win)
	form, list := uitest.AbsPos(p.filter), uitest.AbsPos(p.list)
	still := func(after string) {
		t.Helper()
		uitest.Relayout(h.win)
		if got := uitest.AbsPos(p.filter); got != form {
			t.Errorf("after %s the search form moved from %v to %v", after, form, got)
		}
		if got := uitest.AbsPos(p.list); got != list {
			t.Errorf("after %s the results moved from %v to %v", after, list, got)
		}
	}
	p.filter.SetText("a/#/b")
	test.Tap(p.searchBtn)
	if !p.formErr.Visible() {
		t.Fatal("an invalid filter shows no error")
	}
	still("a form error appeared")
	h.search(t, "a/+", true)
	still("the form error went")

	release := make(chan struct{})
	p.startAction(job{title: "Export", cancellable: true,
		status: func(int64, int64) string { return "Exporting…" },
		run: func(ctx context.Context, progress func(int64, int64)) (string, error) {
			<-release
			return "Exported 3 records.", nil
		}})
	still("an action's progress appeared")
	close(release)
	h.waitIdle(t)
	still("the action's result appeared")
	test.Tap(p.actionClose)
	still("the action's result was closed")
}

// At 1024 px wide, with the bar of panels beside it, the search fields
// show their hints and an RFC 3339 time whole.
func TestTimeFieldsReadWholeAt1024(t *testing.T) {
	h := newHarness(t, newCounting(nil))
	p := h.panel
	h.win.Resize(fyne.NewSize(924, 720))
	uitest.Relayout(h.win)
	fits := func(e *widget.Entry, text string) {
		t.Helper()
		w := fyne.MeasureText(text, theme.TextSize(), e.TextStyle).Width
		if room := e.Size().Width - 2*theme.InnerPadding(); w > room {
			t.Errorf("%q needs %v px, its box has %v", text, w, room)
		}
	}
	for _, e := range []*widget.Entry{p.since, p.until, p.contains, p.where} {
		fits(e, e.PlaceHolder)
	}
	fits(p.since, "2026-12-06T19:14:20+01:00")
	fits(p.until, "2026-12-06T19:14:20+01:00")
}
