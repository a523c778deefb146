// Package devices is the Devices panel of the main window: virtual devices
// (issue 13). The user picks a profile (built-in or from their folder) or
// infers one from the capture, edits the scenario file with validation as
// they type (problems at line and column; Start stays disabled while the
// file is invalid) and a preview of device 0's next messages, then runs a
// fleet of N devices against a target, with live stats, a rate chart of
// the last minute and a table of the devices; the selected device's detail
// shows its state and last messages, takes a command and can be killed to
// test its will.
//
// The panel knows the simulator only through Engine and Run, value types
// in, value types out; the window adapts engine/sim to them. Every engine
// call runs off the UI goroutine: validation and preview on a debounced
// worker, stats on a refresh loop (at most 10 a second) and the buttons'
// work on actions, all owned by Serve.
package devices

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// Options are what the panel needs besides the engine.
type Options struct {
	Logger *slog.Logger
	// Do runs a UI update on the Fyne goroutine; nil means fyne.Do. Tests
	// replace it.
	Do func(func())
}

const (
	// refreshInterval paces the stats: 10 a second at most, as the
	// issue's responsiveness target asks, never a backlog (see pending).
	refreshInterval = 100 * time.Millisecond
	// debounce lets a typist finish a word before the file is parsed.
	debounce = 300 * time.Millisecond
	// previewCount is how many of device 0's next messages are shown.
	previewCount = 5
)

// Panel is the Devices panel. Create it with New, add its Content to the
// window, then run Serve once.
type Panel struct {
	eng Engine
	win fyne.Window
	do  func(func())
	log *slog.Logger

	interval time.Duration
	debounce time.Duration

	serving atomic.Bool
	pending atomic.Bool // a stats refresh waits for the UI
	// edits carries the editor's latest text to the validation worker;
	// it holds one, and a newer text replaces an unread one.
	edits chan string
	// actions runs the buttons' engine calls and each run's owner
	// goroutine until Serve ends.
	actions shell.Actions

	// shared between the UI goroutine and the refresh loop.
	mu       sync.Mutex
	live     Run    // the run the refresh loop reads, nil when none
	selected string // the device whose detail is shown

	// Owned by the UI goroutine.
	profiles []ProfileEntry
	loaded   string // the editor's text as last loaded or saved
	checked  string // the text problems/valid describe
	problems []Problem
	valid    bool
	phase    phase
	run      Run // the current run, nil when idle or starting
	paused   bool
	rows     []DeviceRow
	rates    []ratePoint
	wantedN  int    // the count the current run was started with
	outcome  status // the last run's outcome, shown when idle
	// connected and wanted are the last stats', for the progress bar.
	connected, wanted int

	content fyne.CanvasObject
	ed      editorWidgets
	ctl     controlWidgets
	st      statsWidgets
	dev     deviceWidgets
}

// phase is where the run controls are.
type phase int

const (
	idle     phase = iota
	starting       // Engine.Start is running
	running
	stopping // Stop pressed, waiting for the run to end
)

// New builds the panel over eng. w is the window its dialogs belong to.
// Call it on the UI goroutine; the profiles and targets are read by Serve.
func New(eng Engine, w fyne.Window, opts Options) *Panel {
	p := &Panel{
		eng: eng, win: w, do: fyne.Do, log: opts.Logger,
		interval: refreshInterval, debounce: debounce,
		edits: make(chan string, 1),
	}
	if opts.Do != nil {
		p.do = opts.Do
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.buildUI()
	p.updateControls()
	p.showStats(FleetStats{}, false)
	return p
}

// Title is the navigation label.
func (p *Panel) Title() string { return lang.L("Devices") }

// Icon is the navigation icon.
func (p *Panel) Icon() fyne.Resource { return theme.GridIcon() }

// Content is the panel's UI, built once.
func (p *Panel) Content() fyne.CanvasObject { return p.content }

// Serve loads the profiles and targets, then validates the editor as it
// changes and refreshes a run's stats until ctx is done; then it stops
// the run, waits for the actions and returns nil. Only one Serve may be
// active at a time.
func (p *Panel) Serve(ctx context.Context) error {
	if !p.serving.CompareAndSwap(false, true) {
		return errors.New("devices panel: Serve called while the panel is already serving")
	}
	defer p.serving.Store(false)
	p.loadLists()
	var wg sync.WaitGroup
	wg.Go(func() { p.validateLoop(ctx) })
	p.refreshLoop(ctx)
	wg.Wait()
	p.actions.Stop()
	return nil
}

// loadLists reads the profiles and targets; the first profile fills an
// empty editor, so the panel opens on something that runs.
func (p *Panel) loadLists() {
	profiles := p.eng.Profiles()
	targets := p.eng.Targets()
	p.do(func() {
		p.setProfiles(profiles)
		p.setTargets(targets)
		if p.ed.text.Text == "" && len(profiles) > 0 {
			p.ed.list.Select(0)
			// Select scrolls the list to show the pick in the height it
			// has now, maybe none yet: the first profile's name was left
			// above the top once the window took its size.
			p.ed.list.ScrollToOffset(0)
		}
	})
}

// RefreshTargets reads the targets again; the window calls it when the
// saved connections change. It may be called from any goroutine, while
// Serve runs.
func (p *Panel) RefreshTargets() {
	p.actions.Go(func(context.Context) {
		targets := p.eng.Targets()
		p.do(func() { p.setTargets(targets) })
	})
}

// setTargets offers targets, keeping the chosen one if it is still there,
// else choosing the first (the embedded broker).
func (p *Panel) setTargets(targets []string) {
	sel := p.ctl.target
	targets = localname.Labels(targets) // the window's own broker in the window's language
	sel.SetOptions(targets)
	switch {
	case slices.Contains(targets, sel.Selected):
	case len(targets) > 0:
		sel.SetSelected(targets[0])
	default:
		sel.ClearSelected()
	}
	p.updateControls()
}

func (p *Panel) buildUI() {
	editor := p.buildEditor()
	controls := p.buildControls()
	stats := p.buildStats()
	devices := p.buildDevices()

	top := container.NewHSplit(p.buildProfiles(), editor)
	top.Offset = 0.2
	runArea := container.NewBorder(container.NewVBox(controls, stats), nil, nil, nil, devices)
	split := container.NewVSplit(top, runArea)
	split.Offset = 0.34
	p.content = split
}

// shared returns what the refresh loop reads.
func (p *Panel) shared() (Run, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live, p.selected
}

func (p *Panel) setLive(r Run) {
	p.mu.Lock()
	p.live = r
	p.mu.Unlock()
}

func (p *Panel) setSelected(id string) {
	p.mu.Lock()
	p.selected = id
	p.mu.Unlock()
}

func setText(l *widget.Label, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}

func setEnabled(w fyne.Disableable, on bool) {
	if on && w.Disabled() {
		w.Enable()
	} else if !on && !w.Disabled() {
		w.Disable()
	}
}

// statusLabel is a one-line label that truncates rather than wraps, so a
// long message never changes the layout's height.
func statusLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

func setStatus(l *widget.Label, text string, imp widget.Importance) {
	if l.Text != text || l.Importance != imp {
		l.Text, l.Importance = text, imp
		l.Refresh()
	}
}

// status is a status line's text and importance.
type status struct {
	text string
	imp  widget.Importance
}
