package capture

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/iotstudio/iotstudio/engine/bytesize"
)

// Unlimited is how ParseSize, ParseAge, FormatSize and FormatAge spell "no
// limit" (a negative MaxBytes or MaxAge).
const Unlimited = "unlimited"

// ParseSize reads a retention size such as "1GiB", "500 MB", "2g" or
// "unlimited" (negative result). Units are decimal (kB, MB, GB) or binary
// (KiB, MiB, GiB); a bare number is bytes.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, Unlimited) {
		return -1, nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > 1<<62 {
		return 0, fmt.Errorf("size %q: give a size such as 500MB, 1GiB or 20GB, or %q", s, Unlimited)
	}
	return int64(n), nil
}

// ParseAge reads a retention age such as "7d", "36h", "90m" or
// "unlimited" (negative result).
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, Unlimited) {
		return -1, nil
	}
	bad := fmt.Errorf("age %q: give an age such as 7d, 36h or 90m, or %q", s, Unlimited)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, bad
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

// FormatSize writes a retention size the way ParseSize reads it.
func FormatSize(n int64) string {
	if n < 0 {
		return Unlimited
	}
	return strings.ReplaceAll(bytesize.Text(n), " ", "")
}

// FormatAge writes a retention age the way ParseAge reads it: whole days
// as "7d", otherwise hours and minutes.
func FormatAge(d time.Duration) string {
	switch {
	case d < 0:
		return Unlimited
	case d%(24*time.Hour) == 0 && d > 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

// MaxRecordBytes is the largest record the capture keeps, encoded: the
// payload, topic, client ID and properties plus a few bytes each. Ingest
// drops larger records and counts them (Stats.TooLarge and Dropped);
// Append refuses them with an error.
const MaxRecordBytes = maxRecordSize
