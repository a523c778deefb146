//go:build !linux

package smalldisk

import (
	"errors"
	"testing"
)

// Mount skips the test: only Linux has a tmpfs a test can mount.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	skipOrFail(t, true, errors.New("tmpfs mounts are Linux-only"))
	return ""
}

func free(string) (int64, error) { return 0, errors.New("free space is measured on Linux only") }
