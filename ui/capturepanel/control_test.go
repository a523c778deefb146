package capturepanel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

func flush(t *testing.T, s *capture.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func records(t *testing.T, s *capture.Store) int64 {
	t.Helper()
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st.Records
}

func TestPauseStopsCapturingUntilResumed(t *testing.T) {
	store := openStore(t, sample(3)...)
	h := newHarness(t, store)
	p := h.panel
	p.interval = 5 * time.Millisecond
	stop := h.q.Serve(t, p.Serve)

	if p.pauseBtn.Text != "Pause" || p.capturing.Text != "Capturing" {
		t.Fatalf("start: button %q, state %q", p.pauseBtn.Text, p.capturing.Text)
	}
	test.Tap(p.pauseBtn)
	if !store.Paused() || p.pauseBtn.Text != "Resume" || !strings.Contains(p.capturing.Text, "PAUSED") ||
		p.capturing.Importance != widget.WarningImportance {
		t.Fatalf("after Pause: store paused %v, button %q, state %q", store.Paused(), p.pauseBtn.Text, p.capturing.Text)
	}
	store.Ingest(message.Message{Topic: "while/paused", Payload: []byte("x")})
	flush(t, store)
	if n := records(t, store); n != 3 {
		t.Errorf("a record ingested while paused was captured: %d records", n)
	}
	// Status refreshes must not flip the state back.
	h.q.Until(t, "a status refresh", func() bool { return p.records.Text == "3 records" })
	for range 3 {
		select {
		case fn := <-h.q:
			fn()
		case <-time.After(10 * time.Second):
			t.Fatal("no status refresh")
		}
	}
	if !strings.Contains(p.capturing.Text, "PAUSED") {
		t.Errorf("status refresh shows %q while paused", p.capturing.Text)
	}

	test.Tap(p.pauseBtn)
	if store.Paused() || p.pauseBtn.Text != "Pause" || p.capturing.Text != "Capturing" {
		t.Fatalf("after Resume: store paused %v, button %q, state %q", store.Paused(), p.pauseBtn.Text, p.capturing.Text)
	}
	store.Ingest(message.Message{Topic: "after/resume", Payload: []byte("y")})
	flush(t, store)
	if n := records(t, store); n != 4 {
		t.Errorf("after resume: %d records, want 4", n)
	}
	h.stopServe(t, stop)
}

func TestClearAsksWithCountCancelKeepsDeleteDeletes(t *testing.T) {
	store := openStore(t, sample(30)...)
	h := newHarness(t, store)
	p := h.panel
	h.search(t, "", true)
	p.list.Select(0)
	if !strings.Contains(p.meta.Text, "Topic:") {
		t.Fatal("no detail shown")
	}

	test.Tap(p.clearBtn)
	h.q.Until(t, "the confirmation", func() bool { return p.clearDlg != nil })
	if !strings.Contains(p.clearDlg.text.Text, "Delete all 30 captured records") || p.clearDlg.del.Text != "Delete 30 records" {
		t.Errorf("confirmation says %q / %q", p.clearDlg.text.Text, p.clearDlg.del.Text)
	}
	test.Tap(p.clearDlg.cancel)
	h.q.Drain()
	if n := records(t, store); n != 30 || p.act != nil || len(p.recs) != 30 {
		t.Fatalf("after Cancel: %d records stored, %d shown", n, len(p.recs))
	}

	p.clearDlg = nil
	test.Tap(p.clearBtn)
	h.q.Until(t, "the confirmation", func() bool { return p.clearDlg != nil })
	test.Tap(p.clearDlg.del)
	h.waitIdle(t)
	if n := records(t, store); n != 0 {
		t.Errorf("after Delete: %d records stored", n)
	}
	if p.actionText.Text != "Deleted 30 records." || p.actionText.Importance != widget.SuccessImportance {
		t.Errorf("result %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
	h.q.Until(t, "the results to refresh", func() bool { return !p.loading })
	if len(p.recs) != 0 || p.shown.Text != "No matching records." || !strings.HasPrefix(p.meta.Text, "Select a message") {
		t.Errorf("after clearing the list shows %d records (%q), detail %q", len(p.recs), p.shown.Text, p.meta.Text)
	}

	// An empty capture: nothing to confirm.
	p.clearDlg = nil
	test.Tap(p.clearBtn)
	h.q.Until(t, "the dialog", func() bool { return p.clearDlg != nil })
	if p.clearDlg.del.Visible() || !strings.Contains(p.clearDlg.text.Text, "no records") {
		t.Errorf("empty capture: delete visible %v, text %q", p.clearDlg.del.Visible(), p.clearDlg.text.Text)
	}
}

// waitRetention waits until the store keeps maxBytes / maxAge (the panel
// sets them off the UI goroutine).
func waitRetention(t *testing.T, s *capture.Store, maxBytes int64, maxAge time.Duration) {
	t.Helper()
	testkit.EventuallyErr(t, fmt.Sprintf("the store to keep %d bytes / %v", maxBytes, maxAge), func() error {
		st, err := s.Stats()
		if err == nil && st.MaxBytes == maxBytes && st.MaxAge == maxAge {
			return nil
		}
		return fmt.Errorf("it keeps %d bytes / %v (%v)", st.MaxBytes, st.MaxAge, err)
	})
}

func TestRetentionDialogValidatesAppliesAndSaves(t *testing.T) {
	store := openStore(t)
	h := newHarness(t, store)
	p := h.panel

	test.Tap(p.retentionBtn)
	h.q.Until(t, "the dialog", func() bool { return p.retentionDlg != nil })
	r := p.retentionDlg
	if r.size.Text != "1" || r.sizeUnit.Selected != "GiB" || r.age.Text != "7" || r.ageUnit.Selected != "days" {
		t.Errorf("defaults shown as %s %s / %s %s", r.size.Text, r.sizeUnit.Selected, r.age.Text, r.ageUnit.Selected)
	}
	for _, tt := range []struct {
		size, sizeUnit, age, ageUnit string
		want                         string
	}{
		{"", "GiB", "7", "days", "Size: enter a number of GiB, or tick the box for no limit"},
		{"lots", "GiB", "7", "days", `Size: "lots" is not a number`},
		{"-3", "GiB", "7", "days", "Size must be more than 0"},
		{"NaN", "GiB", "7", "days", `Size: "NaN" is not a number`},
		{"0.5", "MiB", "7", "days", "Size must be at least 1 MiB"},
		{"2000", "TiB", "7", "days", "Size must be at most 1024 TiB"},
		{"1", "GiB", "", "days", "Age: enter a number of days, or tick the box for no limit"},
		{"1", "GiB", "0.5", "hours", "Age must be at least 1 hour"},
		{"1", "GiB", "40000", "days", "Age must be at most 36,500 days (100 years)"},
	} {
		r.sizeUnit.SetSelected(tt.sizeUnit)
		r.ageUnit.SetSelected(tt.ageUnit)
		r.size.SetText(tt.size)
		r.age.SetText(tt.age)
		if r.errText.Text != tt.want || !r.apply.Disabled() {
			t.Errorf("%q %s / %q %s: error %q (apply disabled %v), want %q",
				tt.size, tt.sizeUnit, tt.age, tt.ageUnit, r.errText.Text, r.apply.Disabled(), tt.want)
		}
		test.Tap(r.apply)
	}
	h.q.Drain()
	if st, _ := store.Stats(); st.MaxBytes != capture.DefaultMaxBytes || st.MaxAge != capture.DefaultMaxAge {
		t.Fatalf("an invalid form was applied: %d / %v", st.MaxBytes, st.MaxAge)
	}

	r.size.SetText("500")
	r.sizeUnit.SetSelected("MiB")
	r.age.SetText("36")
	r.ageUnit.SetSelected("hours")
	if r.errText.Text != "" || r.apply.Disabled() {
		t.Fatalf("valid form shows %q", r.errText.Text)
	}
	test.Tap(r.apply)
	if p.retention.Text != "keeps 500 MiB / 36 hours" {
		t.Errorf("status shows %q", p.retention.Text)
	}
	waitRetention(t, store, 500<<20, 36*time.Hour)

	// No size limit; the dialog reopens on what is in force.
	p.retentionDlg = nil
	test.Tap(p.retentionBtn)
	h.q.Until(t, "the dialog", func() bool { return p.retentionDlg != nil })
	r = p.retentionDlg
	if r.size.Text != "500" || r.sizeUnit.Selected != "MiB" || r.age.Text != "36" || r.ageUnit.Selected != "hours" {
		t.Errorf("reopened on %s %s / %s %s", r.size.Text, r.sizeUnit.Selected, r.age.Text, r.ageUnit.Selected)
	}
	r.noSize.SetChecked(true)
	r.size.SetText("garbage") // ignored: no size limit
	if !r.size.Disabled() || r.errText.Text != "" {
		t.Errorf("no size limit: size enabled %v, error %q", !r.size.Disabled(), r.errText.Text)
	}
	test.Tap(r.apply)
	if p.retention.Text != "keeps any size / 36 hours" {
		t.Errorf("status shows %q", p.retention.Text)
	}
	waitRetention(t, store, -1, 36*time.Hour)

	// The limits are kept with the data: opening the store again (the app
	// at its next start, or the command line) finds them.
	h.q.Drain()
	p.actions.Stop() // the retention write is on disk before the store closes
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := capture.Open(store.Dir(), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	waitRetention(t, again, -1, 36*time.Hour)
}

func TestRetentionText(t *testing.T) {
	for _, tt := range []struct {
		b    int64
		a    time.Duration
		want string
	}{
		{0, 0, "keeps 1 GiB / 7 days"},
		{1536 << 20, 24 * time.Hour, "keeps 1.5 GiB / 1 day"},
		{-1, time.Hour, "keeps any size / 1 hour"},
		{2 << 40, -1, "keeps 2 TiB / any age"},
		{-1, -1, "keeps everything"},
		{300 << 20, 90 * time.Minute, "keeps 300 MiB / 1.5 hours"},
	} {
		if got := retentionText(tt.b, tt.a); got != tt.want {
			t.Errorf("retentionText(%d, %v) = %q, want %q", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestActionsRunOneAtATimeAndCancel(t *testing.T) {
	store := openStore(t)
	h := newHarness(t, store)
	p := h.panel
	started := make(chan struct{})
	ok := p.startAction(job{
		title: "Work", cancellable: true,
		status: func(done, total int64) string { return "working" },
		run: func(ctx context.Context, progress func(int64, int64)) (string, error) {
			progress(1, 4)
			close(started)
			<-ctx.Done()
			return "", ctx.Err()
		},
	})
	if !ok || !p.actionRow.Visible() || !p.actionCancel.Visible() {
		t.Fatalf("not started: %v, row %v", ok, p.actionRow.Visible())
	}
	<-started
	h.q.Until(t, "progress", func() bool { return p.actionBar.Visible() && p.actionBar.Value == 0.25 })
	for _, b := range []*widget.Button{p.exportBtn, p.importBtn, p.replayBtn, p.clearBtn} {
		if !b.Disabled() {
			t.Errorf("%s is enabled while an action runs", b.Text)
		}
	}
	if p.startAction(job{title: "Second", run: func(context.Context, func(int64, int64)) (string, error) { return "", nil }}) {
		t.Error("a second action started while one runs")
	}
	test.Tap(p.actionCancel)
	h.waitIdle(t)
	if p.actionText.Text != "Work cancelled." || p.actionText.Importance != widget.WarningImportance {
		t.Errorf("after cancel: %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
	if p.exportBtn.Disabled() || p.actionCancel.Visible() || !p.actionClose.Visible() {
		t.Error("buttons not back after the action ended")
	}
	test.Tap(p.actionClose)
	if p.actionRow.Visible() {
		t.Error("the result is still shown after closing it")
	}

	// A failure is shown as one.
	p.startAction(job{title: "Work", status: func(int64, int64) string { return "" },
		run: func(context.Context, func(int64, int64)) (string, error) { return "", errors.New("disk on fire") }})
	h.waitIdle(t)
	if p.actionText.Text != "Work failed: disk on fire" || p.actionText.Importance != widget.DangerImportance {
		t.Errorf("failure shown as %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
}

func TestActionsEndWithServe(t *testing.T) {
	store := openStore(t)
	h := newHarness(t, store)
	p := h.panel
	stop := h.q.Serve(t, p.Serve)
	p.startAction(job{title: "Work", status: func(int64, int64) string { return "" },
		run: func(ctx context.Context, _ func(int64, int64)) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}})
	h.stopServe(t, stop) // fails the test if the action outlives Serve
}
