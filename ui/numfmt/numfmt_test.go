package numfmt

import (
	"math"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234",
		math.MinInt64: "-9,223,372,036,854,775,808"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Count(uint64(math.MaxUint64)); got != "18,446,744,073,709,551,615" {
		t.Errorf("Count(MaxUint64) = %q", got)
	}
}

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 records"}, {1, "1 record"}, {2, "2 records"}, {2500, "2,500 records"}, {-1, "-1 records"},
	} {
		if got := Plural(c.n, "record", "records"); got != c.want {
			t.Errorf("Plural(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := Plural(uint64(1), "child", "children"); got != "1 child" {
		t.Errorf("Plural(uint64 1) = %q", got)
	}
}

func TestRate(t *testing.T) {
	for r, want := range map[float64]string{0: "0.0", 2.25: "2.2", 9.94: "9.9", 10: "10", 12345.6: "12,346"} {
		if got := Rate(r); got != want {
			t.Errorf("Rate(%v) = %q, want %q", r, got, want)
		}
	}
}

func TestTime(t *testing.T) {
	now := time.Date(2026, 3, 7, 18, 0, 0, 0, time.Local)
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "—"},
		{time.Date(2026, 3, 7, 9, 5, 1, 0, time.Local), "09:05:01"},
		{time.Date(2026, 3, 6, 23, 59, 59, 0, time.Local), "6 Mar 2026 23:59:59"},
		{time.Date(2025, 3, 7, 9, 5, 1, 0, time.Local), "7 Mar 2025 09:05:01"},
	} {
		if got := timeSeenAt(c.t, now); got != c.want {
			t.Errorf("Time(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}

// BenchmarkCount is a count as the Explorer's rows and the panels' stats
// show it, in Russian (its separators come from the translations).
func BenchmarkCount(b *testing.B) {
	uitest.InLanguage(b, translations.Russian)
	b.ReportAllocs()
	for b.Loop() {
		_ = Count(1234567)
	}
}
