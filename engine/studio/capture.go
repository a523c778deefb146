package studio

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
)

// Capture is the capture store as the engine holds it: opened at Open, or
// later, after a damaged one was moved aside (MoveAside). It is the
// message.Sink the broker and the connections record into; until a store
// is open, what it is given is dropped.
type Capture struct {
	dir     string
	opts    capture.Options
	log     *slog.Logger
	openErr error
	store   atomic.Pointer[capture.Store]

	onOpen func(current func() *capture.Store) (stop func())
	// The OnCapture hook runs once, for the first store; stopped by close.
	hookOnce sync.Once
	stopHook func()

	moves sync.WaitGroup // MoveAside goroutines
}

// openCapture opens the store in dir. Its retention limits are those
// saved in the store (by the Capture panel's Retention dialog or the
// command line) unless opts sets them: they belong to the data, whichever
// program opens it. On failure it returns the error and a Capture without
// a store.
func openCapture(dir string, opts capture.Options, onOpen func(func() *capture.Store) func(), log *slog.Logger) (*Capture, error) {
	c := &Capture{dir: dir, opts: opts, log: log, onOpen: onOpen}
	s, err := capture.Open(dir, opts)
	if err != nil {
		c.openErr = err
		return c, err
	}
	c.opened(s)
	return c, nil
}

func (c *Capture) opened(s *capture.Store) {
	c.store.Store(s)
	c.hookOnce.Do(func() {
		if c.onOpen != nil {
			c.stopHook = c.onOpen(c.store.Load)
		}
	})
}

// Ingest implements message.Sink.
func (c *Capture) Ingest(rec message.Message) bool {
	if s := c.store.Load(); s != nil {
		return s.Ingest(rec)
	}
	return false
}

// Store is the open store, or nil while there is none.
func (c *Capture) Store() *capture.Store { return c.store.Load() }

// Dir is the capture's directory.
func (c *Capture) Dir() string { return c.dir }

// OpenErr is why the store could not be opened at Open, or nil.
func (c *Capture) OpenErr() error { return c.openErr }

// MoveAside renames the damaged store's directory and opens a new store
// in its place, off the caller's goroutine; done gets the new store (nil
// on failure), where the old one went, and what failed. The engine's
// shutdown waits for it.
func (c *Capture) MoveAside(done func(s *capture.Store, movedTo string, err error)) {
	c.moves.Add(1)
	go func() {
		defer c.moves.Done()
		to, err := moveAside(c.dir, time.Now())
		var s *capture.Store
		if err == nil {
			c.log.Warn("moved the damaged capture aside", "from", c.dir, "to", to)
			if s, err = capture.Open(c.dir, c.opts); err != nil {
				err = fmt.Errorf("moved the old capture to %s, but a new one cannot be opened: %w", to, err)
			}
		}
		if err != nil {
			c.log.Error("traffic is not being captured", "error", err)
		} else {
			c.opened(s) // capturing from now on; close closes it
		}
		done(s, to, err)
	}()
}

// close waits for a move aside, stops the OnCapture hook's work and
// closes the store. The engine calls it once nothing is ingested any more.
func (c *Capture) close() {
	c.moves.Wait()
	c.hookOnce.Do(func() {}) // no hook starts from now on
	if c.stopHook != nil {
		c.stopHook()
	}
	if s := c.store.Load(); s != nil {
		if err := s.Close(); err != nil {
			c.log.Error("closing the capture", "error", err)
		}
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
