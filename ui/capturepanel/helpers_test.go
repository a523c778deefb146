package capturepanel

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

type harness struct {
	app   fyne.App
	win   fyne.Window
	panel *Panel
	q     uitest.Queue
}

func newHarness(t *testing.T, src Source) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	store, _ := src.(*capture.Store)
	p := New(store, w, Options{})
	if store == nil {
		p.src = src // a fake: reads only
		p.updateButtons()
	}
	q := uitest.NewQueue()
	p.do = q.Do
	p.autoLoad = false
	w.SetContent(p.Content())
	w.Resize(fyne.NewSize(1200, 800))
	return &harness{app: a, win: w, panel: p, q: q}
}

// stopServe stops the panel's Serve (started with h.q.Serve), applying
// the UI updates it queues meanwhile, and checks it returned nil.
func (h *harness) stopServe(t *testing.T, stop func() error) {
	t.Helper()
	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// waitIdle applies queued UI updates until no action runs.
func (h *harness) waitIdle(t *testing.T) {
	t.Helper()
	h.q.Until(t, "the action to end", func() bool { return h.panel.act == nil })
}

// search fills the form, taps Search and waits for the first page.
func (h *harness) search(t *testing.T, filter string, newest bool) {
	t.Helper()
	p := h.panel
	p.filter.SetText(filter)
	p.newest.SetChecked(newest)
	test.Tap(p.searchBtn)
	h.q.Until(t, "the search to finish", func() bool { return !p.loading })
}

// openStore opens a capture store in a temporary directory, ingests recs
// and waits until they are written.
func openStore(t *testing.T, recs ...message.Message) *capture.Store {
	t.Helper()
	s, err := capture.Open(t.TempDir(), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, r := range recs {
		if !s.Ingest(r) {
			t.Fatal("ingest refused a record")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// countingSource wraps a Source, counting queries; a query whose filter is
// "slow" blocks until its context is cancelled.
type countingSource struct {
	Source
	mu        sync.Mutex
	queries   []capture.Query
	cancelled chan struct{} // closed when a slow query saw its cancel
	stats     capture.Stats
	statsErr  error
}

func newCounting(src Source) *countingSource {
	return &countingSource{Source: src, cancelled: make(chan struct{})}
}

func (c *countingSource) Query(ctx context.Context, q capture.Query) ([]message.Message, string, error) {
	c.mu.Lock()
	c.queries = append(c.queries, q)
	c.mu.Unlock()
	if q.Filter == "slow" {
		<-ctx.Done()
		close(c.cancelled)
		return nil, "", ctx.Err()
	}
	if c.Source == nil {
		return nil, "", nil
	}
	return c.Source.Query(ctx, q)
}

func (c *countingSource) Stats() (capture.Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats, c.statsErr
}

func (c *countingSource) nQueries() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queries)
}

func anyContains(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
