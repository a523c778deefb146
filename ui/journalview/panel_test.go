package journalview

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// openJournal opens a real journal in a temporary directory with evs
// written.
func openJournal(t *testing.T, evs ...journal.Event) *journalstore.Store {
	t.Helper()
	s, err := journalstore.Open(t.TempDir(), journalstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	record(t, s, evs...)
	return s
}

func record(t *testing.T, s *journalstore.Store, evs ...journal.Event) {
	t.Helper()
	for _, ev := range evs {
		if !s.Record(ev) {
			t.Fatalf("event %v dropped", ev)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type harness struct {
	win   fyne.Window
	panel *Panel
	q     uitest.Queue
	stop  func() error
}

func newHarness(t *testing.T, s *journalstore.Store) *harness {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	q := uitest.NewQueue()
	p := New(s, Options{Do: q.Do, Interval: 50 * time.Millisecond})
	w.SetContent(p.Content())
	w.Resize(fyne.NewSize(1100, 700))
	h := &harness{win: w, panel: p, q: q}
	h.stop = q.Serve(t, p.Serve)
	t.Cleanup(func() { _ = h.stop() })
	return h
}

// rows are the listed events as "kind client summary".
func (h *harness) rows() []string {
	var out []string
	for _, ev := range h.panel.events {
		out = append(out, string(ev.Kind)+" "+ev.Client+" "+ev.Summary())
	}
	return out
}

func (h *harness) until(t *testing.T, what string, cond func([]string) bool) {
	t.Helper()
	h.q.Until(t, what, func() bool { return cond(h.rows()) })
}

func sessions(now time.Time) []journal.Event {
	return []journal.Event{
		{Time: now.Add(-3 * time.Minute), Kind: journal.Connect, Client: "plug-1", Remote: "127.0.0.1:50001", Protocol: 5, KeepAlive: 30},
		{Time: now.Add(-2 * time.Minute), Kind: journal.Connect, Client: "sensor-7", User: "dev", Protocol: 4, KeepAlive: 60},
		{Time: now.Add(-time.Minute), Kind: journal.Disconnect, Client: "plug-1", Cause: journal.CauseKeepAlive},
		{Time: now.Add(-30 * time.Second), Kind: journal.Refused, Client: "intruder", Code: 0x86, Reason: "bad user name or password"},
	}
}

func TestJournalListsNewestFirstAndFilters(t *testing.T) {
	now := time.Now()
	s := openJournal(t, sessions(now)...)
	h := newHarness(t, s)
	h.until(t, "all four events, newest first", func(r []string) bool {
		return len(r) == 4 && strings.HasPrefix(r[0], "refused intruder") && strings.HasPrefix(r[3], "connect plug-1")
	})

	h.panel.client.SetText("plug-1")
	h.until(t, "plug-1's session only", func(r []string) bool {
		return len(r) == 2 && strings.HasPrefix(r[0], "disconnect plug-1 keepalive-timeout") && strings.HasPrefix(r[1], "connect plug-1")
	})
	if got := h.panel.status.Text; !strings.Contains(got, "2 events") || !strings.Contains(got, "plug-1") {
		t.Errorf("status %q does not say what is listed", got)
	}

	h.panel.client.SetText("")
	h.panel.kind.SetSelectedIndex(1 + kindIndex(journal.Refused))
	h.until(t, "refusals only", func(r []string) bool {
		return len(r) == 1 && strings.Contains(r[0], "bad user name or password")
	})
}

func TestJournalFollowsNewEventsWhileLive(t *testing.T) {
	now := time.Now()
	s := openJournal(t, sessions(now)...)
	h := newHarness(t, s)
	h.until(t, "the first events", func(r []string) bool { return len(r) == 4 })

	record(t, s, journal.Event{Time: time.Now(), Kind: journal.Connect, Client: "late-1", Protocol: 5})
	h.until(t, "the new session on top, without asking", func(r []string) bool {
		return len(r) == 5 && strings.HasPrefix(r[0], "connect late-1")
	})

	// Not live: the list holds still while the user reads it.
	h.panel.live.SetChecked(false)
	h.q.Drain()
	record(t, s, journal.Event{Time: time.Now(), Kind: journal.Connect, Client: "late-2", Protocol: 5})
	time.Sleep(200 * time.Millisecond) // four intervals of the live refresh
	h.q.Drain()
	if r := h.rows(); len(r) != 5 {
		t.Fatalf("the list changed while not live: %v", r)
	}
}

func TestShowClientOpensThatClientsTimeline(t *testing.T) {
	now := time.Now()
	s := openJournal(t, sessions(now)...)
	h := newHarness(t, s)
	h.panel.kind.SetSelectedIndex(1 + kindIndex(journal.Refused))
	h.panel.ShowClient("sensor-7")
	h.until(t, "sensor-7's events of every kind", func(r []string) bool {
		return len(r) == 1 && strings.HasPrefix(r[0], "connect sensor-7")
	})

	h.panel.table.Select(widget.TableCellID{Row: 0, Col: 0})
	for _, want := range []string{"sensor-7", "dev", "v3.1.1"} {
		if !strings.Contains(h.panel.detail.Text, want) {
			t.Errorf("the selected event's detail %q lacks %q", h.panel.detail.Text, want)
		}
	}
}

func kindIndex(k journal.Kind) int {
	for i, kk := range journal.Kinds {
		if kk == k {
			return i
		}
	}
	return -1
}
