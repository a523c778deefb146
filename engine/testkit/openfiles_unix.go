//go:build unix

package testkit

import (
	"syscall"
	"testing"
)

// OpenFiles is this process's open-file limit (soft, hard); 0, 0 where
// the system has none a test can run into.
func OpenFiles() (cur, limit uint64) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0
	}
	return uint64(l.Cur), uint64(l.Max)
}

// RaiseOpenFiles lifts the soft open-file limit to need (the hard one too,
// which only root may), or fails saying what the limit is. Setting it
// explicitly also stops os/exec from restoring, in children, the soft
// limit Go found at start.
func RaiseOpenFiles(tb testing.TB, need uint64) {
	tb.Helper()
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		tb.Fatalf("reading the open-file limit: %v", err)
	}
	want := l
	raiseTo(&want.Cur, need)
	raiseTo(&want.Max, need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		tb.Fatalf("%d open files are needed and the limit is %d (hard %d): %v; raise it (ulimit -n %d, as root)", need, l.Cur, l.Max, err, need)
	}
}

// LimitOpenFiles lowers the soft open-file limit to n, for a test of
// what running out of descriptors does.
func LimitOpenFiles(tb testing.TB, n uint64) {
	tb.Helper()
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		tb.Fatalf("reading the open-file limit: %v", err)
	}
	setTo(&l.Cur, n)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		tb.Fatalf("lowering the open-file limit to %d: %v", n, err)
	}
}

// rlim is the type of Rlimit's fields: uint64 on Linux and macOS, int64
// on the BSDs, where the package must build too.
type rlim interface{ ~int64 | ~uint64 }

func setTo[T rlim](field *T, n uint64) { *field = T(n) }

func raiseTo[T rlim](field *T, n uint64) {
	if uint64(*field) < n {
		*field = T(n)
	}
}
