package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/signal"
	"path/filepath"
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
	store, err := openCapture(*data)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := exportFile(ctx, store, q, *format, *out, e.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exported %d records to %s\n", n, *out)
	return nil
}

// exportFile writes every record q selects, oldest first, to a temporary
// file next to path and renames it to path only once all of it is written
// and synced: a failed or cancelled export leaves path as it was and no
// partial file. Progress lines go to progress.
func exportFile(ctx context.Context, store *capture.Store, q capture.Query, format, path string, progress io.Writer) (n int64, err error) {
	q.Newest, q.Cursor = false, ""
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return 0, fmt.Errorf("capture export to %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// Keep the mode of a file being replaced; a new export is private
	// (0600, like the capture itself) because payloads may hold secrets.
	if fi, serr := os.Stat(path); serr == nil && fi.Mode().IsRegular() {
		if err := f.Chmod(fi.Mode().Perm()); err != nil {
			return 0, fmt.Errorf("capture export to %s: %w", path, err)
		}
	}
	rw, err := newRecordWriter(format, f)
	if err != nil {
		return 0, err
	}
	pw := &progressWriter{recordWriter: rw, ctx: ctx, out: progress, next: time.Now().Add(exportProgressEvery)}
	err = queryAll(ctx, store, q, 0, pw)
	if ctx.Err() != nil {
		// Whatever the query or writer returned, the cause is the signal.
		return pw.n, fmt.Errorf("capture export interrupted after %d records; %s was not written", pw.n, path)
	}
	if err != nil {
		return pw.n, fmt.Errorf("capture export to %s failed after %d records (nothing written): %w", path, pw.n, err)
	}
	if err = f.Sync(); err == nil {
		err = f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return pw.n, fmt.Errorf("capture export to %s (nothing written): %w", path, err)
	}
	return pw.n, nil
}

// progressWriter counts records, prints "exported N records" at most once
// per exportProgressEvery, and stops the export when ctx is cancelled.
type progressWriter struct {
	recordWriter
	ctx  context.Context
	out  io.Writer
	next time.Time
	n    int64
}

func (p *progressWriter) Write(r capture.Record) error {
	if err := p.recordWriter.Write(r); err != nil {
		return err
	}
	p.n++
	if p.n%256 == 0 {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		if now := time.Now(); !now.Before(p.next) {
			fmt.Fprintf(p.out, "exported %d records\n", p.n)
			p.next = now.Add(exportProgressEvery)
		}
	}
	return nil
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
		return usagef("capture clear: this would delete %d records in %s; run again with --yes to delete them", n, dir)
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
	fmt.Fprintf(e.stdout, "deleted %d records from %s\n", n, dir)
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
