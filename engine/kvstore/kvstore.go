// Package kvstore opens the app's Badger databases (sessions, capture) the
// same careful way: the directory is created and proven writable first, a
// Badger panic on damaged files becomes an error, every open error names
// the directory, says what to do and wraps ErrLocked, ErrPermission or
// ErrCorrupt, Badger's log goes to slog, and value-log GC runs in a loop
// its owner stops.
package kvstore

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/y"
)

// Errors Open wraps, together with the directory and the cause; test for
// them with errors.Is.
var (
	// ErrLocked means another process (or another open in this process)
	// holds the directory.
	ErrLocked = errors.New("database is locked by another process")
	// ErrPermission means the directory cannot be created, read or written.
	ErrPermission = errors.New("permission denied")
	// ErrCorrupt means Badger found damaged files. Nothing is deleted or
	// repaired automatically.
	ErrCorrupt = errors.New("database is damaged")
)

// Open opens (creating if needed) the Badger database in dir with o, whose
// Logger it points at log. name says which store it is in error messages.
// o's memtable and value-log file sizes are the largest used: on a small
// or full disk they shrink (FitOptions). A disk too full to open the store
// on is an error wrapping ErrNoSpace that says how much is free and
// needed. The returned Space guards the store's writes (see Room); close
// it after the database.
func Open(name, dir string, o badgerdb.Options, log *slog.Logger) (*badgerdb.DB, *Space, error) {
	if dir == "" {
		return nil, nil, fmt.Errorf("%s: open: empty data directory", name)
	}
	if err := preflight(dir); err != nil {
		return nil, nil, Classify(name, dir, err)
	}
	if lockedByOther(dir) {
		return nil, nil, fmt.Errorf("%s: another IoT Studio may be running with data dir %s: %w", name, absDir(dir), ErrLocked)
	}
	space, err := openSpace(name, dir, &o)
	if err != nil {
		return nil, nil, err
	}
	o.Dir, o.ValueDir = dir, dir
	o.Logger = badgerLogger{log: log}
	db, err := openRecovering(o)
	if err != nil {
		space.Close()
		return nil, nil, Classify(name, dir, err)
	}
	return db, space, nil
}

func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// openRecovering opens Badger, turning a panic on damaged files into an error.
func openRecovering(o badgerdb.Options) (db *badgerdb.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: badger panicked while opening: %v", ErrCorrupt, r)
		}
	}()
	return badgerdb.Open(o)
}

// preflight creates dir and proves it is writable, so that the common
// failures surface as real Go error values (fs.ErrPermission, ENOTDIR)
// instead of Badger's flattened strings.
func preflight(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name) // our own probe file; nothing of Badger's is touched
}

// Classify wraps an open error with the directory and one of the sentinel
// errors. Badger flattens the errors it wraps into strings (y.Wrap without
// debug mode), so errors.Is is tried first and Badger's own messages second.
func Classify(name, dir string, err error) error {
	dir = absDir(dir)
	msg := err.Error()
	switch {
	case errors.Is(err, ErrNoSpace):
		return err // NoSpaceError's text is already complete
	case errors.Is(err, syscall.ENOSPC) || strings.Contains(msg, syscall.ENOSPC.Error()):
		return fmt.Errorf("%s: the disk of data dir %s is full; free space or pass --data: %w: %w", name, dir, ErrNoSpace, err)
	case errors.Is(err, ErrCorrupt):
		return fmt.Errorf("%s: data dir %s is damaged (nothing was deleted; move it aside to start fresh): %w", name, dir, err)
	case errors.Is(err, syscall.EWOULDBLOCK) ||
		strings.Contains(msg, "Another process is using this Badger database"):
		return fmt.Errorf("%s: another IoT Studio may be running with data dir %s: %w: %w", name, dir, ErrLocked, err)
	case errors.Is(err, fs.ErrPermission) ||
		strings.Contains(msg, syscall.EACCES.Error()) || strings.Contains(msg, syscall.EPERM.Error()):
		return fmt.Errorf("%s: no permission to use data dir %s: %w: %w", name, dir, ErrPermission, err)
	case errors.Is(err, y.ErrChecksumMismatch) || errors.Is(err, badgerdb.ErrTruncateNeeded) ||
		containsAny(msg, "checksum", "bad magic", "corrupt", "unsupported version", "MANIFEST", "truncat"):
		return fmt.Errorf("%s: data dir %s is damaged (nothing was deleted; move it aside to start fresh): %w: %w", name, dir, ErrCorrupt, err)
	default:
		return fmt.Errorf("%s: cannot open data dir %s: %w", name, dir, err)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// RunGC runs Badger's value-log GC every interval, and whenever kick
// (which may be nil) receives, until quit closes. A rewrite copies up to a
// value-log file's live values before it frees the file, so GC waits while
// space cannot hold that.
func RunGC(db *badgerdb.DB, space *Space, quit, kick <-chan struct{}, interval time.Duration, discardRatio float64, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		case <-kick:
		}
		// One call rewrites at most one file; repeat while it finds work.
		for space.Has(db.Opts().ValueLogFileSize) {
			if err := db.RunValueLogGC(discardRatio); err != nil {
				if !errors.Is(err, badgerdb.ErrNoRewrite) && !errors.Is(err, badgerdb.ErrRejected) {
					log.Warn("value log GC failed", "dir", db.Opts().Dir, "error", err)
				}
				break
			}
			select {
			case <-quit:
				return
			default:
			}
		}
	}
}

// ErrTally keeps the first error and a count, so that a failing disk cannot
// make it grow without bound.
type ErrTally struct {
	first error
	n     int
}

// Add records err, if any.
func (t *ErrTally) Add(err error) {
	if err == nil {
		return
	}
	if t.first == nil {
		t.first = err
	}
	t.n++
}

// Take returns what was recorded (nil for nothing) and starts afresh.
func (t *ErrTally) Take() error {
	defer func() { *t = ErrTally{} }()
	switch t.n {
	case 0:
		return nil
	case 1:
		return t.first
	default:
		return fmt.Errorf("%w (and %d more errors)", t.first, t.n-1)
	}
}

// RateLimit allows one event per second, for logging repeated failures.
type RateLimit struct{ last atomic.Int64 }

// Allow reports whether an event may happen now.
func (r *RateLimit) Allow() bool {
	now := time.Now().UnixNano()
	last := r.last.Load()
	return now-last >= int64(time.Second) && r.last.CompareAndSwap(last, now)
}

// badgerLogger passes Badger's warnings and errors to slog and drops its
// info and debug chatter.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, v ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(f, v...)), "source", "badger")
}

func (l badgerLogger) Warningf(f string, v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(f, v...)), "source", "badger")
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
