//go:build unix

package broker

import "syscall"

// openFileLimit is the process's descriptor limit (Go raises the soft limit
// to the hard one at start), or 0 if unknown.
func openFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur)
}
