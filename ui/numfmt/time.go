package numfmt

import "time"

// Time shows a time of today as 15:04:05 and an older one with its date,
// "—" for none (the zero time).
func Time(t time.Time) string { return timeSeenAt(t, time.Now()) }

func timeSeenAt(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05")
	}
	return t.Format("2 Jan 2006 15:04:05")
}
