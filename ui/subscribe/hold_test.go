package subscribe

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// rowTop is where row id is drawn in the list's viewport.
func (h *harness) rowTop(id int) float32 {
	return float32(id)*h.p.rowHeight() - h.p.list.GetScrollOffset()
}

// A message being read holds still while new ones arrive above it: the
// selected row stays where it is on screen, as does the view of a user
// who scrolled down; at the top with nothing selected, the newest
// messages come into view.
func TestSelectedMessageHoldsStillAsNewOnesArrive(t *testing.T) {
	h := newHarness(t, Options{})
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	send := func(from, n int) {
		for i := from; i < from+n; i++ {
			h.p.Ingest(message.Message{Source: "local", Topic: fmt.Sprintf("t/%03d", i), Payload: []byte("x")})
		}
		want := from + n
		h.q.until(t, fmt.Sprintf("%d messages listed", want), func() bool { return h.p.list.Length() == want })
	}
	send(0, 30)
	h.p.list.Select(3) // t/026
	before := h.rowTop(3)
	send(30, 10)
	if got := h.listed()[13]; got != "t/026" {
		t.Fatalf("row 13 is %s, want the selected t/026", got)
	}
	if after := h.rowTop(13); after != before {
		t.Fatalf("the selected message moved on screen from y=%v to y=%v as 10 messages arrived", before, after)
	}

	h.p.list.UnselectAll()
	h.p.showDetail(nil)
	h.p.list.ScrollToTop()
	send(40, 5)
	if off := h.p.list.GetScrollOffset(); off != 0 {
		t.Fatalf("at the top with nothing selected the list scrolled to %v, want the newest in view (0)", off)
	}
}

// A JSON payload's lines sit as close as in an editor, not one line per
// double-height label.
func TestDetailPayloadLinesAreNotDoubleSpaced(t *testing.T) {
	h := newHarness(t, Options{})
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	h.p.Ingest(message.Message{Source: "local", Topic: "j", Payload: []byte(`{"a":1,"b":2,"c":{"d":3,"e":[1,2]}}`)})
	h.q.until(t, "the message listed", func() bool { return h.p.list.Length() == 1 })
	h.p.list.Select(0)
	var ys []float32
	lineHeight := fyne.MeasureText("Ag", theme.TextSize(), fyne.TextStyle{Monospace: true}).Height
	uitest.Walk(h.p.detailPayload, func(o fyne.CanvasObject) bool {
		if tx, ok := o.(*canvas.Text); ok && strings.TrimSpace(tx.Text) != "" && o.Visible() {
			ys = append(ys, fyne.CurrentApp().Driver().AbsolutePositionForObject(o).Y)
		}
		return true
	})
	slices.Sort(ys)
	if len(ys) < 5 {
		t.Fatalf("%d payload lines on screen, want the JSON's lines", len(ys))
	}
	for i := 1; i < len(ys); i++ {
		if gap := ys[i] - ys[i-1]; gap > 1.4*lineHeight {
			t.Fatalf("payload lines %v apart, a text line is %v high: double-spaced", gap, lineHeight)
		}
	}
}

// At the default window size the message list shows a screenful of
// messages, not seven.
func TestMessageListShowsAScreenfulAtTheDefaultSize(t *testing.T) {
	h := newHarness(t, Options{})
	h.win.Resize(fyne.NewSize(1100, 720))
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	if rows := h.p.list.Size().Height / h.p.rowHeight(); rows < 12 {
		t.Fatalf("%.1f message rows fit in the list (%v high, rows %v apart), want at least 12", rows, h.p.list.Size().Height, h.p.rowHeight())
	}
}
