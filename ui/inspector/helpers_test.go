package inspector

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/topics"
)

const testTimeout = 20 * time.Second

// uiQueue stands in for fyne.Do: Serve's goroutines queue UI updates and the
// test goroutine, playing the UI goroutine, runs them.
type uiQueue struct {
	ch   chan func()
	done chan struct{}
	// ran measures the UI goroutine's work, when set.
	ran func(time.Duration)
}

func (q *uiQueue) do(fn func()) {
	select {
	case q.ch <- fn:
	case <-q.done: // the test is over: nobody will run it
	}
}

func (q *uiQueue) run(fn func()) {
	start := time.Now()
	fn()
	if q.ran != nil {
		q.ran(time.Since(start))
	}
}

// until runs queued UI updates until cond holds.
func (q *uiQueue) until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(testTimeout)
	for !cond() {
		select {
		case fn := <-q.ch:
			q.run(fn)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// idle runs queued UI updates for d, whether or not any arrive.
func (q *uiQueue) idle(d time.Duration) {
	end := time.After(d)
	for {
		select {
		case fn := <-q.ch:
			q.run(fn)
		case <-end:
			return
		}
	}
}

type harness struct {
	t     testing.TB
	model *topics.Model
	// store is the capture the inspector reads, as the app's late-opening
	// indirection holds it: a test may open one later.
	store atomic.Pointer[capture.Store]
	in    *Inspector
	// published records OnPublishTo's calls.
	published []published
	win       fyne.Window
	q         *uiQueue
}

type published struct{ source, topic, payload string }

func (h *harness) publishTo(source, topic string, payload []byte) {
	h.published = append(h.published, published{source, topic, string(payload)})
}

// newHarness runs a topics model (with opts) and an inspector over it and
// store in a test window, all stopped when the test ends.
func newHarness(t testing.TB, opts topics.Options, store *capture.Store) *harness {
	t.Helper()
	test.NewTempApp(t)
	opts.BatchInterval = -1
	m := topics.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	modelDone := make(chan error, 1)
	go func() { modelDone <- m.Serve(ctx) }()

	w := test.NewTempWindow(t, nil)
	h := &harness{t: t, model: m, win: w}
	h.store.Store(store)
	in := New(m, h.store.Load, w, Options{OnPublishTo: h.publishTo})
	q := &uiQueue{ch: make(chan func(), 256), done: make(chan struct{})}
	in.do = q.do
	in.interval = 5 * time.Millisecond
	w.SetContent(in.Content())
	w.Resize(fyne.NewSize(1200, 900))
	serveDone := make(chan error, 1)
	go func() { serveDone <- in.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		close(q.done)
		select {
		case err := <-serveDone:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(testTimeout):
			t.Error("Serve did not return after its context was cancelled")
		}
		select {
		case err := <-modelDone:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(testTimeout):
			t.Error("the model's Serve did not return")
		}
	})
	h.in, h.q = in, q
	return h
}

// feed applies recs to the model and waits until they are applied.
func (h *harness) feed(recs ...message.Message) {
	h.t.Helper()
	for _, r := range recs {
		if !h.model.Ingest(r) {
			h.t.Fatal("the model refused a record")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := h.model.Sync(ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) lookup(topic string) topics.NodeID {
	h.t.Helper()
	id, ok := h.model.Lookup("broker", topic)
	if !ok {
		h.t.Fatalf("no node for %q", topic)
	}
	return id
}

// show selects topic and waits until its shown message is decoded.
func (h *harness) show(topic string) {
	h.t.Helper()
	h.in.Show(h.lookup(topic))
	h.waitDecoded()
}

// waitDecoded waits until the payload pane shows the current message.
func (h *harness) waitDecoded() {
	h.t.Helper()
	st := &h.in.st
	h.q.until(h.t, "the shown message to be decoded", func() bool {
		return st.res != nil && st.view == st.shown() && st.viewFormat == st.format
	})
}

// rows returns the first n rows of the payload pane.
func (h *harness) rows(n int) []string {
	var out []string
	for i := 0; i < min(n, h.in.lines.rowCount()); i++ {
		out = append(out, h.in.lines.row(i))
	}
	return out
}

// openStore opens a capture store in a temporary directory, ingests recs
// and waits until they are written.
func openStore(t testing.TB, recs ...message.Message) *capture.Store {
	t.Helper()
	// No age limit: the test messages are dated in the past.
	s, err := capture.Open(t.TempDir(), capture.Options{MaxAge: -1})
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
			t.Fatal("the capture refused a record")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// base is the receive time of the first message of a test.
var base = time.Date(2025, 3, 14, 9, 26, 53, 0, time.Local)

// rec is a message from the embedded broker received i seconds after base.
func rec(topic, payload string, i int) message.Message {
	return message.Message{
		Source: "broker", Topic: topic, Payload: []byte(payload),
		ClientID: "sensor-7", Protocol: 4, Time: base.Add(time.Duration(i) * time.Second),
	}
}

// visible walks o and what its renderers show, for what a user would see.
func visible(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	visit(o)
	switch c := o.(type) {
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			visible(child, visit)
		}
	case *fyne.Container:
		for _, child := range c.Objects {
			visible(child, visit)
		}
	}
}

// texts returns the text of every visible label and text under o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	visible(o, func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Label:
			out = append(out, o.Text)
		case *canvas.Text:
			out = append(out, o.Text)
		}
	})
	return out
}

func containsAll(t testing.TB, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("%s %q does not contain %q", what, text, s)
		}
	}
}
