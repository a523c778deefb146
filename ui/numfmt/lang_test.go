package numfmt

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// latinWord is an English word left in a text (month names, units, Auto).
var latinWord = regexp.MustCompile(`[A-Za-z]{2,}`)

// In Russian and Chinese the dates, numbers, byte units and decoder words
// come out in those languages' ways, and every date layout still formats and parses back
// the same time (a translator's typo in a layout would not).
func TestNamesAndLayoutsInEachLanguage(t *testing.T) {
	at := time.Date(2026, time.March, 7, 9, 23, 1, 0, time.Local)
	layouts := map[string]func() string{"datetime": LayoutDateTime, "daysecond": LayoutDaySecond,
		"dayminute": LayoutDayMinute, "day": LayoutDay}
	tests := []struct {
		lang                 translations.Choice
		datetime, kib, auto  string
		count, rate, seconds string
		latinAllowed         bool
	}{
		{translations.English, "7 Mar 2026 09:23:01", "1.5 KiB", "Auto", "1,234,567", "2.5", "3,600 s", true},
		{translations.Russian, "07.03.2026 09:23:01", "1,5 КиБ", "Авто", "1\u00a0234\u00a0567", "2,5", "3\u00a0600 с", false},
		{translations.Chinese, "2026年3月7日 09:23:01", "1.5 KiB", "自动", "1,234,567", "2.5", "3,600 秒", true},
	}
	for _, tc := range tests {
		t.Run(string(tc.lang), func(t *testing.T) {
			uitest.InLanguage(t, tc.lang)
			if got := at.Format(LayoutDateTime()); got != tc.datetime {
				t.Errorf("date and time %q, want %q", got, tc.datetime)
			}
			if got := Bytes(1536); got != tc.kib {
				t.Errorf("1536 bytes read %q, want %q", got, tc.kib)
			}
			if got := Count(1234567); got != tc.count {
				t.Errorf("1234567 reads %q, want %q", got, tc.count)
			}
			if got := Rate(2.5); got != tc.rate {
				t.Errorf("a rate of 2.5 reads %q, want %q", got, tc.rate)
			}
			if got := Seconds(3600); got != tc.seconds {
				t.Errorf("3600 seconds read %q, want %q", got, tc.seconds)
			}
			typed := strings.Replace("1.5", ".", Decimal("."), 1)
			if f, err := ParseDecimal(typed); err != nil || f != 1.5 {
				t.Errorf("typed %q reads %v, %v; want 1.5", typed, f, err)
			}
			if _, err := ParseDecimal("1,5"); tc.lang != translations.Russian && err == nil {
				t.Error(`"1,5" read as a number where the decimal separator is a point`)
			}
			if got := FormatLabel(decode.Auto); got != tc.auto {
				t.Errorf("Auto reads %q, want %q", got, tc.auto)
			}
			if got := FormatLabel(decode.JSON); got != "JSON" {
				t.Errorf("JSON reads %q: a technical name is the same in every language", got)
			}
			for name, layout := range layouts {
				s := at.Format(layout())
				if !tc.latinAllowed && latinWord.MatchString(s) {
					t.Errorf("%s layout %q shows %q, with an English word", name, layout(), s)
				}
				back, err := time.ParseInLocation(layout(), s, time.Local)
				if err != nil {
					t.Errorf("%s layout %q: %q does not parse back: %v", name, layout(), s, err)
					continue
				}
				if back.Month() != at.Month() || back.Day() != at.Day() {
					t.Errorf("%s layout %q: %q parses back as %v", name, layout(), s, back)
				}
			}
			if got := Plural(3, "day", "days"); tc.lang == translations.Russian && got != "3 дня" {
				t.Errorf("3 days read %q in Russian", got)
			}
		})
	}
}

// Spans read in each language's units and decimal sign, to a precision
// that suits them, never in Go's English form ("1.5s", "2m5s", "1h0m0s").
func TestDurationInEachLanguage(t *testing.T) {
	spans := []time.Duration{0, 250 * time.Microsecond, 2500 * time.Microsecond, 850 * time.Millisecond,
		1500 * time.Millisecond, 2 * time.Second, 59970 * time.Millisecond, 125 * time.Second, 5 * time.Minute,
		time.Hour - 100*time.Millisecond, time.Hour, 80 * time.Minute, 168 * time.Hour, -1500 * time.Millisecond}
	want := map[translations.Choice][]string{
		translations.English: {"0 s", "0.25 ms", "2.5 ms", "850 ms", "1.5 s", "2 s", "1 min", "2 min 5 s", "5 min",
			"1 h", "1 h", "1 h 20 min", "168 h", "−1.5 s"},
		translations.Russian: {"0 с", "0,25 мс", "2,5 мс", "850 мс", "1,5 с", "2 с", "1 мин", "2 мин 5 с", "5 мин",
			"1 ч", "1 ч", "1 ч 20 мин", "168 ч", "−1,5 с"},
		translations.Chinese: {"0 秒", "0.25 毫秒", "2.5 毫秒", "850 毫秒", "1.5 秒", "2 秒", "1 分钟", "2 分 5 秒", "5 分钟",
			"1 小时", "1 小时", "1 小时 20 分钟", "168 小时", "−1.5 秒"},
	}
	for choice, texts := range want {
		t.Run(string(choice), func(t *testing.T) {
			uitest.InLanguage(t, choice)
			for i, d := range spans {
				if got := Duration(d); got != texts[i] {
					t.Errorf("%v reads %q, want %q", d, got, texts[i])
				}
			}
		})
	}
}

// What Duration shows reads back as the same span in every language, and
// so do the other ways people type one; anything else is an error.
func TestParseDurationInEachLanguage(t *testing.T) {
	shown := []time.Duration{2500 * time.Microsecond, 850 * time.Millisecond, 1500 * time.Millisecond,
		2 * time.Second, 125 * time.Second, 5 * time.Minute, 80 * time.Minute, 168 * time.Hour}
	typed := map[string]time.Duration{
		"500ms": 500 * time.Millisecond, "1m30s": 90 * time.Second, "2": 2 * time.Second, "1h": time.Hour,
		"500 ms": 500 * time.Millisecond, "2 s": 2 * time.Second, "1 min 30 s": 90 * time.Second,
		"500мс": 500 * time.Millisecond, "2 с": 2 * time.Second, "1 ч 20 мин": 80 * time.Minute,
		"2秒": 2 * time.Second, "5 分钟": 5 * time.Minute, " 1 小时 ": time.Hour,
	}
	bad := []string{"", "fast", "2 parsecs", "1 2", "s", "-1s 2", "5 min later", "99999999999 h"}
	for _, choice := range []translations.Choice{translations.English, translations.Russian, translations.Chinese} {
		t.Run(string(choice), func(t *testing.T) {
			uitest.InLanguage(t, choice)
			for _, d := range shown {
				if got, err := ParseDuration(Duration(d)); err != nil || got != d {
					t.Errorf("%q (shown for %v) reads %v, %v", Duration(d), d, got, err)
				}
			}
			for text, want := range typed {
				if got, err := ParseDuration(text); err != nil || got != want {
					t.Errorf("%q reads %v, %v; want %v", text, got, err, want)
				}
			}
			for _, text := range bad {
				if got, err := ParseDuration(text); err == nil {
					t.Errorf("%q reads %v, want an error", text, got)
				}
			}
			decimal := "1" + Decimal(".") + "5"
			if got, err := ParseDuration(decimal); err != nil || got != 1500*time.Millisecond {
				t.Errorf("%q reads %v, %v; want 1.5s", decimal, got, err)
			}
		})
	}
}
