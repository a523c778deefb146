package numfmt

import (
	"time"

	"fyne.io/fyne/v2/lang"
)

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
	return t.Format(LayoutDateTime())
}

// The layouts with a date come from the translations: Go writes month
// names in English only, so Russian and Chinese use their own numeric
// orders (02.01.2006, 2006年1月2日) instead of "2 Jan 2006".

// LayoutDateTime is a full date and time: "2 Jan 2006 15:04:05".
func LayoutDateTime() string { return lang.X("time.layout.datetime", "2 Jan 2006 15:04:05") }

// LayoutDaySecond is a day of this year to the second: "Jan 2 15:04:05".
func LayoutDaySecond() string { return lang.X("time.layout.daysecond", "Jan 2 15:04:05") }

// LayoutDayMinute is a day of this year to the minute: "Jan 2 15:04".
func LayoutDayMinute() string { return lang.X("time.layout.dayminute", "Jan 2 15:04") }

// LayoutDay is a day of this year: "Jan 2".
func LayoutDay() string { return lang.X("time.layout.day", "Jan 2") }
