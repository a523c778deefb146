package subscribe

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

const testTimeout = 20 * time.Second

// usersFile: alice/alice-demo may do anything; sensor/sensor-demo may
// read sensors/+/config, write sensors/#, and nothing else.
const usersFile = "../../testdata/users.yaml"

// uiQueue stands in for fyne.Do: background goroutines queue UI updates
// and the test goroutine, playing the Fyne goroutine, runs them. calls
// counts them.
type uiQueue struct {
	ch    chan func()
	calls atomic.Int64
}

func (q *uiQueue) do(fn func()) {
	q.calls.Add(1)
	q.ch <- fn
}

// until applies queued UI updates until cond holds.
func (q *uiQueue) until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	uitest.Queue(q.ch).Until(t, what, cond)
}

// tee hands what the Manager's connections receive to the panel (set once
// it exists) and keeps the topics, so tests can tell what the broker
// delivered from what the panel shows.
type tee struct {
	panel  atomic.Pointer[Panel]
	mu     sync.Mutex
	topics []string
}

func (r *tee) Ingest(rec message.Message) bool {
	r.mu.Lock()
	r.topics = append(r.topics, rec.Source+" "+rec.Topic)
	r.mu.Unlock()
	if p := r.panel.Load(); p != nil {
		return p.Ingest(rec)
	}
	return true
}

func (r *tee) received(source, topic string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.topics {
		if s == source+" "+topic {
			return true
		}
	}
	return false
}

type harness struct {
	win  fyne.Window
	p    *Panel
	q    *uiQueue
	b    *broker.Broker
	mgr  *client.Manager
	rec  *tee
	addr string
}

// newHarness starts the embedded broker (with the example users file) on
// a free loopback port, a Manager whose recorder feeds the panel, and the
// panel in a test window with its refresh goroutine; everything stops
// when the test ends. opts.Do is replaced by the test's queue.
func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	test.NewTempApp(t)
	h := &harness{q: &uiQueue{ch: make(chan func(), 256)}, rec: &tee{}}
	srv := brokertest.Start(t, func(c *broker.Config) { c.UsersFile = usersFile })
	b := srv.Broker
	h.b, h.addr = b, srv.Addr
	h.mgr = client.NewManager(h.rec, client.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
		Timeout: 5 * time.Second, Logger: testkit.Logger()})

	h.win = test.NewTempWindow(t, nil)
	opts.Do = h.q.do
	opts.Logger = testkit.Logger()
	h.p = New(h.mgr, h.win, opts)
	h.p.interval = 20 * time.Millisecond
	h.rec.panel.Store(h.p)
	h.win.SetContent(h.p.Content())
	h.win.Resize(fyne.NewSize(1100, 900))

	stop := uitest.Queue(h.q.ch).Serve(t, h.p.Serve) // an action may finish as the panel stops
	t.Cleanup(func() {
		// The app's shutdown order: the UI's goroutines, the connections,
		// the broker.
		if err := stop(); err != nil {
			t.Error(err)
		}
		cctx, ccancel := context.WithTimeout(context.Background(), testTimeout)
		defer ccancel()
		if err := h.mgr.CloseAll(cctx); err != nil {
			t.Errorf("close connections: %v", err)
		}
		_ = b.Stop()
	})
	return h
}

// connect opens a connection to the embedded broker as user and waits
// until the panel lists it and it is connected.
func (h *harness) connect(t *testing.T, name, user, password string, proto client.Protocol) *client.Connection {
	t.Helper()
	p, err := client.NewFromPreset(client.PresetLocal, client.PresetInput{Name: name, Addr: h.addr})
	if err != nil {
		t.Fatal(err)
	}
	p.Protocol, p.Username, p.HasPassword = proto, user, true
	c, err := h.mgr.Open(p, client.Credentials{Password: password})
	if err != nil {
		t.Fatal(err)
	}
	h.q.until(t, name+" connected in the panel", func() bool {
		for _, ci := range h.p.conns {
			if ci.status.Name == name && ci.status.State == client.StateConnected {
				return true
			}
		}
		return false
	})
	return c
}

// choose selects a connection in the selector, as a user would.
func (h *harness) choose(t *testing.T, name string) {
	t.Helper()
	h.p.connSelect.SetSelected(name)
	if h.p.source != name {
		t.Fatalf("selector: %q selected, want %q", h.p.source, name)
	}
}

// subscribe fills in the form and taps Subscribe, then waits for the
// broker's answer to be shown.
func (h *harness) subscribe(t *testing.T, filter string, qos int) {
	t.Helper()
	h.p.filter.SetText(filter)
	h.p.qos.SetSelectedIndex(qos)
	test.Tap(h.p.subscribeBtn)
	h.q.until(t, "the answer to subscribing "+filter, func() bool { return h.subRow(filter) != nil && h.p.subscribeBtn.Disabled() == false })
}

// subRow returns the row of a filter in the subscriptions list.
func (h *harness) subRow(filter string) *subRow {
	for _, r := range h.p.subRows {
		if r.filter == filter {
			return r
		}
	}
	return nil
}

// pub publishes from the broker's own client.
func (h *harness) pub(t *testing.T, topic, payload string) {
	t.Helper()
	if err := h.b.Publish(topic, []byte(payload), false, 1); err != nil {
		t.Fatal(err)
	}
}

// listed returns the topics the list shows, top (newest) first.
func (h *harness) listed() []string {
	out := make([]string, h.p.list.Length())
	for i := range out {
		out[i] = h.p.entryAt(i).rec.Topic
	}
	return out
}

// shownRows returns the message rows on screen, by topic.
func (h *harness) shownRows() map[string]*msgRow {
	out := map[string]*msgRow{}
	uitest.Walk(h.p.list, func(o fyne.CanvasObject) bool {
		if r, ok := o.(*msgRow); ok {
			if r.e != nil {
				out[r.topic.Text] = r
			}
			return false
		}
		return true
	})
	return out
}

// describe says what a message row shows.
func describe(r *msgRow) string {
	if r == nil {
		return "not on screen"
	}
	return fmt.Sprintf("%s %s %q colour %v", r.time.Text, r.topic.Text, r.preview.Text, r.swatch.FillColor)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func has(s, sub string) bool { return strings.Contains(s, sub) }
