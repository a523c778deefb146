package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
)

// A second start of the window on the same data dir (the icon clicked
// twice) would open a window whose broker port and capture the first one
// holds. Instead the first window holds DATA/window.lock and answers on
// DATA/window.sock, and a second start asks it to come forward and exits.
// The lock, not the socket, decides who is first: two starts at the same
// moment cannot both remove a stale socket file and both listen.
const (
	windowLockFile   = "window.lock"
	windowSocketFile = "window.sock"
)

// windowAnswerWait bounds how long a second start waits for the first
// window to answer: the first may still be opening its engine and window.
const windowAnswerWait = 15 * time.Second

// errShownOther says a second start brought the running window forward;
// runGUI then exits without opening a window.
var errShownOther = errors.New("shown the running window")

// windowInstance is the first window's claim on its data dir.
type windowInstance struct {
	lock *flock.Flock
	srv  *http.Server
	done chan struct{}
	path string
	show atomic.Pointer[func()]
}

// claimWindow makes this process the data dir's window, or, when another
// process already is, asks that one to show its window and returns
// errShownOther. An error otherwise says what to do.
func claimWindow(dir string, wait time.Duration, log *slog.Logger) (*windowInstance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	lock := flock.New(filepath.Join(dir, windowLockFile))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	sock := filepath.Join(dir, windowSocketFile)
	if !ok {
		return nil, showOther(sock, dir, wait)
	}
	inst, err := listenWindow(lock, sock, log)
	if err != nil {
		// Where no Unix socket can be made (Wine; old Windows) the window
		// still opens and holds the lock; a second start then explains
		// instead of bringing it forward.
		log.Warn("a second start of the app will not be able to bring this window forward", "error", err)
		return &windowInstance{lock: lock}, nil
	}
	return inst, nil
}

// listenWindow answers other starts on sock. Holding the lock, a socket
// file there can only be a dead window's.
func listenWindow(lock *flock.Flock, sock string, log *slog.Logger) (*windowInstance, error) {
	_ = os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("window socket %s: %w", sock, err)
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(sock, 0o600); err != nil {
			l.Close()
			return nil, fmt.Errorf("window socket %s: %w", sock, err)
		}
	}
	inst := &windowInstance{lock: lock, path: sock, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/show", func(w http.ResponseWriter, _ *http.Request) {
		show := inst.show.Load()
		if show == nil {
			http.Error(w, "the window is still opening", http.StatusServiceUnavailable)
			return
		}
		log.Info("another start of IoT Studio asked for this window: bringing it forward")
		(*show)()
	})
	inst.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(inst.done)
		if err := inst.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("window socket stopped: a second start will not find this window", "socket", sock, "error", err)
		}
	}()
	return inst, nil
}

// onShow sets what a second start's request does; until then such
// requests are answered "still opening" and asked again.
func (i *windowInstance) onShow(show func()) { i.show.Store(&show) }

// close stops answering and releases the data dir for the next window.
func (i *windowInstance) close() {
	if i.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = i.srv.Shutdown(ctx)
		<-i.done
		_ = os.Remove(i.path)
	}
	_ = i.lock.Unlock()
}

// showOther asks the window on sock to come forward, for up to wait.
func showOther(sock, dir string, wait time.Duration) error {
	hc := &http.Client{
		Timeout: 3 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(wait)
	for {
		resp, err := hc.Post("http://window/v1/show", "text/plain", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return errShownOther
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("another IoT Studio window holds the data dir %s but did not answer for %v: close it (or end its process), or start this one with --data and another directory", dir, wait)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
