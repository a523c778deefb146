package capturepanel

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// In Russian the retention dialog's unit pickers show Russian units, and
// the limits picked with them are the ones applied.
func TestRetentionUnitsInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	store := openStore(t)
	h := newHarness(t, store)
	p := h.panel

	test.Tap(p.retentionBtn)
	h.q.Until(t, "the dialog", func() bool { return p.retentionDlg != nil })
	r := p.retentionDlg
	if want := []string{"МиБ", "ГиБ", "ТиБ"}; !slices.Equal(r.sizeUnit.Options, want) {
		t.Errorf("size units %q, want %q", r.sizeUnit.Options, want)
	}
	if want := []string{"часы", "дни"}; !slices.Equal(r.ageUnit.Options, want) {
		t.Errorf("age units %q, want %q", r.ageUnit.Options, want)
	}
	if r.sizeUnit.Selected != "ГиБ" || r.ageUnit.Selected != "дни" {
		t.Errorf("defaults in %q / %q, want ГиБ / дни", r.sizeUnit.Selected, r.ageUnit.Selected)
	}
	r.size.SetText("")
	if want := "Размер: введите число (ГиБ) или отметьте «без ограничения»"; r.errText.Text != want {
		t.Errorf("empty size says %q, want %q", r.errText.Text, want)
	}
	for _, tt := range []struct {
		size, sizeUnit, age, ageUnit string
		bytes                        int64
		maxAge                       time.Duration
		status                       string
	}{
		{"500", "МиБ", "36", "часы", 500 << 20, 36 * time.Hour, "хранит 500 МиБ / 36 часов"},
		{"2", "ТиБ", "3", "дни", 2 << 40, 72 * time.Hour, "хранит 2 ТиБ / 3 дня"},
		// A Russian fraction has a comma, typed and shown.
		{"1,5", "ГиБ", "1,5", "часы", 1536 << 20, 90 * time.Minute, "хранит 1,5 ГиБ / 1,5 ч"},
	} {
		r.size.SetText(tt.size)
		r.sizeUnit.SetSelected(tt.sizeUnit)
		r.age.SetText(tt.age)
		r.ageUnit.SetSelected(tt.ageUnit)
		if r.errText.Text != "" || r.apply.Disabled() {
			t.Fatalf("%s %s / %s %s: %q", tt.size, tt.sizeUnit, tt.age, tt.ageUnit, r.errText.Text)
		}
		test.Tap(r.apply)
		waitRetention(t, store, tt.bytes, tt.maxAge)
		if p.retention.Text != tt.status {
			t.Errorf("status %q, want %q", p.retention.Text, tt.status)
		}
		// The dialog reopens on what is in force, in the same units.
		p.retentionDlg = nil
		test.Tap(p.retentionBtn)
		h.q.Until(t, "the dialog", func() bool { return p.retentionDlg != nil })
		r = p.retentionDlg
		if r.size.Text != tt.size || r.sizeUnit.Selected != tt.sizeUnit || r.age.Text != tt.age || r.ageUnit.Selected != tt.ageUnit {
			t.Errorf("reopened on %s %s / %s %s, want %s %s / %s %s", r.size.Text, r.sizeUnit.Selected, r.age.Text, r.ageUnit.Selected,
				tt.size, tt.sizeUnit, tt.age, tt.ageUnit)
		}
	}
}

// In Russian the replay speeds read 0,5×, 1×, 10×, Макс., and Макс. is
// replay as fast as it goes.
func TestReplaySpeedsInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	store := openStore(t, sample(3)...)
	h := newHarness(t, store)
	p := h.panel
	p.opts.BrokerURL = func() string { return "" }

	test.Tap(p.replayBtn)
	d := p.replayDlg
	if want := []string{"0,5×", "1×", "10×", "Макс."}; !slices.Equal(d.speed.Options, want) {
		t.Fatalf("speeds %q, want %q", d.speed.Options, want)
	}
	if d.speed.Selected != "1×" {
		t.Errorf("speed starts at %q", d.speed.Selected)
	}
	d.url.SetText("mqtt://127.0.0.1:1883")
	for label, want := range map[string]float64{"0,5×": 0.5, "1×": 1, "10×": 10, "Макс.": 0} {
		d.speed.SetSelected(label)
		_, ro, err := d.options()
		if err != nil || ro.Speed != want {
			t.Errorf("%s: speed %v (%v), want %v", label, ro.Speed, err, want)
		}
	}
	d.url.SetText("")
	if _, _, err := d.options(); err == nil || err.Error() != "Введите URL брокера, на который повторить сообщения." {
		t.Errorf("no URL: %v", err)
	}
}

// In Russian a record's source reads as the Explorer names it, the
// embedded broker's with the stored name exports carry; it read "broker"
// (and "Local broker" for that connection) in every language.
func TestRecordSourceInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	for source, want := range map[string]string{
		"broker":          "Источник: Локальный брокер (broker)",
		"Local broker":    "Источник: Локальный брокер\n",
		"Plant mosquitto": "Источник: Plant mosquitto\n",
	} {
		if got := detailText(&message.Message{Source: source, Topic: "t"}); !strings.Contains(got, want) {
			t.Errorf("source %q: details\n%s\nlack %q", source, got, want)
		}
	}
}

// In Russian the search bounds take Russian units and say so: "-10 мин"
// was refused ("ends in s, m, h, d or w"), and the hints showed only
// "-10m, -2h, -7d".
func TestRelativeSearchBoundsInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	h := newHarness(t, openStore(t))
	p := h.panel
	if !strings.Contains(p.since.PlaceHolder, "-10 мин, -2 ч, -7 д") || !strings.Contains(p.until.PlaceHolder, "-1 ч") {
		t.Errorf("hints %q and %q, want Russian units", p.since.PlaceHolder, p.until.PlaceHolder)
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	p.since.SetText("-2 ч")
	p.until.SetText("-10 мин")
	if q, err := p.formQuery(now); err != nil || !q.Since.Equal(now.Add(-2*time.Hour)) || !q.Until.Equal(now.Add(-10*time.Minute)) {
		t.Errorf("-2 ч .. -10 мин read as %v .. %v, %v", q.Since, q.Until, err)
	}
	p.since.SetText("-5 лет")
	if _, err := p.formQuery(now); err == nil || !strings.Contains(err.Error(), "оканчивается на с, мин, ч, д или нед") {
		t.Errorf("-5 лет: %v, want the Russian units named", err)
	}
}
