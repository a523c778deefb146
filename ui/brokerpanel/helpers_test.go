package brokerpanel

import (
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/ui/uitest"
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
	busy         map[string]bool // addresses CanListen reports in use
}

func (f *fakeController) CanListen(listener, addr string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy[addr] {
		return &broker.ListenError{Listener: listener, Addr: addr, Err: &os.SyscallError{Syscall: "bind", Err: syscall.EADDRINUSE}}
	}
	return nil
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

type harness struct {
	app   fyne.App
	win   fyne.Window
	panel *Panel
	q     uitest.Queue
}

func newHarness(t *testing.T, ctl Controller) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	p := New(ctl, w, a.Preferences())
	q := uitest.NewQueue()
	p.do = q.Do
	w.SetContent(p.Content())
	w.Resize(fyne.NewSize(1100, 720))
	return &harness{app: a, win: w, panel: p, q: q}
}

func inUseErr(addr string) error {
	return &broker.ListenError{Listener: "mqtt", Addr: addr, Err: &os.SyscallError{Syscall: "bind", Err: syscall.EADDRINUSE}}
}
