// Package bridgeview is the Bridges panel of the main window: its one job is
// to show the bridges to other brokers (engine/bridge) with their state,
// counters and last error in plain words, and to edit the bridges file they
// run from, checked line by line before it is applied.
package bridgeview

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/bridge"
	"github.com/iotstudio/iotstudio/ui/numfmt"
	"github.com/iotstudio/iotstudio/ui/tablefit"
)

// Source runs the bridges. Stats is called from the panel's goroutine;
// File, Check and Apply on the UI goroutine (they read and write one small
// file and start or stop connections without waiting for them).
type Source interface {
	Stats() []bridge.Stats
	// File is the bridges file's path and text: an example to start from
	// when there is none yet.
	File() (path, text string)
	// Check parses text as the bridges file; the error says each problem
	// at its line.
	Check(text string) error
	// Apply saves text as the bridges file and runs what it says.
	Apply(text string) error
	// LoadErr is why the file could not be run at start, or nil.
	LoadErr() error
	// Rules are the running bridge's rules, by bridge name.
	Rules(bridge string) []bridge.Rule
}

// Options are what the panel needs besides its source.
type Options struct {
	Do       func(func()) // fyne.Do when nil; tests queue it
	Interval time.Duration
}

// Panel is the Bridges panel.
type Panel struct {
	src      Source
	win      fyne.Window
	do       func(func())
	interval time.Duration

	stats    []bridge.Stats // UI goroutine
	selected string         // the bridge whose detail shows; UI goroutine
	table    *widget.Table
	note     *widget.Label
	// detail shows the selected bridge's rules one per line and its last
	// error whole: the table has room for the first rule and the start
	// of the error.
	detail  *widget.Label
	content fyne.CanvasObject
}

// New builds the panel for w.
func New(src Source, w fyne.Window, opts Options) *Panel {
	p := &Panel{src: src, win: w, do: opts.Do, interval: opts.Interval}
	if p.do == nil {
		p.do = fyne.Do
	}
	if p.interval <= 0 {
		p.interval = time.Second
	}
	p.build()
	return p
}

func (p *Panel) Title() string              { return lang.L("Bridges") }
func (p *Panel) Icon() fyne.Resource        { return theme.MailForwardIcon() }
func (p *Panel) Content() fyne.CanvasObject { return p.content }

// headers are made when the table is: the translations are registered
// after package initialisation.
func headers() []string {
	return []string{lang.L("Bridge"), lang.L("State"), lang.L("Rules"), lang.L("Sent out"), lang.L("Brought in"), lang.L("Queued"), lang.L("Dropped"), lang.L("Last error")}
}

// Columns of the table; Rules and Last error share what the others leave.
const (
	colRules     = 2
	colLastError = 7
	columns      = 8
)

// columnWidths sizes the columns to a table width in the language shown:
// each fixed column as wide as its header in bold or its widest usual
// value (a bridge's name, the longest state word), whichever is wider, and
// Rules and Last error sharing the rest, 55:45, so the table fits the
// panel without a horizontal scroll bar. At a width too small for that,
// every column keeps its header whole and the table scrolls.
func columnWidths(heads, states []string, width, gap float32) []float32 {
	ws := make([]float32, columns)
	fixed := float32(0)
	for i, h := range heads {
		ws[i] = tablefit.HeadingWidth(h)
		switch i {
		case 0:
			ws[i] = max(ws[i], 120)
		case 1:
			for _, st := range states {
				ws[i] = max(ws[i], tablefit.TextWidth(st))
			}
		}
		if i != colRules && i != colLastError {
			fixed += ws[i]
		}
	}
	rest := width - fixed - float32(columns)*gap
	ws[colRules] = max(ws[colRules], rest*0.55)
	ws[colLastError] = max(ws[colLastError], rest-ws[colRules])
	return ws
}

func (p *Panel) build() {
	p.note = widget.NewLabel("")
	p.note.Wrapping = fyne.TextWrapWord
	p.table = widget.NewTable(
		func() (int, int) { return len(p.stats), columns },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		p.updateCell)
	p.table.ShowHeaderRow = true
	p.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	heads := headers()
	p.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(heads[id.Col]) }
	p.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(p.stats) {
			p.selected = p.stats[id.Row].Name
			p.showDetail()
		}
	}
	p.detail = widget.NewLabel("")
	p.detail.Wrapping = fyne.TextWrapWord
	p.detail.Selectable = true
	edit := widget.NewButtonWithIcon(lang.L("Edit bridges…"), theme.DocumentCreateIcon(), p.showEditor)
	top := container.NewBorder(nil, nil, nil, edit, p.note)
	bottom := container.NewVBox(widget.NewSeparator(), p.detail)
	p.content = container.NewBorder(top, bottom, nil, nil, tablefit.Fit(p.table, func(width, gap float32) []float32 {
		states := []string{stateWord(bridge.StateConnected), stateWord(bridge.StateConnecting), stateWord(bridge.StateDown), stateWord(bridge.StateStopped)}
		return columnWidths(headers(), states, width, gap)
	}))
	p.show(p.src.Stats())
}

func (p *Panel) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	if id.Row >= len(p.stats) {
		l.SetText("")
		return
	}
	st := p.stats[id.Row]
	l.Importance = widget.MediumImportance
	switch id.Col {
	case 0:
		l.SetText(st.Name)
	case 1:
		l.SetText(stateWord(st.State))
		l.Importance = stateImportance(st.State)
	case 2:
		l.SetText(rulesText(p.src.Rules(st.Name)))
	case 3:
		l.SetText(numfmt.Count(st.ForwardedOut))
	case 4:
		l.SetText(numfmt.Count(st.ForwardedIn))
	case 5:
		l.SetText(numfmt.Count(st.Queued))
	case 6:
		l.SetText(numfmt.Count(st.Dropped))
		if st.Dropped > 0 {
			l.Importance = widget.WarningImportance
		}
	default:
		l.SetText(st.LastError)
		if st.LastError != "" {
			l.Importance = widget.DangerImportance
		}
	}
	l.Refresh()
}

