package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/capturepanel"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// lateRecorder hands the broker's messages to the capture store, which
// may be opened after the broker was built (when a damaged store was moved
// aside); until then, and without one, messages are not captured.
type lateRecorder struct{ store atomic.Pointer[capture.Store] }

func (r *lateRecorder) Ingest(rec message.Message) bool {
	if s := r.store.Load(); s != nil {
		return s.Ingest(rec)
	}
	return false
}

// guiCapture owns the window's capture: the store (opened at start, or
// later after a damaged one was moved aside), its panel, and their
// shutdown.
type guiCapture struct {
	dir       string
	opts      capture.Options
	log       *slog.Logger
	rec       lateRecorder
	brokerURL func() string
	do        func(func()) // fyne.Do; tests queue it

	moves sync.WaitGroup // move-aside goroutines
	// stopQueries stops answering headless capture commands; set once the
	// store is open.
	queriesOnce sync.Once
	stopQueries func()
	// Set on the UI goroutine; read by close after the UI has ended.
	panel *capturepanel.Panel
}

// newGUICapture opens the capture store in dir. Its retention limits are
// those saved in the store (by the panel's Retention dialog or the command
// line), not the app's: they belong to the data, whichever program opens
// it. On failure it returns the error and no store; the window then says
// why (see show).
func newGUICapture(dir string, log *slog.Logger) (*guiCapture, error) {
	g := &guiCapture{dir: dir, log: log, do: fyne.Do, opts: capture.Options{Logger: log}}
	s, err := capture.Open(dir, g.opts)
	if err != nil {
		log.Error("traffic is not being captured", "error", err)
		return g, err
	}
	g.rec.store.Store(s)
	g.serveQueries()
	return g, nil
}

// serveQueries lets the headless capture commands read the store while
// the app holds it (capture_service.go); failing to only costs that.
func (g *guiCapture) serveQueries() {
	g.queriesOnce.Do(func() {
		stop, err := serveCaptureQueries(filepath.Dir(g.dir), g.rec.store.Load, g.log)
		if err != nil {
			g.log.Warn("headless capture commands cannot read the capture while the app runs", "error", err)
			return
		}
		g.stopQueries = stop
	})
}

// show adds the Capture panel to w if the store is open, or else tells
// the user why it is not (offering to move a damaged store aside). Call
// it on the UI goroutine, once.
func (g *guiCapture) show(ctx context.Context, w fyne.Window, openErr error) {
	if s := g.rec.store.Load(); s != nil {
		g.addPanel(ctx, w, s, true)
		return
	}
	capturepanel.ShowOpenError(w, g.dir, openErr, func() { g.moveAside(ctx, w) })
}

func (g *guiCapture) addPanel(ctx context.Context, w fyne.Window, s *capture.Store, search bool) {
	g.panel = capturepanel.New(s, w, capturepanel.Options{BrokerURL: g.brokerURL, Do: g.do})
	shell.AddPanels(w, g.panel)
	g.panel.Run(ctx)
	if search {
		g.panel.Search() // open on the newest messages, not an empty list
	}
}

// moveAside renames the damaged store's directory and opens a new store
// in its place, off the UI goroutine, then shows the result.
func (g *guiCapture) moveAside(ctx context.Context, w fyne.Window) {
	g.moves.Add(1)
	go func() {
		defer g.moves.Done()
		to, err := moveAside(g.dir, time.Now())
		var s *capture.Store
		if err == nil {
			g.log.Warn("moved the damaged capture aside", "from", g.dir, "to", to)
			if s, err = capture.Open(g.dir, g.opts); err != nil {
				err = fmt.Errorf("moved the old capture to %s, but a new one cannot be opened: %w", to, err)
			}
		}
		if err != nil {
			g.log.Error("traffic is not being captured", "error", err)
		} else {
			g.rec.store.Store(s) // capturing from now on; close closes it
			g.serveQueries()
		}
		if ctx.Err() != nil {
			return // the window is gone
		}
		g.do(func() {
			if err == nil {
				g.addPanel(ctx, w, s, false)
			}
			capturepanel.ShowMoveResult(w, g.dir, to, err)
		})
	}()
}

// wait waits for the panel's and the move's goroutines; cancel their ctx
// first.
func (g *guiCapture) wait() {
	g.moves.Wait()
	if g.panel != nil {
		g.panel.Wait()
	}
}

// close waits like wait and closes the store. Call it after the broker
// has stopped, so that nothing is still being ingested.
func (g *guiCapture) close() {
	g.wait()
	g.queriesOnce.Do(func() {}) // no serving starts from now on
	if g.stopQueries != nil {
		g.stopQueries()
	}
	if s := g.rec.store.Load(); s != nil {
		closeCapture(s, g.log)
	}
}

// moveAside renames dir to dir.damaged-<UTC time> (adding -2, -3, ... if
// that exists) and returns the new name. It never deletes anything.
func moveAside(dir string, now time.Time) (string, error) {
	base := dir + ".damaged-" + now.UTC().Format("20060102T150405Z")
	for i := 1; i <= 100; i++ {
		to := base
		if i > 1 {
			to = fmt.Sprintf("%s-%d", base, i)
		}
		// Rename replaces an empty directory, so look first.
		if _, err := os.Lstat(to); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("move %s aside: %w", dir, err)
		}
		if err := os.Rename(dir, to); err != nil {
			return "", fmt.Errorf("move %s aside to %s: %w", dir, to, err)
		}
		return to, nil
	}
	return "", fmt.Errorf("move %s aside: %s and 99 more names like it are taken", dir, base)
}

// loopbackURL is the MQTT URL at which this process reaches the running
// broker: its MQTT (else WebSocket) listener, with an any-address host
// replaced by loopback; "" when the broker does not run.
func loopbackURL(st broker.State) string {
	if st.Status != broker.Running {
		return ""
	}
	for _, name := range []string{"mqtt", "ws"} {
		for _, l := range st.Listeners {
			if l.Name != name {
				continue
			}
			host, port, err := net.SplitHostPort(l.Address)
			if err != nil {
				continue
			}
			if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
				host = "127.0.0.1"
				if ip != nil && ip.To4() == nil {
					host = "::1"
				}
			}
			if name == "ws" {
				return "ws://" + net.JoinHostPort(host, port) + broker.WSPath
			}
			return "mqtt://" + net.JoinHostPort(host, port)
		}
	}
	return ""
}
