//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package capture

import (
	"io/fs"
	"syscall"
)

// diskUsage returns the bytes allocated to a file. Badger preallocates its
// value-log and memtable files as sparse files, so their apparent size can
// be far larger than what they occupy.
func diskUsage(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}