func stateWord(s bridge.State) string {
	switch s {
	case bridge.StateConnected:
		return lang.L("Connected")
	case bridge.StateConnecting:
		return lang.L("Connecting")
	case bridge.StateDown:
		return lang.L("Down")
	}
	return lang.L("Stopped")
}

func stateImportance(s bridge.State) widget.Importance {
	switch s {
	case bridge.StateConnected:
		return widget.SuccessImportance
	case bridge.StateDown:
		return widget.DangerImportance
	}
	return widget.MediumImportance
}

// show lists stats and says what runs; UI goroutine.
func (p *Panel) show(stats []bridge.Stats) {
	p.stats = stats
	p.table.Refresh()
	p.showDetail()
	path, _ := p.src.File()
	switch err := p.src.LoadErr(); {
	case err != nil && len(stats) == 0:
		p.note.Importance = widget.DangerImportance
		p.note.SetText(lang.L("The bridges file could not be run:") + " " + err.Error())
	case len(stats) == 0:
		p.note.Importance = widget.MediumImportance
		p.note.SetText(lang.X("No bridges. A bridge joins this broker to another one (a team's EMQX, HiveMQ or Mosquitto) through a saved connection; Edit bridges… starts from an example. Kept in {{.Path}}.",
			"No bridges. A bridge joins this broker to another one (a team's EMQX, HiveMQ or Mosquitto) through a saved connection; Edit bridges… starts from an example. Kept in {{.Path}}.",
			map[string]any{"Path": path}))
	default:
		p.note.Importance = widget.MediumImportance
		p.note.SetText(fmt.Sprintf("%s %s", lang.L("Bridges run from"), path))
	}
}

// showDetail says the selected bridge's state, every rule and its last
// error; UI goroutine.
func (p *Panel) showDetail() {
	for _, st := range p.stats {
		if st.Name == p.selected {
			p.detail.SetText(detailText(st, p.src.Rules(st.Name)))
			return
		}
	}
	p.selected = ""
	text := ""
	if len(p.stats) > 0 {
		text = lang.L("Select a bridge to see all its rules and its last error.")
	}
	p.detail.SetText(text)
}

// detailText is a bridge's name and state, its rules one per line, and
// its last error whole.
func detailText(st bridge.Stats, rules []bridge.Rule) string {
	lines := []string{st.Name + " — " + stateWord(st.State)}
	for _, r := range rules {
		lines = append(lines, ruleText(r))
	}
	if st.LastError != "" {
		lines = append(lines, lang.L("Last error")+": "+st.LastError)
	}
	return strings.Join(lines, "\n")
}

// Serve refreshes the counters every interval until ctx ends.
func (p *Panel) Serve(ctx context.Context) error {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			st := p.src.Stats()
			p.do(func() { p.show(st) })
		}
	}
}

// showEditor edits the bridges file: Check says each problem at its line,
// Save and apply runs it; nothing is saved that does not check.
func (p *Panel) showEditor() {
	path, text := p.src.File()
	entry := widget.NewMultiLineEntry()
	entry.SetText(text)
	entry.TextStyle = fyne.TextStyle{Monospace: true}
	entry.Wrapping = fyne.TextWrapOff
	result := widget.NewLabel(path)
	result.Wrapping = fyne.TextWrapWord
	say := func(err error, ok string) bool {
		if err != nil {
			result.Importance = widget.DangerImportance
			result.SetText(lang.L("The bridges file has a problem: ") + err.Error())
			return false
		}
		result.Importance = widget.SuccessImportance
		result.SetText(ok)
		return true
	}
	var d dialog.Dialog
	check := widget.NewButtonWithIcon(lang.L("Check"), theme.ConfirmIcon(), func() {
		say(p.src.Check(entry.Text), lang.L("No problems found."))
	})
	apply := widget.NewButtonWithIcon(lang.L("Save and apply"), theme.DocumentSaveIcon(), func() {
		if say(p.src.Apply(entry.Text), lang.L("Saved; the bridges run as the file says.")) {
			d.Hide()
			p.show(p.src.Stats())
		}
	})
	apply.Importance = widget.HighImportance
	body := container.NewBorder(nil, container.NewVBox(result, container.NewHBox(check, apply)), nil, nil, container.NewScroll(entry))
	d = dialog.NewCustom(lang.L("Bridges file"), lang.L("Cancel"), body, p.win)
	d.Resize(fyne.NewSize(900, 620))
	d.Show()
}

// rulesText says a bridge's rules in one line: which way, what maps to
// what, at which QoS ("plant/# → site1/plant/# Q1; plant/cmd/# ← site1/cmd/# Q1").
func rulesText(rules []bridge.Rule) string {
	var parts []string
	for _, r := range rules {
		parts = append(parts, ruleText(r))
	}
	return strings.Join(parts, "; ")
}

func ruleText(r bridge.Rule) string {
	arrow := map[bridge.Direction]string{bridge.Out: " → ", bridge.In: " ← ", bridge.Both: " ↔ "}[r.Direction]
	return fmt.Sprintf("%s%s%s Q%d", r.Local, arrow, r.Remote, r.QoS)
}
