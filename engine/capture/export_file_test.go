package capture

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func expFilledStore(t *testing.T, n int) *Store {
	t.Helper()
	s := impStore(t)
	for _, r := range impMany(n) {
		if err := s.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func expDirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// A new export is private; a replaced file keeps its mode; progress comes
// every exportProgressEvery records.
func TestExportFileModesAndProgress(t *testing.T) {
	s := expFilledStore(t, 600)
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new.csv")
	var reports []int64
	n, err := ExportFile(context.Background(), s, Query{Filter: "plant/1/power"}, "csv", fresh, func(n int64) { reports = append(reports, n) })
	if err != nil || n != 60 {
		t.Fatalf("export: %d, %v", n, err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new export: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if rows := strings.Count(string(impReadFile(t, fresh)), "\n"); rows != 61 || len(reports) != 0 {
		t.Fatalf("%d rows, progress %v", rows, reports)
	}

	shared := filepath.Join(dir, "shared.jsonl")
	if err := os.WriteFile(shared, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	n, err = ExportFile(context.Background(), s, Query{}, "jsonl", shared, func(n int64) { reports = append(reports, n) })
	if err != nil || n != 600 || len(reports) != 2 || reports[0] != 256 || reports[1] != 512 {
		t.Fatalf("export: %d, %v, progress %v", n, err, reports)
	}
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("replaced export: %v, %v; want mode 0644 kept", fi.Mode(), err)
	}
	if lines := strings.Count(string(impReadFile(t, shared)), "\n"); lines != 600 {
		t.Fatalf("%d lines", lines)
	}
	if names := expDirNames(t, dir); strings.Join(names, " ") != "new.csv shared.jsonl" {
		t.Fatalf("dir holds %v", names)
	}
}

// A failed export leaves the target as it was and nothing else behind.
func TestExportFileFailureLeavesNothing(t *testing.T) {
	s := expFilledStore(t, 5)
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep.jsonl")
	if err := os.WriteFile(keep, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, format, path, query, want string
	}{
		{"unknown format", "xml", keep, "", `unknown format "xml"`},
		{"bad filter", "jsonl", keep, "a/#/b", "a/#/b"},
		{"missing directory", "jsonl", filepath.Join(dir, "no", "x.jsonl"), "", "no such file or directory"},
	} {
		n, err := ExportFile(context.Background(), s, Query{Filter: tc.query}, tc.format, tc.path, nil)
		if err == nil || n != 0 || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("%s: exported %d, err %v; want it to say %q and name %s", tc.name, n, err, tc.want, tc.path)
		}
		if names := expDirNames(t, dir); len(names) != 1 || names[0] != "keep.jsonl" {
			t.Fatalf("%s: dir holds %v", tc.name, names)
		}
		if string(impReadFile(t, keep)) != "old\n" {
			t.Fatalf("%s: existing file changed", tc.name)
		}
	}
}

// A cancelled export fails and leaves neither the file nor a temporary
// file, whether it is cancelled before the first record or part-way.
func TestExportFileCancelled(t *testing.T) {
	s := expFilledStore(t, 1000)
	dir := t.TempDir()
	out := filepath.Join(dir, "x.jsonl")
	for _, early := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		if early {
			cancel()
		}
		n, err := ExportFile(ctx, s, Query{}, "jsonl", out, func(int64) { cancel() })
		cancel()
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), out) || n >= 1000 || (!early && n != 256) {
			t.Fatalf("cancelled early=%v: exported %d, err %v", early, n, err)
		}
		if names := expDirNames(t, dir); len(names) != 0 {
			t.Fatalf("cancelled early=%v: dir holds %v", early, names)
		}
	}
}
