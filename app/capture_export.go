package app

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// exportProgressEvery is the least time between two progress lines of an
// export (tests shorten it).
var exportProgressEvery = time.Second

func captureExport(args []string, e env) error {
	fs := newFlagSet("capture export", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	format := fs.String("format", "jsonl", "output `FORMAT`: jsonl or csv")
	out := fs.String("out", "", "`FILE` to write; it is replaced only when the export completes")
	query := queryFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("capture export: --out FILE is required")
	}
	if *format != "jsonl" && *format != "csv" {
		return usageError{fmt.Errorf("--format %q: %w; use jsonl or csv", *format, errUnknownFormat)}
	}
	if fi, err := os.Stat(*out); err == nil && fi.IsDir() {
		return usagef("capture export: --out %s is a directory; give a file name", *out)
	}
	q, err := query(time.Now())
	if err != nil {
		return err
	}
	store, err := openCaptureReader(*data)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var damage damageSeen
	q.OnDamage = damage.add
	n, err := capture.ExportFile(ctx, store, q, *format, *out, throttle(exportProgressEvery, func(n int64) {
		fmt.Fprintf(e.stderr, "exported %s\n", records(n))
	}))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exported %s to %s\n", records(n), *out)
	return damage.report(e.stderr, fmt.Sprintf("the %s in %s are all intact", records(n), *out))
}

// throttle returns a function that passes its argument on to f at most
// once per every, the first time once every has passed.
func throttle[T any](every time.Duration, f func(T)) func(T) {
	next := time.Now().Add(every)
	return func(v T) {
		if now := time.Now(); !now.Before(next) {
			f(v)
			next = now.Add(every)
		}
	}
}

func captureClear(args []string, e env) error {
	fs := newFlagSet("capture clear", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	yes := fs.Bool("yes", false, "really delete every captured record")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	base, err := dataDir(*data)
	if err != nil {
		return err
	}
	dir := captureDir(base)
	fi, err := os.Lstat(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		fmt.Fprintf(e.stdout, "no capture in %s; nothing to clear\n", base)
		return nil
	}
	if err == nil && !fi.IsDir() {
		// Moving a symbolic link aside would delete the link, not the records.
		return fmt.Errorf("capture clear: %s is not a directory (a symbolic link?); nothing was deleted: clear it by hand", dir)
	}
	// Opening the store proves that no serve or app holds it and that it
	// is readable; a locked or damaged store is never deleted.
	n, err := captureRecords(dir)
	if err != nil {
		return fmt.Errorf("capture clear: nothing was deleted: %w", err)
	}
	if !*yes {
		return usagef("capture clear: this would delete %s in %s; run again with --yes to delete them", records(n), dir)
	}
	// Move the store aside first so that a serve starting now gets a fresh
	// one instead of a half-deleted one.
	aside := dir + ".cleared-" + time.Now().UTC().Format("20060102T150405.000000000Z")
	if err := os.Rename(dir, aside); err != nil {
		return fmt.Errorf("capture clear: nothing was deleted: %w", err)
	}
	// Another process may have opened the store between our Close and the
	// rename; if so, put it back.
	if _, err := captureRecords(aside); err != nil {
		if rerr := os.Rename(aside, dir); rerr != nil {
			return fmt.Errorf("capture clear: nothing was deleted, but the capture was left in %s (moving it back to %s failed: %v): %w", aside, dir, rerr, err)
		}
		return fmt.Errorf("capture clear: %s was opened by another process while clearing; nothing was deleted: %w", dir, err)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("capture clear: the capture was moved to %s but deleting it failed (delete that folder yourself): %w", aside, err)
	}
	fmt.Fprintf(e.stdout, "deleted %s from %s\n", records(n), dir)
	return nil
}

// captureRecords opens the store in dir, counts its records and closes it.
func captureRecords(dir string) (int64, error) {
	store, err := capture.Open(dir, capture.Options{})
	if err != nil {
		return 0, err
	}
	st, err := store.Stats()
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("capture in %s: %w", dir, err)
	}
	return st.Records, nil
}
