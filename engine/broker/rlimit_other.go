//go:build !unix

package broker

// openFileLimit: other systems have no per-process descriptor limit that
// accept runs into first.
func openFileLimit() uint64 { return 0 }
