//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package capture

import "io/fs"

// diskUsage returns a file's size, which is what it occupies on platforms
// without sparse preallocation.
func diskUsage(info fs.FileInfo) int64 { return info.Size() }
