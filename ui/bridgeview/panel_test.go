package bridgeview

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/bridge"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

type fakeBridges struct {
	stats   []bridge.Stats
	text    string
	applied string
}

func (f *fakeBridges) Stats() []bridge.Stats { return f.stats }
func (f *fakeBridges) File() (string, string) {
	return "/data/bridges.yaml", f.text
}
func (f *fakeBridges) LoadErr() error { return nil }
func (f *fakeBridges) Rules(string) []bridge.Rule {
	return []bridge.Rule{{Direction: bridge.Out, Local: "plant/#", Remote: "site1/plant/#", QoS: 1}, {Direction: bridge.In, Local: "plant/cmd/#", Remote: "site1/cmd/#"}}
}
func (f *fakeBridges) Check(text string) error {
	if strings.Contains(text, "Nowhere") {
		return errors.New(`/data/bridges.yaml:3: connection "Nowhere" is not saved; saved: Team broker`)
	}
	return nil
}
func (f *fakeBridges) Apply(text string) error {
	if err := f.Check(text); err != nil {
		return err
	}
	f.applied = text
	f.stats = []bridge.Stats{{Name: "site1", State: bridge.StateDown, LastError: "connection refused: is the broker running?"}}
	return nil
}

func TestBridgesPanelEditsAndShowsState(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1100, 700))
	src := &fakeBridges{text: "bridges:\n  - name: site1\n    connection: Nowhere\n"}
	p := New(src, w, Options{Do: func(f func()) { f() }})
	w.SetContent(p.Content())
	if !strings.Contains(p.note.Text, "No bridges") || !strings.Contains(p.note.Text, "/data/bridges.yaml") {
		t.Errorf("with no bridges the panel says %q", p.note.Text)
	}

	test.Tap(uitest.Buttons(p.Content(), "Edit bridges…")[0])
	dlg := w.Canvas().Overlays().Top()
	editor := uitest.First(t, dlg, "the editor", func(e *widget.Entry) bool { return e.MultiLine })
	test.Tap(uitest.Buttons(dlg, "Save and apply")[0])
	if src.applied != "" {
		t.Fatal("a file that does not check was applied")
	}
	if labels := strings.Join(uitest.Labels(dlg), "|"); !strings.Contains(labels, ":3:") {
		t.Fatalf("the problem's line is not shown: %s", labels)
	}
	editor.SetText("bridges:\n  - name: site1\n    connection: Team broker\n")
	test.Tap(uitest.Buttons(dlg, "Save and apply")[0])
	if src.applied == "" {
		t.Fatal("a file that checks was not applied")
	}
	if w.Canvas().Overlays().Top() != nil {
		t.Error("the editor stays open after a successful apply")
	}
	if len(p.stats) != 1 {
		t.Fatalf("the table lists %d bridges, want 1", len(p.stats))
	}
	cell := widget.NewLabel("")
	p.updateCell(widget.TableCellID{Row: 0, Col: 1}, cell)
	if cell.Text != "Down" || cell.Importance != widget.DangerImportance {
		t.Errorf("state cell %q (importance %v), want Down in red", cell.Text, cell.Importance)
	}
	p.updateCell(widget.TableCellID{Row: 0, Col: 7}, cell)
	if !strings.Contains(cell.Text, "is the broker running?") {
		t.Errorf("last error cell %q", cell.Text)
	}
	p.updateCell(widget.TableCellID{Row: 0, Col: 2}, cell)
	if cell.Text != "plant/# → site1/plant/# Q1; plant/cmd/# ← site1/cmd/# Q0" {
		t.Errorf("rules cell %q", cell.Text)
	}
}

// At the default window's width (1100 px less the navigation) the table
// fits without a horizontal scroll bar, every header whole, in English
// and in Russian, whose headers are the longest.
func TestColumnsFitTheDefaultWindow(t *testing.T) {
	test.NewTempApp(t)
	languages := []struct {
		name          string
		heads, states []string
	}{
		{"English", headers(), []string{"Connected", "Connecting", "Down", "Stopped"}},
		{"Russian", []string{"Мост", "Состояние", "Правила", "Отправлено", "Принято", "В очереди", "Потеряно", "Последняя ошибка"},
			[]string{"Подключено", "Подключение", "Недоступен", "Остановлен"}},
	}
	const width = 1100 - 100
	for _, l := range languages {
		ws := columnWidths(l.heads, l.states, width, theme.Padding())
		total := float32(0)
		for i, w := range ws {
			total += w + theme.Padding()
			head := widget.NewLabelWithStyle(l.heads[i], fyne.TextAlignLeading, fyne.TextStyle{Bold: true}).MinSize().Width
			if w < head {
				t.Errorf("%s: column %q is %.0f px, its header needs %.0f", l.name, l.heads[i], w, head)
			}
		}
		if total > width {
			t.Errorf("%s: columns take %.0f px of %d: the table scrolls sideways", l.name, total, width)
		}
		if ws[colRules] < 200 {
			t.Errorf("%s: Rules gets %.0f px", l.name, ws[colRules])
		}
	}
}

// The table has room for a bridge's first rule and the start of its last
// error; selecting the bridge shows every rule, one per line, and the
// error whole, and keeps showing them as the counters refresh.
func TestSelectingABridgeShowsAllItsRulesAndItsError(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1100, 700))
	longErr := "connection refused by 10.0.0.7:8883: is the broker running, and does its listener take TLS on that port? Retrying every 30 s"
	src := &fakeBridges{stats: []bridge.Stats{
		{Name: "site1", State: bridge.StateDown, LastError: longErr, ForwardedOut: 1234567},
		{Name: "site2", State: bridge.StateConnected},
	}}
	p := New(src, w, Options{Do: func(f func()) { f() }})
	w.SetContent(p.Content())
	if !strings.Contains(p.detail.Text, "Select a bridge") {
		t.Errorf("before a selection the detail says %q", p.detail.Text)
	}

	p.table.Select(widget.TableCellID{Row: 0, Col: 2})
	for _, want := range []string{"site1 — Down", "\nplant/# → site1/plant/# Q1\n", "\nplant/cmd/# ← site1/cmd/# Q0\n", "Last error: " + longErr} {
		if !strings.Contains(p.detail.Text, want) {
			t.Errorf("the selected bridge's detail lacks %q:\n%s", want, p.detail.Text)
		}
	}
	src.stats[0].LastError = "remote closed the connection"
	p.show(src.Stats())
	if !strings.Contains(p.detail.Text, "Last error: remote closed the connection") {
		t.Errorf("after a refresh the detail says:\n%s", p.detail.Text)
	}

	cell := widget.NewLabel("")
	p.updateCell(widget.TableCellID{Row: 0, Col: 3}, cell)
	if cell.Text != "1,234,567" {
		t.Errorf("sent-out cell %q, want digits grouped like every other count", cell.Text)
	}

	src.stats = src.stats[1:] // site1 removed from the bridges file
	p.show(src.Stats())
	if strings.Contains(p.detail.Text, "site1") {
		t.Errorf("a removed bridge's detail stays: %q", p.detail.Text)
	}
}
