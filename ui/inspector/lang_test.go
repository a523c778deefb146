package inspector

import (
	"slices"
	"strings"
	"testing"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// In Russian the decoder picker says Авто and Текст and keeps the
// technical names; picking a Russian label decodes with that format, and
// the diff's rows and the history's sizes are in Russian too.
func TestDecoderPickerInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("cfg/a", `{"a":1}`, 0), rec("cfg/a", `{"a":2,"b":3}`, 1))
	h.show("cfg/a")
	in := h.in
	want := []string{"Авто (JSON)", "Текст", "JSON", "Hex", "Base64", "CBOR", "MessagePack", "Sparkplug B"}
	got := slices.Clone(in.formatSel.Options)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("decoders offered %q, want %q", in.formatSel.Options, want)
	}
	if in.formatSel.Selected != "Авто (JSON)" {
		t.Errorf("picker shows %q", in.formatSel.Selected)
	}
	for _, tc := range []struct {
		label  string
		format decode.Format
	}{{"Hex", decode.Hex}, {"Текст", decode.Text}, {"JSON", decode.JSON}} {
		in.formatSel.SetSelected(tc.label)
		h.waitDecoded()
		if in.st.format != tc.format || in.formatSel.Selected != tc.label {
			t.Errorf("picking %q decodes as %s, picker shows %q", tc.label, in.st.format, in.formatSel.Selected)
		}
	}
	in.formatSel.SetSelected("Hex")
	h.waitDecoded()
	if rows := h.rows(2); len(rows) != 1 || !strings.HasPrefix(rows[0], "00000000  7b 22 61 22") {
		t.Errorf("Hex shows %q", rows)
	}

	h.q.until(t, "the diff", func() bool { return len(in.diff.rows) > 0 })
	rows := in.diff.texts()
	if !slices.Contains(rows, "изменено  a: 1 → 2") || !slices.Contains(rows, "добавлено b = 3") {
		t.Errorf("diff rows %q", rows)
	}
}
