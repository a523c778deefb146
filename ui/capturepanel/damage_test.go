package capturepanel

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
)

// damagedSource serves two pages of intact records and reports, on every
// page, the same damaged block it skipped (as the store may).
type damagedSource struct {
	*countingSource
}

func (d damagedSource) Query(_ context.Context, q capture.Query) ([]message.Message, string, error) {
	if q.OnDamage != nil {
		q.OnDamage(capture.Damage{File: "blocks/0000000001.blk", First: 5, Last: 7, Reason: "checksum mismatch"})
	}
	recs := []message.Message{{Seq: 1, Topic: "a", Time: time.Unix(1, 0)}, {Seq: 2, Topic: "a", Time: time.Unix(2, 0)}}
	if q.Cursor == "" {
		return recs, "page2", nil
	}
	return recs, "", nil
}

// A search over a damaged capture shows what it could read and says how
// many records it could not, once per damaged block however many pages
// report it; the status line counts damaged and crash-lost records.
func TestDamagedCaptureIsSaidInResultsAndStatus(t *testing.T) {
	src := damagedSource{newCounting(nil)}
	src.stats = capture.Stats{Records: 100, DamagedRecords: 3, Lost: []capture.Damage{{First: 99, Last: 100}}}
	h := newHarness(t, src)
	p := h.panel

	h.search(t, "", false)
	if !strings.Contains(p.shown.Text, "3 records could not be read") || !strings.Contains(p.shown.Text, "damaged") {
		t.Errorf("after the first page the footer says %q", p.shown.Text)
	}
	test.Tap(p.moreBtn)
	h.q.Until(t, "the second page", func() bool { return !p.loading && len(p.recs) == 4 })
	if !strings.Contains(p.shown.Text, "3 records could not be read") {
		t.Errorf("after the second page the footer says %q; the block was counted twice or forgotten", p.shown.Text)
	}

	h.search(t, "a", false) // a new search starts its own count
	if strings.Count(p.shown.Text, "could not be read") != 1 || !strings.Contains(p.shown.Text, "3 records") {
		t.Errorf("a new search's footer says %q", p.shown.Text)
	}

	p.interval = 5 * time.Millisecond
	stop := h.q.Serve(t, p.Serve)
	h.q.Until(t, "the damage on the status line", func() bool { return strings.Contains(p.dropped.Text, "damaged") })
	if !strings.Contains(p.dropped.Text, "3 damaged, 2 lost in a crash") || p.dropped.Importance != widget.DangerImportance {
		t.Errorf("status %q (importance %v)", p.dropped.Text, p.dropped.Importance)
	}
	h.stopServe(t, stop)
}
