package publish

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/ui/localname"
)

const testTimeout = 20 * time.Second

// uiQueue stands in for fyne.Do: background goroutines queue UI updates
// (never blocking, as fyne.Do does not) and the test goroutine, playing
// the Fyne goroutine, runs them.
type uiQueue struct {
	mu    sync.Mutex
	fns   []func()
	ready chan struct{}
}

func newUIQueue() *uiQueue { return &uiQueue{ready: make(chan struct{}, 1)} }

func (q *uiQueue) do(fn func()) {
	q.mu.Lock()
	q.fns = append(q.fns, fn)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *uiQueue) runQueued() {
	q.mu.Lock()
	fns := q.fns
	q.fns = nil
	q.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// until applies queued UI updates until cond holds.
func (q *uiQueue) until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		q.runQueued()
		if cond() {
			return
		}
		select {
		case <-q.ready:
		case <-time.After(10 * time.Millisecond): // conditions that no UI update signals (a subscriber's count)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func testClientOptions() client.Options {
	return client.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, Timeout: 5 * time.Second, Logger: testkit.Logger()}
}

// recorder collects what a subscriber's connection receives.
type recorder struct {
	mu   sync.Mutex
	recs []message.Message
}

func (r *recorder) Ingest(rec message.Message) bool {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
	return true
}

func (r *recorder) on(topic string) []message.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []message.Message
	for _, rec := range r.recs {
		if rec.Topic == topic {
			out = append(out, rec)
		}
	}
	return out
}

type harness struct {
	t       *testing.T
	addr    string // the embedded broker's MQTT listener
	mgr     *client.Manager
	win     fyne.Window
	p       *Panel
	q       *uiQueue
	dataDir string
	sub     *recorder
}

// localName is the local preset's connection name.
const localName = "Local broker"

// newHarness runs the embedded broker on a free loopback port, a Manager
// with its "local" connection, a subscriber on "#" through another
// Manager, and the panel in a test window with its goroutine running.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := newBareHarness(t, "")
	h.mgr = h.newManager(nil)
	h.open(h.mgr, client.MQTT5, "")

	subMgr := h.newManager(h.sub)
	sc := h.open(subMgr, client.MQTT5, "subscriber")
	if res, err := sc.Subscribe(t.Context(), client.Subscription{Filter: "#", QoS: 2}); err != nil || res[0].Refused {
		t.Fatalf("subscribe: %+v, %v", res, err)
	}

	h.win = test.NewTempWindow(t, nil)
	h.p = h.newPanel()
	return h
}

// newBareHarness is a harness with only the embedded broker running, with
// the users and ACL of usersFile when not empty.
func newBareHarness(t *testing.T, usersFile string) *harness {
	t.Helper()
	test.NewTempApp(t)
	h := &harness{t: t, q: newUIQueue(), dataDir: t.TempDir(), sub: &recorder{}}
	h.addr = brokertest.Start(t, func(c *broker.Config) { c.UsersFile = usersFile }).Addr
	return h
}

func (h *harness) newManager(rec message.Sink) *client.Manager {
	m := client.NewManager(rec, testClientOptions())
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.CloseAll(ctx)
	})
	return m
}

// open connects a local-preset profile named name (the preset's name when
// empty) and waits until it is connected.
func (h *harness) open(m *client.Manager, proto client.Protocol, name string) *client.Connection {
	h.t.Helper()
	return h.openAs(m, proto, name, "", "")
}

// openAs is open, logged in as user.
func (h *harness) openAs(m *client.Manager, proto client.Protocol, name, user, password string) *client.Connection {
	h.t.Helper()
	prof, err := client.NewFromPreset(client.PresetLocal, client.PresetInput{Name: name, Addr: h.addr})
	if err != nil {
		h.t.Fatal(err)
	}
	prof.Protocol, prof.Username, prof.HasPassword = proto, user, user != ""
	c, err := m.Open(prof, client.Credentials{Password: password})
	if err != nil {
		h.t.Fatal(err)
	}
	waitConnected(h.t, c)
	return c
}

