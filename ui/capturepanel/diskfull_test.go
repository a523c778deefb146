package capturepanel

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// A capture stopped by a full disk says so on the status line, with what
// to do, and stops saying it once it writes again.
func TestStatusSaysWhenDiskFullStoppedCapture(t *testing.T) {
	src := newCounting(nil)
	src.stats = capture.Stats{Records: 30, Dropped: 12, DiskFull: true, DiskFree: 6_300_000, DiskNeeded: 6_500_000}
	h := newHarness(t, src)
	p := h.panel
	p.interval = 5 * time.Millisecond
	stop := h.q.Serve(t, p.Serve)
	h.q.Until(t, "the disk-full status", func() bool { return strings.Contains(p.dropped.Text, "Disk full") })
	if !strings.Contains(p.dropped.Text, "capture stopped") || !strings.Contains(p.dropped.Text, "6.3 MB free") ||
		!strings.Contains(p.dropped.Text, "free space") || !strings.Contains(p.dropped.Text, "12 dropped") ||
		p.dropped.Importance != widget.DangerImportance {
		t.Errorf("status %q (importance %v)", p.dropped.Text, p.dropped.Importance)
	}

	src.mu.Lock()
	src.stats.DiskFull = false
	src.mu.Unlock()
	h.q.Until(t, "the status without disk full", func() bool { return p.dropped.Text == "12 dropped" })
	h.stopServe(t, stop)
}

// A capture that cannot open because its disk is full is explained as
// such, with the way out, and not offered to be moved aside.
func TestOpenErrorForAFullDiskSaysSo(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	dir := t.TempDir()
	err := fmt.Errorf("capture: data dir %s has only 0.1 MB free; Badger needs about 1.1 MB; free space or pass --data: %w", dir, capture.ErrNoSpace)
	d := newOpenErrorDialog(w, dir, err, func() { t.Error("move aside offered for a full disk") })
	if d.moveAside != nil || d.title != "The disk is full" || !strings.Contains(d.text.Text, dir) ||
		!strings.Contains(d.text.Text, "runs without capture") || !strings.Contains(d.text.Text, "Free space") ||
		!strings.Contains(d.details.Text, "0.1 MB free") {
		t.Errorf("full disk: title %q, text %q, details %q", d.title, d.text.Text, d.details.Text)
	}
}
