package explorer

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

const testTimeout = 20 * time.Second

// ticks applies queued UI updates until n timed passes have been applied.
func (h *harness) ticks(t testing.TB, n int) {
	t.Helper()
	seen := 0
	prev := h.p.onApplied
	h.p.onApplied = func(tick bool, start time.Time, took time.Duration) {
		if tick {
			seen++
		}
		if prev != nil {
			prev(tick, start, took)
		}
	}
	defer func() { h.p.onApplied = prev }()
	h.q.Until(t, "refresh passes", func() bool { return seen >= n })
}

// clock is a settable clock for the highlight.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harness struct {
	app   fyne.App
	win   fyne.Window
	p     *Panel
	q     uitest.Queue
	m     *topics.Model
	b     *broker.Broker
	clock *clock
	sel   []topics.NodeID // what OnSelect was called with
	// publisherFor answers the panel's PublisherFor (sources other than
	// the broker's); nil answers nil.
	publisherFor func(source string) Publisher
}

// newHarness runs a real topic model fed by a real broker on a free
// loopback port, and the panel over them in a test window, with its
// refresh goroutine running; everything stops when the test ends.
func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith is newHarness with the panel's options changed by opt.
func newHarnessWith(t *testing.T, opt func(*Options)) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	h := &harness{app: a, q: uitest.NewQueue(), clock: &clock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}}

	h.m = topics.New(topics.Options{BatchInterval: -1})
	mctx, stopModel := context.WithCancel(context.Background())
	modelDone := make(chan struct{})
	go func() {
		defer close(modelDone)
		_ = h.m.Serve(mctx)
	}()

	b := brokertest.Start(t, func(c *broker.Config) { c.Recorder = h.m }).Broker
	h.b = b

	h.win = test.NewTempWindow(t, nil)
	opts := Options{
		Publisher: b, PublisherSource: broker.SourceBroker,
		PublisherFor: func(source string) Publisher {
			if h.publisherFor == nil {
				return nil
			}
			return h.publisherFor(source)
		},
		OnSelect: func(id topics.NodeID) { h.sel = append(h.sel, id) },
		Do:       h.q.Do,
	}
	if opt != nil {
		opt(&opts)
	}
	h.p = New(h.m, h.win, opts)
	h.p.interval = 20 * time.Millisecond
	h.p.statusEvery = 0
	h.p.now = h.clock.Now
	h.win.SetContent(h.p.Content())
	h.win.Resize(fyne.NewSize(1100, 720))

	stop := h.q.Serve(t, h.p.Serve)
	t.Cleanup(func() {
		// The shutdown order of the app: the UI's goroutines, the broker,
		// the model.
		if err := stop(); err != nil {
			t.Error(err)
		}
		_ = b.Stop()
		stopModel()
		<-modelDone
	})
	return h
}

// pub publishes from the app's own client and waits until the model has
// applied it.
func (h *harness) pub(t testing.TB, topic, payload string, retain bool) {
	t.Helper()
	if err := h.b.Publish(topic, []byte(payload), retain, 0); err != nil {
		t.Fatal(err)
	}
	h.sync(t)
}

func (h *harness) sync(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := h.m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// id is the node of a broker topic.
func (h *harness) id(t testing.TB, topic string) topics.NodeID {
	t.Helper()
	id, ok := h.m.Lookup(broker.SourceBroker, topic)
	if !ok {
		t.Fatalf("no node for %q in the model", topic)
	}
	return id
}

func (h *harness) root(t testing.TB) topics.NodeID {
	t.Helper()
	for _, s := range h.m.Sources() {
		if s.Source == broker.SourceBroker {
			return s.ID
		}
	}
	t.Fatal("the model has no broker source")
	return 0
}

// open opens the branches of a path, waiting for each one's children to
// be shown, the way a user clicks down the tree.
func (h *harness) open(t testing.TB, topicsToOpen ...string) {
	t.Helper()
	h.openID(t, h.root(t))
	for _, topic := range topicsToOpen {
		h.openID(t, h.id(t, topic))
	}
}

func (h *harness) openID(t testing.TB, id topics.NodeID) {
	t.Helper()
	h.q.Until(t, "the row of node "+uidOf(id)+" to be shown", func() bool { return h.shownRow(id) != nil })
	h.p.tree.OpenBranch(uidOf(id))
	h.q.Until(t, "the children of node "+uidOf(id)+" to be shown", func() bool {
		k, ok := h.p.kids[id]
		return ok && len(k) > 0 && h.shownRow(nodeID(k[0])) != nil
	})
}

// shownRows returns the rows on screen by node.
func (h *harness) shownRows() map[topics.NodeID]*row {
	out := map[topics.NodeID]*row{}
	uitest.Walk(h.p.tree, func(o fyne.CanvasObject) bool {
		if r, ok := o.(*row); ok {
			out[r.id] = r
			return false
		}
		return true
	})
	return out
}

func (h *harness) shownRow(id topics.NodeID) *row { return h.shownRows()[id] }

// shownNames lists the names of the rows on screen, top to bottom.
func (h *harness) shownNames() []string {
	type named struct {
		y    float32
		name string
	}
	var rows []named
	uitest.Walk(h.p.tree, func(o fyne.CanvasObject) bool {
		if r, ok := o.(*row); ok {
			pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(r)
			rows = append(rows, named{pos.Y, r.name.Text})
			return false
		}
		return true
	})
	for i := 1; i < len(rows); i++ { // insertion sort: a few dozen rows
		for j := i; j > 0 && rows[j].y < rows[j-1].y; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.name
	}
	return out
}

// overlayText joins the labels of the topmost dialog.
func overlayText(w fyne.Window) string {
	var b strings.Builder
	uitest.Walk(w.Canvas().Overlays().Top(), func(o fyne.CanvasObject) bool {
		if l, ok := o.(*widget.Label); ok {
			b.WriteString(l.Text + "\n")
		}
		return true
	})
	return b.String()
}
