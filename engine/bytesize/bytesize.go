// Package bytesize spells a byte count one way for every reader: the
// window's panels ("1.5 KiB") and the command line's flag values and
// messages (capture.FormatSize, "1.5KiB"). It lives in engine/ so that the
// command line can use it without importing ui/, and ui/ reuses it so that
// a size reads the same in every panel.
package bytesize

import "github.com/dustin/go-humanize"

// Text is n in binary units, one decimal below 10: "512 B", "1.5 KiB",
// "12 MiB". A negative n (no size) is "0 B".
func Text(n int64) string {
	return humanize.IBytes(uint64(max(n, 0)))
}
