package devices

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// In Russian the preview's offsets and the spans "Infer" offers are in
// Russian units with a decimal comma; they were Go's "+4s" and "1h", and
// the status said "в последние 1h0m0s".
func TestPreviewAndInferSpansInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	eng := newFakeEngine()
	eng.inferYAML = goodYAML
	h := newHarness(t, eng)
	p := h.panel
	h.ready(t)
	h.q.Until(t, "the preview", func() bool { return strings.Contains(p.ed.preview.Text, `{"temp":24.5}`) })
	for _, want := range []string{"+0 с  plant/dev-0/temp", "+1,5 с  plant/dev-0/temp", "+6 с  plant/dev-0/temp"} {
		if !strings.Contains(p.ed.preview.Text, want) {
			t.Errorf("preview %q lacks %q", p.ed.preview.Text, want)
		}
	}

	p.onInfer()
	since := uitest.First(t, h.win.Canvas().Overlays().Top(), "the span picker", func(*widget.Select) bool { return true })
	if want := []string{"5 мин", "15 мин", "1 ч", "6 ч", "24 ч", "168 ч"}; !slices.Equal(since.Options, want) || since.Selected != "1 ч" {
		t.Fatalf("spans offered %q, %q picked; want %q, 1 ч", since.Options, since.Selected, want)
	}
	since.SetSelected("6 ч")
	test.Tap(uitest.OverlayButton(t, h.win, "Вывести"))
	h.q.Until(t, "a profile inferred over the last 6 hours", func() bool { return eng.inferredSinceIs(6 * time.Hour) })
}

// In Russian the window's own broker is offered as "Локальный брокер" and
// a fleet started on it runs against "Local broker", the name the engine
// knows it by; it was offered in English.
func TestEmbeddedTargetInRussian(t *testing.T) {
	uitest.InLanguage(t, translations.Russian)
	eng := newFakeEngine()
	eng.targets = []string{localname.Profile, "Plant broker"}
	h := newHarness(t, eng)
	h.ready(t)
	target := h.panel.ctl.target
	if want := []string{"Локальный брокер", "Plant broker"}; !slices.Equal(target.Options, want) || target.Selected != want[0] {
		t.Fatalf("targets %q, %q chosen; want %q, the first chosen", target.Options, target.Selected, want)
	}
	h.started(t)
	eng.get(func(e *fakeEngine) {
		if len(e.starts) != 1 || e.starts[0].target != localname.Profile {
			t.Errorf("Start calls %+v, want one on %q", e.starts, localname.Profile)
		}
	})
}
