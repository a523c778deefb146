package numfmt

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
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

// Duration shows a span to a useful precision in the language's units and
// decimal sign ("0.25 ms", "850 ms", "1.5 s", "2 min 5 s", "1 h", "1 h 20 min"),
// where Go's own form ("1.5s", "2m5s") is English and uses a point.
func Duration(d time.Duration) string {
	if d < 0 {
		return "−" + Duration(-d)
	}
	switch {
	case d == 0:
		return fmt.Sprintf(lang.X("unit.seconds", "%s s"), "0")
	case d < time.Millisecond:
		return Decimal(fmt.Sprintf(lang.L("%.2f ms"), float64(d)/float64(time.Millisecond)))
	case d < 10*time.Millisecond:
		return Decimal(fmt.Sprintf(lang.L("%.1f ms"), float64(d)/float64(time.Millisecond)))
	case d < time.Second:
		return fmt.Sprintf(lang.L("%d ms"), d.Milliseconds())
	case d < time.Minute-50*time.Millisecond: // not "60.0 s"
		tenths := strconv.FormatFloat(math.Round(d.Seconds()*10)/10, 'f', -1, 64) // "2", not "2.0"
		return fmt.Sprintf(lang.X("unit.seconds", "%s s"), Decimal(tenths))
	case d < time.Hour-500*time.Millisecond:
		d = d.Round(time.Second)
		return pair(int(d/time.Minute), int(d/time.Second)%60,
			lang.X("unit.minutes", "%d min"), lang.X("unit.minutes.seconds", "%d min %d s"))
	}
	d = d.Round(time.Minute)
	return pair(int(d/time.Hour), int(d/time.Minute)%60,
		lang.X("unit.hours", "%d h"), lang.X("unit.hours.minutes", "%d h %d min"))
}

// pair shows a whole unit and its remainder, the remainder left out when 0.
func pair(whole, rest int, alone, both string) string {
	if rest == 0 {
		return fmt.Sprintf(alone, whole)
	}
	return fmt.Sprintf(both, whole, rest)
}

// durationUnits are the units ParseDuration and DurationUnit read, in
// every language the window speaks: a span shown in one language and typed
// in another reads the same.
var durationUnits = map[string]time.Duration{
	"ms": time.Millisecond, "мс": time.Millisecond, "毫秒": time.Millisecond,
	"s": time.Second, "sec": time.Second, "с": time.Second, "сек": time.Second, "秒": time.Second,
	"m": time.Minute, "min": time.Minute, "мин": time.Minute, "分": time.Minute, "分钟": time.Minute,
	"h": time.Hour, "ч": time.Hour, "小时": time.Hour, "时": time.Hour,
	"d": 24 * time.Hour, "д": 24 * time.Hour, "дн": 24 * time.Hour, "天": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "нед": 7 * 24 * time.Hour, "周": 7 * 24 * time.Hour,
}

// DurationUnit is the span a unit word stands for ("min", "мин", "分钟"),
// in any of the window's languages, any case.
func DurationUnit(word string) (time.Duration, bool) {
	d, ok := durationUnits[strings.ToLower(word)]
	return d, ok
}

// durationPart is a number and its unit: "500 ms", "1,5 с", "2分钟".
var durationPart = regexp.MustCompile(`^(\d+(?:[.,]\d+)?)\s*(\pL*)\s*`)

var errDuration = errors.New("not a duration")

// ParseDuration reads a span as Duration writes it in any of the window's
// languages ("1,5 с", "2 min 5 s"), as Go writes it ("1m30s"), or a bare
// number of seconds in the window's decimal sign.
func ParseDuration(text string) (time.Duration, error) {
	text = strings.TrimSpace(text)
	if d, err := time.ParseDuration(text); err == nil {
		return d, nil
	}
	var total float64
	for rest, parts := text, 0; ; parts++ {
		if rest == "" {
			if parts == 0 || total >= math.MaxInt64 {
				return 0, errDuration
			}
			return time.Duration(math.Round(total)), nil
		}
		m := durationPart.FindStringSubmatch(rest)
		if m == nil {
			return 0, errDuration
		}
		n, err := ParseDecimal(m[1])
		if err != nil {
			return 0, errDuration
		}
		unit, ok := DurationUnit(m[2])
		switch {
		case m[2] == "" && parts == 0 && len(m[0]) == len(rest):
			unit, ok = time.Second, true // a bare number
		case !ok:
			return 0, errDuration
		}
		total += n * float64(unit)
		rest = rest[len(m[0]):]
	}
}
