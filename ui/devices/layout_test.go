package devices

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/density"
	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// inLanguage builds what follows in the language of locale (LANG as the
// OS sets it), and puts English back after the test: Fyne's language is
// global, and the other tests read English.
func inLanguage(t *testing.T, locale string) {
	t.Helper()
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", locale)
	if err := translations.Register(translations.System); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = os.Setenv("LANG", "en_US.UTF-8")
		if err := translations.Register(translations.System); err != nil {
			t.Error(err)
		}
	})
}

// layoutHarness is the panel in language locale, in the app's default
// theme, in a window of size (the panel's part of the main window), with
// its profiles and targets loaded.
func layoutHarness(t *testing.T, locale string, size fyne.Size) *harness {
	t.Helper()
	inLanguage(t, locale)
	a := test.NewTempApp(t)
	// The sizes and fonts the app draws with, not the test theme's.
	a.Settings().SetTheme(theme.DefaultTheme())
	w := test.NewTempWindow(t, nil)
	w.SetPadded(false)
	q := uitest.NewQueue()
	eng := newFakeEngine()
	p := New(eng, w, Options{Do: q.Do})
	p.debounce, p.interval = 5*time.Millisecond, 5*time.Millisecond
	w.SetContent(p.Content())
	w.Resize(size)
	h := &harness{win: w, panel: p, eng: eng, q: q}
	h.stop = q.Serve(t, p.Serve)
	h.ready(t)
	return h
}

// rect is where an object is drawn in its window.
type rect struct{ x0, y0, x1, y1 float32 }

func rectOf(o fyne.CanvasObject) rect {
	pos, s := uitest.AbsPos(o), o.Size()
	return rect{pos.X, pos.Y, pos.X + s.Width, pos.Y + s.Height}
}

// holds reports whether r holds o whole, to half a pixel.
func (r rect) holds(o rect) bool {
	const e = 0.5
	return o.x0 >= r.x0-e && o.y0 >= r.y0-e && o.x1 <= r.x1+e && o.y1 <= r.y1+e
}

// cutWidgets names each shown button, label or progress bar drawn smaller
// than its text needs, and each entry whose box cuts its hint.
func cutWidgets(root fyne.CanvasObject) []string {
	var cut []string
	short := func(o fyne.CanvasObject, what string) {
		if s, m := o.Size(), o.MinSize(); s.Width < m.Width-0.5 || s.Height < m.Height-0.5 {
			cut = append(cut, fmt.Sprintf("%s drawn %v, needs %v", what, s, m))
		}
	}
	uitest.Walk(root, func(o fyne.CanvasObject) bool {
		switch w := o.(type) {
		case *widget.Button:
			short(w, fmt.Sprintf("button %q", w.Text))
		case *widget.Label:
			// Labels that truncate or wrap fit any width by design.
			if w.Truncation == fyne.TextTruncateOff && w.Wrapping == fyne.TextWrapOff && w.Text != "" {
				short(w, fmt.Sprintf("label %q", w.Text))
			}
		case *widget.ProgressBar:
			short(w, "progress bar")
		case *widget.Entry:
			if w.MultiLine || w.PlaceHolder == "" {
				break
			}
			// An entry's minimum size leaves out its hint: measure it.
			need := fyne.MeasureText(w.PlaceHolder, theme.TextSize(), w.TextStyle).Width + 2*(theme.InnerPadding()+theme.InputBorderSize())
			if w.Size().Width < need-0.5 {
				cut = append(cut, fmt.Sprintf("entry's hint %q drawn %v wide, needs %v", w.PlaceHolder, w.Size().Width, need))
			}
		}
		return true
	})
	return cut
}

// deviceRows gives the panel n devices, as a run's refresh does.
func deviceRows(p *Panel, n int) {
	p.rows = p.rows[:0]
	for i := range n {
		p.rows = append(p.rows, DeviceRow{ID: fmt.Sprintf("dev-%02d", i), ClientID: fmt.Sprintf("plant-dev-%02d", i), State: StateReconnecting, Sent: 123456})
	}
	p.showDevices()
}

// shownRows counts the device rows the table shows whole, and says
// whether a heading is cut by the table's edge (it scrolls sideways).
func shownRows(p *Panel) (rows int, cutHeading string) {
	table := rectOf(p.dev.table)
	uitest.Walk(p.dev.table, func(o fyne.CanvasObject) bool {
		// A cell's label reaches past the cell by its padding; its text
		// is drawn within the cell.
		cell, ok := o.(*density.Tight)
		if !ok || cell.Label.Text == "" {
			return true
		}
		l, r := cell.Label, rectOf(cell)
		if strings.HasPrefix(l.Text, "dev-") && table.holds(r) {
			rows++
		}
		for c := range numCols {
			if l.Text == colTitle(c) && r.x0 < table.x1 && !table.holds(r) {
				cutHeading = l.Text
			}
		}
		return true
	})
	return rows, cutHeading
}

