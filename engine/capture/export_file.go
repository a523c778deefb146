package capture

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/iotstudio/iotstudio/engine/message"
)

// exportProgressEvery is how many records pass between two progress
// reports (and context checks) of ExportFile.
const exportProgressEvery = 256

// exportPage is how many records ExportFile asks the store for at a time.
const exportPage = 1000

// recordWriter is what JSONLWriter and CSVWriter have in common.
type recordWriter interface {
	Write(message.Message) error
	Flush() error
}

// ExportFile writes every record q selects, oldest first, to path in
// format ("jsonl", lossless, or "csv"); q.Limit, q.Newest and q.Cursor are
// ignored. It writes a temporary file next to path, syncs it and renames it
// to path only once all of it is written: a failed or cancelled export
// leaves path as it was and no partial file behind. A file it replaces
// keeps its permissions; a new one is private (0600), as payloads may hold
// secrets.
//
// progress, if not nil, is called with the number of records written so
// far every few hundred records; ctx is checked as often.
func ExportFile(ctx context.Context, store Querier, q Query, format, path string, progress func(n int64)) (n int64, err error) {
	newWriter, err := exportWriter(format)
	if err != nil {
		return 0, fmt.Errorf("capture export to %s: %w", path, err)
	}
	if progress == nil {
		progress = func(int64) {}
	}
	q.Newest, q.Cursor, q.Limit = false, "", exportPage
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
	if fi, serr := os.Stat(path); serr == nil && fi.Mode().IsRegular() {
		if err := f.Chmod(fi.Mode().Perm()); err != nil {
			return 0, fmt.Errorf("capture export to %s: %w", path, err)
		}
	}
	w := newWriter(f)
	for {
		recs, next, qerr := store.Query(ctx, q)
		if qerr != nil {
			err = qerr
			break
		}
		for _, r := range recs {
			if err = w.Write(r); err != nil {
				break
			}
			n++
			if n%exportProgressEvery == 0 {
				progress(n)
				if err = ctx.Err(); err != nil {
					break
				}
			}
		}
		if err != nil || next == "" {
			break
		}
		q.Cursor = next
	}
	if err == nil {
		err = w.Flush()
	}
	if ctx.Err() != nil {
		// Whatever the query or writer returned, the cause is the cancel.
		return n, cancelledf(ctx, "capture export interrupted after %d records; %s was not written", n, path)
	}
	if err != nil {
		return n, fmt.Errorf("capture export to %s failed after %d records (nothing written): %w", path, n, err)
	}
	if err = f.Sync(); err == nil {
		err = f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return n, fmt.Errorf("capture export to %s (nothing written): %w", path, err)
	}
	return n, nil
}

func exportWriter(format string) (func(io.Writer) recordWriter, error) {
	switch format {
	case "jsonl":
		return func(w io.Writer) recordWriter { return NewJSONLWriter(w) }, nil
	case "csv":
		return func(w io.Writer) recordWriter { return NewCSVWriter(w) }, nil
	}
	return nil, fmt.Errorf("unknown format %q; use jsonl or csv", format)
}
