// Package smalldisk gives tests a filesystem of their own that really runs
// out of space: a tmpfs of a chosen size, mounted by the test and unmounted
// when it ends. Mounting needs root on Linux; elsewhere the test is skipped
// with a message saying why (with CI=1 set, a mount that fails for any
// reason but permissions fails the test instead).
package smalldisk

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Free returns the bytes an unprivileged writer may still use in dir's
// filesystem.
func Free(t testing.TB, dir string) int64 {
	t.Helper()
	n, err := free(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Fill writes the file path until dir's filesystem has at most leave bytes
// free (a little less, by up to one chunk's rounding), and returns path so
// that the test can delete it to give the space back.
func Fill(t testing.TB, path string, leave int64) string {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		n := Free(t, filepath.Dir(path)) - leave
		if n <= 0 {
			return path
		}
		if _, err := f.Write(chunk[:min(int64(len(chunk)), n)]); err != nil {
			t.Fatalf("fill %s: %v", path, err)
		}
	}
}

func skipOrFail(t testing.TB, permission bool, err error) {
	t.Helper()
	msg := fmt.Sprintf("cannot mount a small tmpfs for this test (%v); run it as root on Linux to test a full disk", err)
	if permission || os.Getenv("CI") == "" {
		t.Skip(msg)
	}
	t.Fatal(msg)
}