// At the default window size, in each language, nothing the Devices
// panel shows is cut, the device table shows a useful number of rows
// without scrolling sideways, and the device detail's hint is read whole
// above the command row. The sizes are the panel's part of the window:
// the bar of panels takes up to 120 px (in Russian) and the main menu 30.
func TestLayoutFitsTheDefaultWindow(t *testing.T) {
	for _, tc := range []struct {
		name, locale string
		size         fyne.Size
		minRows      int
	}{
		{"1100x720 en", "en_US.UTF-8", fyne.NewSize(975, 690), 6},
		{"1100x720 ru", "ru_RU.UTF-8", fyne.NewSize(975, 690), 6},
		{"1100x720 zh", "zh_CN.UTF-8", fyne.NewSize(975, 690), 6},
		{"1400x900 ru", "ru_RU.UTF-8", fyne.NewSize(1275, 870), 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := layoutHarness(t, tc.locale, tc.size)
			p := h.panel
			if m := p.Content().MinSize(); m.Width > tc.size.Width || m.Height > tc.size.Height {
				t.Errorf("the panel needs %v, the window gives it %v", m, tc.size)
			}
			deviceRows(p, 40)
			uitest.Relayout(h.win)
			for _, c := range cutWidgets(p.Content()) {
				t.Error(c)
			}
			rows, cutHeading := shownRows(p)
			t.Logf("%d whole rows shown", rows)
			if rows < tc.minRows {
				t.Errorf("the device table shows %d whole rows, want at least %d", rows, tc.minRows)
			}
			if cutHeading != "" {
				t.Errorf("the table's edge cuts its heading %q: it scrolls sideways", cutHeading)
			}
			// The hint to pick a device, under its caption, above the
			// command row.
			hint, cmd := rectOf(p.dev.state), rectOf(p.dev.topic)
			if p.dev.state.Text == "" || hint.y0+p.dev.state.MinSize().Height > cmd.y0+0.5 {
				t.Errorf("the detail's hint %q (y %v, %v high) runs under the command row at y %v",
					p.dev.state.Text, hint.y0, p.dev.state.MinSize().Height, cmd.y0)
			}
		})
	}
}

// Pause turning into Resume moves nothing in the row of run buttons.
func TestPauseResumeHoldsTheRowStill(t *testing.T) {
	h := layoutHarness(t, "ru_RU.UTF-8", fyne.NewSize(975, 690))
	p := h.panel
	h.started(t)
	stop := uitest.AbsPos(p.ctl.stop)
	test.Tap(p.ctl.pause)
	h.q.Until(t, "Resume shown", func() bool { return p.ctl.pause.Text == "Продолжить" })
	uitest.Relayout(h.win)
	if got := uitest.AbsPos(p.ctl.stop); got != stop {
		t.Errorf("Stop moved from %v to %v when Pause became Resume", stop, got)
	}
	for _, c := range cutWidgets(p.Content()) {
		t.Error(c)
	}
}

// The first profile, picked when the panel opens, is shown whole at the
// top of the list, though the list may have no height yet when it is
// picked (the window takes its size later): the list was scrolled by
// part of a profile's height and hid the first one's name.
func TestFirstProfileShownWholeWhenThePanelOpens(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.SetPadded(false)
	q := uitest.NewQueue()
	eng := newFakeEngine()
	// More profiles than the list shows, as the built-in ones are.
	for i := range 6 {
		eng.profiles = append(eng.profiles, ProfileEntry{Name: fmt.Sprintf("more-%d", i), Source: "built-in", BuiltIn: true, YAML: goodYAML})
	}
	p := New(eng, w, Options{Do: q.Do})
	p.debounce, p.interval = 5*time.Millisecond, 5*time.Millisecond
	w.SetContent(p.Content())
	// A list 10 px high, as the window lays the panel out before it
	// takes its size.
	test.WidgetRenderer(p.ed.list).Layout(fyne.NewSize(200, 10))
	p.ed.list.Resize(fyne.NewSize(200, 10))
	h := &harness{win: w, panel: p, eng: eng, q: q}
	h.stop = q.Serve(t, p.Serve)
	h.ready(t)

	w.Resize(fyne.NewSize(975, 690))
	list := rectOf(p.ed.list)
	name := uitest.First(t, p.ed.list, "the first profile's name", func(l *widget.Label) bool { return l.Text == "temperature-sensor" })
	if r := rectOf(name); r.y0 < list.y0-0.5 {
		t.Errorf("the first profile's name is drawn at y %v, above the list's top at %v: scrolled out of view", r.y0, list.y0)
	}
}

// The table's cells cost what their labels take, not fonts of their own:
// drawn dense with a theme override per cell, Fyne parsed its fonts again
// for every cell and kept them: 7 device rows took 284 MB, 8 MB a cell.
func TestTableCellsDoNotEachHoldFonts(t *testing.T) {
	h := layoutHarness(t, "en_US.UTF-8", fyne.NewSize(975, 690))
	p := h.panel
	deviceRows(p, 1)
	uitest.Relayout(h.win)
	h.win.Canvas().Capture() // one row and the headings draw their text styles
	before := uitest.LiveHeap()

	deviceRows(p, 40)
	uitest.Relayout(h.win)
	h.win.Canvas().Capture()
	grown := float64(uitest.LiveHeap()) - float64(before)
	rows, _ := shownRows(p)
	cells := rows * numCols
	t.Logf("%d rows shown: heap +%.1f MB", rows, grown/1e6)
	if rows < 6 {
		t.Fatalf("%d rows shown, want at least 6", rows)
	}
	if perCell := grown / float64(cells); perCell > 256<<10 {
		t.Errorf("showing %d cells grew the heap by %.0f MB, %.2f MB a cell: want under 0.25 MB a cell", cells, grown/1e6, perCell/1e6)
	}
}
