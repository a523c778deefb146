package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// importProgressEvery is the least time between two progress lines of an
// import (tests shorten it).
var importProgressEvery = time.Second

const importUsage = "usage: iotstudio capture import [--data DIR] [--capture-max-age AGE] [--capture-max-size SIZE] FILE"

// captureImport adds the records of a JSONL export to the capture. The
// whole file is checked first: a bad line anywhere imports nothing, nor do
// records that retention (the limits saved with the capture, or set here
// as for serve) would delete right away.
func captureImport(args []string, e env) error {
	fs := newFlagSet("capture import", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	retention := retentionFlags(fs)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(files) == 0:
		return usagef("capture import: give the JSONL FILE to import (as capture export --format jsonl writes it)\n%s", importUsage)
	case len(files) > 1:
		return usagef("capture import: one FILE at a time; got %d: %s\n%s", len(files), strings.Join(files, " "), importUsage)
	}
	path := files[0]
	opts, err := retention()
	if err != nil {
		return err
	}
	// Fail on a missing file before the store is opened (and perhaps
	// created).
	if fi, err := os.Stat(path); err != nil {
		return fmt.Errorf("capture import: %w; nothing was imported", err)
	} else if fi.IsDir() {
		return usagef("capture import: %s is a directory; give a JSONL file", path)
	}
	dir, err := dataDir(*data)
	if err != nil {
		return err
	}
	store, err := capture.Open(captureDir(dir), opts)
	if err != nil {
		return err
	}
	defer store.Close()
	limits, err := store.Stats()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := capture.ImportFile(ctx, store, path, throttle(importProgressEvery, func(p capture.ImportProgress) {
		pct := 100
		if p.Total > 0 {
			pct = int(p.Done * 100 / p.Total)
		}
		if p.Checking {
			fmt.Fprintf(e.stderr, "checked %s (%d%%)\n", records(p.Records), pct)
		} else {
			fmt.Fprintf(e.stderr, "imported %s (%d%%)\n", records(p.Records), pct)
		}
	}))
	if cerr := store.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("capture import: %s imported, but closing the capture failed (some may be missing): %w", records(n), cerr)
	}
	if errors.Is(err, capture.ErrRetention) {
		return fmt.Errorf("%w\n(the capture keeps %s for %s; --capture-max-age and --capture-max-size change that for it, serve and the app)",
			err, capture.FormatSize(limits.MaxBytes), capture.FormatAge(limits.MaxAge))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported %s from %s\n", records(n), path)
	return nil
}
