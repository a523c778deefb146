//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package kvstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// statDisk returns the bytes an unprivileged writer may still use on dir's
// filesystem, and the filesystem's device number.
func statDisk(dir string) (free int64, dev uint64, err error) {
	if free, err = freeBytes(dir); err != nil {
		return 0, 0, err
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("stat %s: %w", dir, err)
	}
	return free, uint64(st.Dev), nil //nolint:unconvert // Dev's type differs per OS
}

func freeBytes(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil //nolint:unconvert // field types differ per OS
}

// allocated returns the disk space a file takes (Badger's files are
// sparse: their size says little).
func allocated(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}

// lockedByOther reports whether another Badger holds dir: Badger flocks
// the directory itself. Open asks first so that a store in use is reported
// as locked rather than as short of space (which its holder is using).
func lockedByOther(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	}
	return errors.Is(err, unix.EWOULDBLOCK)
}