// newPanel makes a panel over h.mgr and h.dataDir, shown in h.win and
// running until the test ends.
func (h *harness) newPanel() *Panel {
	p := New(h.mgr, h.win, Options{DataDir: h.dataDir, Logger: testkit.Logger(), Do: h.q.do})
	h.win.SetContent(p.Content())
	h.win.Resize(fyne.NewSize(1200, 1000))
	testkit.Serve(h.t, p.Serve)
	return p
}

func waitConnected(t *testing.T, c *client.Connection) {
	t.Helper()
	testkit.EventuallyErr(t, c.Profile().Name+" to connect", func() error {
		if st := c.Status(); st.State != client.StateConnected {
			return fmt.Errorf("%s (%v)", st.State, st.LastError)
		}
		return nil
	})
}

// selectConnection waits for the panel to list name and selects it.
func (h *harness) selectConnection(name string) {
	h.t.Helper()
	label := localname.Label(name) // as the selector shows it
	h.q.until(h.t, "connection "+label+" listed", func() bool { return slices.Contains(h.p.form.conn.Options, label) })
	h.p.form.conn.SetSelected(label)
}

// typeInto replaces an entry's text the way a person does: select it all,
// then type.
func typeInto(e interface {
	fyne.Focusable
	SetText(string)
}, text string) {
	e.SetText("")
	test.Type(e, text)
}

// received waits for n messages on topic at the subscriber.
func (h *harness) received(topic string, n int) []message.Message {
	h.t.Helper()
	var got []message.Message
	h.q.until(h.t, "messages on "+topic, func() bool {
		got = h.sub.on(topic)
		return len(got) >= n
	})
	return got
}

// resultHas waits until the result line contains want.
func (h *harness) resultHas(want string) {
	h.t.Helper()
	h.q.until(h.t, "result "+want, func() bool {
		return h.p.form.result.Visible() && strings.Contains(h.p.form.result.Text, want)
	})
}

// buttons lists the buttons labelled text inside o, as laid out.
func buttons(o fyne.CanvasObject, text string) []*widget.Button {
	var out []*widget.Button
	for _, x := range test.LaidOutObjects(o) {
		if b, ok := x.(*widget.Button); ok && b.Text == text && b.Visible() {
			out = append(out, b)
		}
	}
	return out
}

// loadPayload puts text in the editor as format f without converting, as
// if the person had typed it in that format.
func (p *Panel) loadPayload(f payloadFormat, text string) {
	p.switching = true
	p.format = f
	p.form.formatSel.SetSelected(f.label())
	p.switching = false
	p.form.payload.SetText(text)
}

// resultTook reads the time a result ends with ("… in 85 ms.", "… за 1,2 с."):
// the text after the last sep, a number and the unit ms or s, in the
// language's words for them.
func resultTook(t *testing.T, result, sep, ms, s string) time.Duration {
	t.Helper()
	i := strings.LastIndex(result, sep)
	if i < 0 {
		t.Fatalf("result %q has no %q before its time", result, sep)
	}
	num, unit, _ := strings.Cut(strings.TrimSuffix(result[i+len(sep):], "."), " ")
	f, err := strconv.ParseFloat(strings.Replace(num, ",", ".", 1), 64)
	switch {
	case err != nil:
		t.Fatalf("result %q: time %q is not a number: %v", result, num, err)
	case unit == ms:
		return time.Duration(f * float64(time.Millisecond))
	case unit == s:
		return time.Duration(f * float64(time.Second))
	}
	t.Fatalf("result %q: time unit %q, want %q or %q", result, unit, ms, s)
	return 0
}

// publishRepeated publishes "tick" count times, every interval, to topic on
// the Local broker.
func (h *harness) publishRepeated(topic, count, interval string) {
	h.t.Helper()
	h.selectConnection(localName)
	f := &h.p.form
	typeInto(f.topic, topic)
	typeInto(f.payload, "tick")
	typeInto(f.count, count)
	typeInto(f.interval, interval)
	test.Tap(f.publish)
}
