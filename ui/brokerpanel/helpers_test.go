package brokerpanel

import (
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
)

// fakeController records calls and plays back a scripted broker.
type fakeController struct {
	mu           sync.Mutex
	state        broker.State
	stats        broker.Stats
	clients      []broker.ClientInfo
	cfg          broker.Config
	startErr     error
	reconfErr    error
	starts       int
	stops        int
	reconfigured []broker.Config
	disconnected []string
	caPEM        []byte
}

func (f *fakeController) DevCACert() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.caPEM
}

func newFake() *fakeController {
	return &fakeController{cfg: broker.Config{MQTTAddr: "127.0.0.1:1883", DataDir: "/tmp/x", NoPersistence: true}}
}

func (f *fakeController) Start() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	if f.startErr != nil {
		f.state = broker.State{Status: broker.Failed, Err: f.startErr, Since: time.Now()}
		return f.startErr
	}
	f.state = broker.State{Status: broker.Running, Since: time.Now(), Listeners: []broker.Listener{
		{Name: "mqtt", Address: f.cfg.MQTTAddr, URL: "mqtt://" + f.cfg.MQTTAddr},
	}}
	return nil
}

func (f *fakeController) Stop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops++
	f.state = broker.State{Status: broker.Stopped, Since: time.Now()}
	return nil
}

func (f *fakeController) State() broker.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *fakeController) Stats() broker.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

func (f *fakeController) Clients() []broker.ClientInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]broker.ClientInfo(nil), f.clients...)
}

func (f *fakeController) Disconnect(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.disconnected = append(f.disconnected, id)
	for i, c := range f.clients {
		if c.ID == id {
			f.clients = append(f.clients[:i], f.clients[i+1:]...)
			return nil
		}
	}
	return broker.ErrNoSuchClient
}

func (f *fakeController) Config() broker.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

func (f *fakeController) Reconfigure(cfg broker.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconfigured = append(f.reconfigured, cfg)
	if f.reconfErr != nil {
		return f.reconfErr
	}
	f.cfg = cfg
	return nil
}

func (f *fakeController) set(fn func(f *fakeController)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeController) get(fn func(f *fakeController)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// uiQueue stands in for fyne.Do: background goroutines queue UI updates and
// the test goroutine, playing the Fyne goroutine, runs them.
type uiQueue chan func()

func (q uiQueue) do(fn func()) { q <- fn }

// run applies the next queued UI update.
func (q uiQueue) run(t *testing.T) {
	t.Helper()
	select {
	case fn := <-q:
		fn()
	case <-time.After(10 * time.Second):
		t.Fatal("no UI update arrived")
	}
}

// until applies queued UI updates until cond holds.
func (q uiQueue) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case fn := <-q:
			fn()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type harness struct {
	app   fyne.App
	win   fyne.Window
	panel *Panel
	q     uiQueue
}

func newHarness(t *testing.T, ctl Controller) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	p := New(ctl, w, a.Preferences())
	q := make(uiQueue, 64)
	p.do = q.do
	w.SetContent(p.Content())
	w.Resize(fyne.NewSize(1100, 720))
	return &harness{app: a, win: w, panel: p, q: q}
}

// walk visits o and, through their (cached) renderers, everything visible
// inside it, until visit returns false.
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject) bool) bool {
	if o == nil || !o.Visible() {
		return true
	}
	if !visit(o) {
		return false
	}
	switch c := o.(type) {
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			if !walk(child, visit) {
				return false
			}
		}
	case *fyne.Container:
		for _, child := range c.Objects {
			if !walk(child, visit) {
				return false
			}
		}
	}
	return true
}

// buttons returns the visible buttons under o labelled text.
func buttons(o fyne.CanvasObject, text string) []*widget.Button {
	var out []*widget.Button
	walk(o, func(o fyne.CanvasObject) bool {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			out = append(out, b)
		}
		return true
	})
	return out
}

// overlayButton finds the button labelled text in the topmost dialog.
func overlayButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open; wanted one with a %q button", text)
	}
	bs := buttons(top, text)
	if len(bs) != 1 {
		t.Fatalf("topmost dialog has %d %q buttons, want 1", len(bs), text)
	}
	return bs[0]
}

// labels returns the text of every visible label under o.
func labels(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(o fyne.CanvasObject) bool {
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l.Text)
		}
		return true
	})
	return out
}

func inUseErr(addr string) error {
	return &broker.ListenError{Listener: "mqtt", Addr: addr, Err: &os.SyscallError{Syscall: "bind", Err: syscall.EADDRINUSE}}
}
