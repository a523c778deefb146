package capture

import (
	"testing"
	"time"
)

func TestParseAndFormatLimits(t *testing.T) {
	sizes := []struct {
		in   string
		want int64
		out  string
	}{
		{"1GiB", 1 << 30, "1.0GiB"},
		{"500 MB", 500_000_000, "477MiB"},
		{"2g", 2_000_000_000, "1.9GiB"},
		{"unlimited", -1, "unlimited"},
		{"Unlimited", -1, "unlimited"},
		{"4096", 4096, "4.0KiB"},
	}
	for _, c := range sizes {
		got, err := ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if out := FormatSize(got); out != c.out {
			t.Errorf("FormatSize(%d) = %q, want %q", got, out, c.out)
		}
		if back, err := ParseSize(FormatSize(got)); err != nil || (got >= 0) != (back >= 0) {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", got, back, err)
		}
	}
	for _, bad := range []string{"", "0", "-5MB", "lots", "1 parsec"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	ages := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"7d", 7 * 24 * time.Hour, "7d"},
		{"36h", 36 * time.Hour, "36h"},
		{"90m", 90 * time.Minute, "1h30m"},
		{"1.5d", 36 * time.Hour, "36h"},
		{"unlimited", -1, "unlimited"},
	}
	for _, c := range ages {
		got, err := ParseAge(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if out := FormatAge(got); out != c.out {
			t.Errorf("FormatAge(%v) = %q, want %q", got, out, c.out)
		}
	}
	for _, bad := range []string{"", "0d", "-7d", "7", "a week", "7dd"} {
		if _, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) accepted", bad)
		}
	}
}
