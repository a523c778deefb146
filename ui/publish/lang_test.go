package publish

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// In Russian the payload format picker says Текст for Text and keeps the
// technical names; picking a translated label still converts to the
// right format, and a refused switch names the format in Russian.
func TestFormatPickerInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	h := newHarness(t)
	f := &h.p.form
	if want := []string{"Текст", "JSON", "Hex", "Base64"}; !slices.Equal(f.formatSel.Options, want) {
		t.Fatalf("formats offered %q, want %q", f.formatSel.Options, want)
	}
	if f.formatSel.Selected != "Текст" || h.p.format != formatText {
		t.Fatalf("starts on %q (%s), want Текст", f.formatSel.Selected, h.p.format)
	}
	f.payload.SetText("Hi!")
	for _, step := range []struct {
		label   string
		format  payloadFormat
		payload string
	}{
		{"Hex", formatHex, "48 69 21"},
		{"Base64", formatBase64, "SGkh"},
		{"Текст", formatText, "Hi!"},
	} {
		f.formatSel.SetSelected(step.label)
		if h.p.format != step.format || f.payload.Text != step.payload {
			t.Fatalf("picking %q: format %s, payload %q; want %s, %q", step.label, h.p.format, f.payload.Text, step.format, step.payload)
		}
	}
	f.formatSel.SetSelected("Hex")
	f.payload.SetText("00 ff")
	f.formatSel.SetSelected("Текст")
	if h.p.format != formatHex || f.formatSel.Selected != "Hex" || !strings.Contains(f.payErr.Text, "Не удалось переключиться на Текст: нагрузка двоичная") {
		t.Errorf("binary to text: format %s, picker %q, error %q", h.p.format, f.formatSel.Selected, f.payErr.Text)
	}
	h.p.loadPayload(formatJSON, "{")
	if f.formatSel.Selected != "JSON" {
		t.Errorf("a JSON payload shows the format %q", f.formatSel.Selected)
	}
	if !strings.HasPrefix(f.payErr.Text, "JSON: строка 1, столбец") {
		t.Errorf("broken JSON says %q", f.payErr.Text)
	}
}

// In Russian the repeat interval reads and takes Russian units with a
// decimal comma, and a repeated publish's result says how long it took
// in them, on the Local broker by its Russian name: it showed "1s",
// refused "0,5 с" and said "на Local broker: 3 за 87ms".
func TestRepeatTimesInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	h := newHarness(t)
	f := &h.p.form
	if f.interval.Text != "1 с" {
		t.Errorf("the interval starts as %q, want 1 с", f.interval.Text)
	}
	typeInto(f.interval, "0,5 с")
	if _, every, err := h.p.repeatSettings(); err != nil || every != 500*time.Millisecond {
		t.Errorf("every 0,5 с reads %v, %v", every, err)
	}
	h.publishRepeated("lab/tick", "3", "20 мс")
	h.resultHas("Публикаций в lab/tick на Локальный брокер: 3 за ")
	if took := resultTook(t, f.result.Text, " за ", "мс", "с"); took < 40*time.Millisecond {
		t.Fatalf("result %q: three publishes 20 ms apart take at least 40 ms", f.result.Text)
	}
}

// In Russian "Publish…" from the Explorer or the inspector, which name the
// connection by its key, picks the Local broker under its Russian name.
func TestPrefillPicksTheLocalBrokerInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	h := newHarness(t)
	h.selectConnection(localName)
	f := &h.p.form
	f.conn.ClearSelected()
	h.p.Prefill(localName, "lab/prefill", nil)
	if f.conn.Selected != "Локальный брокер" || h.p.connName() != localName || f.topic.Text != "lab/prefill" {
		t.Errorf("after Prefill: connection %q (%q), topic %q; want Локальный брокер (%q), lab/prefill",
			f.conn.Selected, h.p.connName(), f.topic.Text, localName)
	}
}
