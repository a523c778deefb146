package connections

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// fakeKeyring is an OS keyring in memory; with missing set, it behaves
// like a Linux session without a Secret Service.
type fakeKeyring struct {
	mu      sync.Mutex
	m       map[string]string
	missing bool
	deleted []string
}

func newFakeKeyring(missing bool) *fakeKeyring {
	return &fakeKeyring{m: map[string]string{}, missing: missing}
}

func (k *fakeKeyring) unavailable(op string) error {
	return &client.KeyringError{Op: op, Err: fmt.Errorf("dbus: no session bus")}
}

func (k *fakeKeyring) Get(account string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.missing {
		return "", k.unavailable("read")
	}
	v, ok := k.m[account]
	if !ok {
		return "", fmt.Errorf("%w: %s", client.ErrSecretNotFound, account)
	}
	return v, nil
}

func (k *fakeKeyring) Set(account, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.missing {
		return k.unavailable("store")
	}
	k.m[account] = secret
	return nil
}

func (k *fakeKeyring) Delete(account string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.missing {
		return k.unavailable("delete")
	}
	k.deleted = append(k.deleted, account)
	delete(k.m, account)
	return nil
}

func (k *fakeKeyring) get(account string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[account]
	return v, ok
}

type harness struct {
	win     fyne.Window
	panel   *Panel
	q       uitest.Queue
	mgr     *client.Manager
	store   *client.Store
	keyring *fakeKeyring
	secrets *client.Secrets
	local   atomic.Pointer[string] // the embedded broker's address LocalAddr returns
}

type harnessOpts struct {
	profiles  []client.Profile // saved before the panel loads
	localAddr string
	noKeyring bool
	// minBackoff, when set, is the connections' first retry wait (50 ms
	// otherwise), doubling up to 30 s as in the app.
	minBackoff time.Duration
	publishTo  func(connection, topic string) // Options.PublishTo
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	store := client.NewStore(t.TempDir())
	if o.profiles != nil {
		if err := store.Save(o.profiles); err != nil {
			t.Fatal(err)
		}
	}
	kr := newFakeKeyring(o.noKeyring)
	h := &harness{win: w, q: uitest.NewQueue(), store: store, keyring: kr, secrets: client.NewSecrets(kr)}
	h.local.Store(&o.localAddr)
	backoff := client.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	if o.minBackoff > 0 {
		backoff = client.Options{MinBackoff: o.minBackoff, MaxBackoff: 30 * time.Second}
	}
	h.mgr = client.NewManager(nil, client.Options{MinBackoff: backoff.MinBackoff, MaxBackoff: backoff.MaxBackoff,
		Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	h.panel = New(w, Options{Manager: h.mgr, Store: store, Secrets: h.secrets, Do: h.q.Do,
		LocalAddr: func() string { return *h.local.Load() }, Logger: slog.New(slog.DiscardHandler), PublishTo: o.publishTo})
	w.SetContent(h.panel.Content())
	w.Resize(fyne.NewSize(1100, 720))
	t.Cleanup(func() { _ = h.mgr.CloseAll(context.Background()) })
	// Stopping applies UI updates so that no goroutine waits on the queue.
	h.q.Serve(t, h.panel.Serve)
	h.q.Run(t) // Serve's start: the local profile and connect-at-start
	return h
}

// row returns the row of the profile named name.
func (h *harness) row(t *testing.T, name string) *row {
	t.Helper()
	for _, pr := range h.panel.profiles {
		if pr.Name == name {
			return h.panel.rows[pr.ID]
		}
	}
	t.Fatalf("no connection %q in the list", name)
	return nil
}

func (h *harness) saved(t *testing.T) []client.Profile {
	t.Helper()
	ps, err := h.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// topDialog is the topmost overlay (an open dialog).
// newCustomForm taps New…, gives the custom preset's URL and taps
// Next…, and returns the connection form that opens.
func (h *harness) newCustomForm(t *testing.T, url string) fyne.CanvasObject {
	t.Helper()
	test.Tap(button(t, h.panel.Content(), "New…"))
	d := topDialog(t, h.win)
	test.Type(entry(t, d, "mqtt://host"), url)
	test.Tap(button(t, d, "Next…"))
	return topDialog(t, h.win)
}

func topDialog(t *testing.T, w fyne.Window) fyne.CanvasObject {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog is open")
	}
	return top
}

// button finds the visible button labelled text under o.
func button(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	return uitest.First(t, o, fmt.Sprintf("%q button", text), func(b *widget.Button) bool { return b.Text == text })
}

// entry finds the visible entry whose placeholder starts with ph.
func entry(t *testing.T, o fyne.CanvasObject, ph string) *widget.Entry {
	t.Helper()
	return uitest.First(t, o, fmt.Sprintf("entry with placeholder %q", ph), func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, ph) })
}

// check finds the visible check box whose label starts with prefix.
func check(t *testing.T, o fyne.CanvasObject, prefix string) *widget.Check {
	t.Helper()
	return uitest.First(t, o, fmt.Sprintf("check box %q", prefix), func(c *widget.Check) bool { return strings.HasPrefix(c.Text, prefix) })
}

// texts is every visible label's text under o, joined by newlines.
func texts(o fyne.CanvasObject) string { return strings.Join(uitest.Labels(o), "\n") }

// tempFile writes a file and returns its path.
func tempFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// find returns the first visible widget of type T under o.
func find[T fyne.CanvasObject](t *testing.T, o fyne.CanvasObject) T {
	t.Helper()
	var zero T
	return uitest.First[T](t, o, fmt.Sprintf("%T", zero), nil)
}

// refreshNow applies a refresh as the panel's ticker would, and waits for
// the actions it started.
func (h *harness) refreshNow() {
	h.panel.applyStatus(h.mgr.Snapshot())
	h.panel.work.Wait()
}
