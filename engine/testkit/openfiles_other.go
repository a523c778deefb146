//go:build !unix

package testkit

import "testing"

// OpenFiles: this system has no per-process open-file limit a test runs
// into first.
func OpenFiles() (cur, limit uint64) { return 0, 0 }

// RaiseOpenFiles has nothing to raise here.
func RaiseOpenFiles(testing.TB, uint64) {}

// LimitOpenFiles cannot lower a limit this system does not have: the
// test that needs it is skipped.
func LimitOpenFiles(tb testing.TB, n uint64) {
	tb.Helper()
	tb.Skipf("needs a per-process open-file limit (lowered to %d), which this system does not have", n)
}
