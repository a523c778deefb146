package explorer

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// panelSize is the Explorer's part of the app's default 1100 × 720 window,
// right of the bar of panels.
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

func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// At 1100 × 720, beside the inspector, the status line is read whole,
// filter included, and the tree holds still while notes, filter errors
// and Pause/Resume come and go.
func TestStatusBarFitsAndTheLayoutHoldsStill(t *testing.T) {
	detail := canvas.NewRectangle(nil)
	h := newHarnessWith(t, func(o *Options) { o.Detail = detail })
	h.win.Resize(panelSize)
	for i := range 100 {
		h.pub(t, fmt.Sprintf("plant/line-%03d/temperature", i), "21.5", false)
	}
	test.Type(h.p.filter, "temperature")
	h.q.Until(t, "the filter's status", func() bool { return strings.Contains(h.p.status.Text, "Filter: ") })
	// A busy broker's numbers, as the issue saw them cut ("0 dropp…").
	// The queue is not run here, so no refresh replaces them.
	h.p.stats = topics.Stats{Rate: 2500, Topics: 25000, Messages: 1234567, Coalesced: 5321}
	h.p.showStats()
	uitest.Relayout(h.win)
	if got := shownText(h.p.status); squash(got) != squash(h.p.status.Text) {
		t.Errorf("the status line shows %q of %q", got, h.p.status.Text)
	}

	// The tree's buttons leave the inspector its half of the panel, or
	// near it: their row sets the tree pane's minimum width.
	if w := detail.Size().Width; w < 0.47*panelSize.Width {
		t.Errorf("the inspector gets %v of the panel's %v", w, panelSize.Width)
	}

	// The filter's hint is read whole in its box.
	hintW := fyne.MeasureText(h.p.filter.PlaceHolder, theme.TextSize(), fyne.TextStyle{}).Width
	if room := h.p.filter.Size().Width - 2*theme.InnerPadding(); hintW > room {
		t.Errorf("the filter's hint %q needs %v px, its box has %v", h.p.filter.PlaceHolder, hintW, room)
	}

	treePos, treeSize := h.p.tree.Position(), h.p.tree.Size()
	detailPos := detail.Position()
	still := func(after string) {
		t.Helper()
		uitest.Relayout(h.win)
		if h.p.tree.Position() != treePos || h.p.tree.Size() != treeSize {
			t.Errorf("after %s the tree moved from %v %v to %v %v", after, treePos, treeSize, h.p.tree.Position(), h.p.tree.Size())
		}
		if detail.Position() != detailPos {
			t.Errorf("after %s the split moved the inspector from %v to %v", after, detailPos, detail.Position())
		}
	}
	h.p.setNote("Deleted 3 retained messages.")
	still("a note appeared")
	h.p.setNote("")
	still("the note went")
	h.p.filter.SetText("plant/#/x")
	if !h.p.filterErr.Visible() {
		t.Fatal("an invalid filter shows no error")
	}
	still("a filter error appeared")
	h.p.filter.SetText("temperature")
	still("the filter error went")
	test.Tap(h.p.pauseBtn)
	if h.p.pauseBtn.Text != "Resume" {
		t.Fatalf("the pause button says %q after a tap", h.p.pauseBtn.Text)
	}
	still("Pause became Resume")
	test.Tap(h.p.pauseBtn)
	still("Resume became Pause")
}

// In every language the tree pane's buttons fit half of the Explorer in
// a 1100 px window, so the split to the inspector stays in the middle and
// the inspector keeps the width its rows are made for. The navigation
// bar's width is that of its longest panel name: about 100 px in English,
// 120 in Russian, 70 in Chinese (measured in the screenshots).
func TestTreePaneFitsHalfTheDefaultWindowInEveryLanguage(t *testing.T) {
	for _, c := range []struct {
		lang translations.Choice
		navW float32
	}{{translations.English, 100}, {translations.Russian, 120}, {translations.Chinese, 70}} {
		t.Run(string(c.lang), func(t *testing.T) {
			uitest.InLanguage(t, c.lang)
			half := (1100 - c.navW) / 2
			h := newHarnessWith(t, func(o *Options) { o.Detail = canvas.NewRectangle(nil) })
			if got := h.p.pauseBtn.Text; c.lang == translations.Russian && got != "Пауза" {
				t.Fatalf("the panel is not in Russian: Pause reads %q", got)
			}
			if w := h.p.split.Leading.MinSize().Width; w > half {
				t.Errorf("the tree pane needs %v px (%q, %q, %q, %q), half the Explorer is %v",
					w, h.p.expandBtn.Text, h.p.collapseBtn.Text, h.p.pauseBtn.Text, h.p.deleteBtn.Text, half)
			}
			// Beside Live (or Paused, whose width it keeps), the filter's
			// hint is read whole.
			h.win.Resize(fyne.NewSize(1100-c.navW, 720))
			uitest.Relayout(h.win)
			hintW := fyne.MeasureText(h.p.filter.PlaceHolder, theme.TextSize(), fyne.TextStyle{}).Width
			if room := h.p.filter.Size().Width - 2*theme.InnerPadding(); hintW > room {
				t.Errorf("the filter's hint %q needs %v px, beside %q its box has %v", h.p.filter.PlaceHolder, hintW, h.p.live.Text, room)
			}
		})
	}
}
