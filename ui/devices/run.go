package devices

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// maxCount bounds the fleet size field: far above what one machine runs
// (the issue measures 10,000), low enough to catch a typo's extra zeros.
const maxCount = 1_000_000

type controlWidgets struct {
	count  *widget.Entry
	target *widget.Select
	start  *widget.Button
	pause  *widget.Button
	stop   *widget.Button
	status *widget.Label
}

func (p *Panel) buildControls() fyne.CanvasObject {
	c := &p.ctl
	c.count = widget.NewEntry()
	c.count.SetPlaceHolder(lang.L("as in file"))
	c.count.OnChanged = func(string) { p.updateControls() }
	c.target = widget.NewSelect(nil, func(string) { p.updateControls() })
	c.target.PlaceHolder = lang.L("(no target)")
	c.start = widget.NewButtonWithIcon(lang.L("Start"), theme.MediaPlayIcon(), p.onStart)
	c.start.Importance = widget.HighImportance
	c.pause = widget.NewButtonWithIcon(lang.L("Pause"), theme.MediaPauseIcon(), p.onPause)
	c.stop = widget.NewButtonWithIcon(lang.L("Stop"), theme.MediaStopIcon(), p.onStop)
	c.status = statusLabel()
	sizeLabel := widget.NewLabel(lang.L("Devices"))
	// The count's box is as wide as its hint or the largest count, in the
	// theme of the moment: a fixed 90 px cut "как в файле".
	count := container.New(atLeast(func() fyne.Size {
		return fyne.NewSize(max(entryWidth(c.count.PlaceHolder), entryWidth(numfmt.Count(maxCount))), 0)
	}), c.count)
	target := container.New(layout.NewGridWrapLayout(fyne.NewSize(200, c.target.MinSize().Height)), c.target)
	// Pause keeps the width of Resume, so the row holds still when it
	// changes.
	resume := widget.NewButtonWithIcon(lang.L("Resume"), theme.MediaPlayIcon(), nil)
	pause := container.New(atLeast(resume.MinSize), c.pause)
	// The run status is shown beside the progress bar (buildStats): after
	// the buttons, in Russian, this row left it about 100 px.
	return container.NewHBox(sizeLabel, count, widget.NewLabel(lang.L("to")), target, c.start, pause, c.stop)
}

// atLeast lays out its one object at its minimum size or min(), the
// larger: a box that holds still when its text changes and shows the
// longest whole. min is read at each layout, in the theme of the moment.
type atLeast func() fyne.Size

func (l atLeast) MinSize(objs []fyne.CanvasObject) fyne.Size { return objs[0].MinSize().Max(l()) }

func (l atLeast) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(size)
}

// entryWidth is the width a one-line entry needs to show s whole: the
// text and, each side, the entry's border and its text's inner padding.
// An entry's minimum size leaves its hint out.
func entryWidth(s string) float32 {
	text := fyne.MeasureText(s, theme.TextSize(), fyne.TextStyle{}).Width
	return text + 2*(theme.InnerPadding()+theme.InputBorderSize()) + 1 // rounding
}

// fleetSize reads the fleet size field: 0, when it is empty, keeps the
// counts the file gives.
func (p *Panel) fleetSize() (int, error) {
	s := strings.ReplaceAll(strings.TrimSpace(p.ctl.count.Text), ",", "")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxCount {
		return 0, errors.New(lang.X("the fleet size must be a whole number from 1 to {{.Max}}, or empty for the file's", "the fleet size must be a whole number from 1 to {{.Max}}, or empty for the file's", map[string]any{"Max": numfmt.Count(maxCount)}))
	}
	return n, nil
}

// updateControls enables what the run's phase and the form allow, and
// says in the status line why Start is disabled.
func (p *Panel) updateControls() {
	c := &p.ctl
	_, countErr := p.fleetSize()
	canStart := p.phase == idle && p.valid && countErr == nil && c.target.Selected != ""
	setEnabled(c.start, canStart)
	setEnabled(c.pause, p.phase == running)
	setEnabled(c.stop, p.phase == running || p.phase == starting)
	setEnabled(c.count, p.phase == idle)
	setEnabled(c.target, p.phase == idle)
	text, icon := lang.L("Pause"), theme.MediaPauseIcon()
	if p.paused {
		text, icon = lang.L("Resume"), theme.MediaPlayIcon()
	}
	if c.pause.Text != text {
		c.pause.Text, c.pause.Icon = text, icon
		c.pause.Refresh()
	}
	switch {
	case p.phase != idle:
		// the run's own status stands
	case countErr != nil:
		setStatus(c.status, countErr.Error()+".", widget.DangerImportance)
	case c.target.Selected == "":
		setStatus(c.status, lang.L("Choose where the devices connect."), widget.WarningImportance)
	case !p.valid && p.checked == p.ed.text.Text && len(p.problems) > 0:
		setStatus(c.status, lang.L("Fix the scenario's problems to start."), widget.WarningImportance)
	default:
		setStatus(c.status, p.outcome.text, p.outcome.imp)
	}
}

// say sets the run status line and, while no run is on, keeps it as the
// outcome shown when nothing blocks Start.
func (p *Panel) say(text string, imp widget.Importance) {
	p.outcome = status{text, imp}
	setStatus(p.ctl.status, text, imp)
}

func (p *Panel) onStart() {
	n, err := p.fleetSize()
	target := p.ctl.target.Selected // a label
	if p.phase != idle || !p.valid || err != nil || target == "" {
		return
	}
	text := p.ed.text.Text
	p.phase, p.paused, p.wantedN = starting, false, n
	p.rows, p.rates = nil, nil
	p.st.chart.set(nil)
	p.dev.table.UnselectAll()
	p.selectDevice("")
	p.showDevices()
	p.say(fmt.Sprintf(lang.L("Starting %s on %s…"), p.fleetText(), target), widget.MediumImportance)
	p.updateControls()
	if !p.actions.Go(func(ctx context.Context) { p.own(ctx, text, n, localname.Name(target)) }) {
		p.ended(nil, errors.New(lang.L("the panel is closing")))
	}
}

// own starts a run and owns it until it ends: when Stop is pressed, the
// run fails, or Serve ends (then it stops the run itself).
func (p *Panel) own(ctx context.Context, text string, n int, target string) {
	if problems := p.eng.Validate(text); len(problems) > 0 {
		p.do(func() {
			p.applyCheck(text, problems, nil, nil)
			p.ended(nil, fmt.Errorf("%s %v", lang.L("the scenario has problems:"), problems[0]))
		})
		return
	}
	r, err := p.eng.Start(ctx, text, n, target)
	if err != nil {
		p.do(func() { p.ended(nil, err) })
		return
	}
	p.setLive(r)
	p.do(func() { p.started(r) })
	select {
	case <-r.Done():
	case <-ctx.Done():
		r.Stop()
		<-r.Done()
	}
	p.setLive(nil)
	if ctx.Err() != nil {
		// Serve ended: the window is closing and its UI loop may be gone,
		// so there is no one to show the end to.
		return
	}
	final, err := r.Stats(), r.Err()
	p.do(func() { p.ended(&final, err) })
}

func (p *Panel) started(r Run) {
	if p.phase == stopping {
		// Stop was pressed while Start ran: end the run now.
		p.run = r
		p.actions.Go(func(context.Context) { r.Stop() })
		return
	}
	p.phase, p.run = running, r
	p.showDetail(detail{id: p.selectedID()})
	p.say(fmt.Sprintf(lang.L("Running %s on %s."), p.fleetText(), p.ctl.target.Selected), widget.MediumImportance)
	p.updateControls()
}

// ended shows how a run ended; final is nil when it never started.
func (p *Panel) ended(final *FleetStats, err error) {
	p.phase, p.run, p.paused = idle, nil, false
	if err != nil {
		p.log.Warn("devices: fleet run", "target", localname.Name(p.ctl.target.Selected), "started", final != nil, "error", err)
	}
	switch {
	case err != nil && final == nil:
		p.say(lang.L("Not started: ")+err.Error(), widget.DangerImportance)
	case err != nil:
		p.say(lang.L("The run ended: ")+err.Error(), widget.DangerImportance)
	default:
		p.say(lang.L("Stopped."), widget.MediumImportance)
	}
	if final != nil {
		p.showStats(*final, true)
	}
	p.showDetail(detail{})
	p.updateControls()
}

func (p *Panel) onStop() {
	switch p.phase {
	case running:
		r := p.run
		p.phase = stopping
		p.say(lang.L("Stopping: devices say offline and disconnect…"), widget.MediumImportance)
		p.actions.Go(func(context.Context) { r.Stop() })
	case starting:
		p.phase = stopping
		p.say(lang.L("Stopping…"), widget.MediumImportance)
	}
	p.updateControls()
}

func (p *Panel) onPause() {
	if p.phase != running {
		return
	}
	r, pause := p.run, !p.paused
	p.paused = pause
	p.actions.Go(func(context.Context) {
		if pause {
			r.Pause()
		} else {
			r.Resume()
		}
	})
	if pause {
		p.say(lang.L("Paused: devices stay connected and send nothing."), widget.WarningImportance)
	} else {
		p.say(fmt.Sprintf(lang.L("Running %s on %s."), p.fleetText(), p.ctl.target.Selected), widget.MediumImportance)
	}
	p.updateControls()
}

// snapshot is what one refresh reads from a run, off the UI goroutine.
type snapshot struct {
	run     Run
	stats   FleetStats
	devices []DeviceRow
	// hasDevices: devices were read this time (a list of 10,000 is
	// copied a few times a second, not ten)
	hasDevices bool
	detail     detail
	at         time.Time
}

// devicesEvery is how many stats refreshes read the device list once.
const devicesEvery = 5

// refreshLoop reads the live run's stats every p.interval until ctx ends,
// skipping a tick while the previous one still waits for the UI.
func (p *Panel) refreshLoop(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	var last Run
	ticks := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r, sel := p.shared()
		if r == nil || !p.pending.CompareAndSwap(false, true) {
			continue
		}
		s := snapshot{run: r, stats: r.Stats(), at: time.Now()}
		if r != last || ticks%devicesEvery == 0 {
			s.devices, s.hasDevices = r.Devices(), true
		}
		last, ticks = r, ticks+1
		if sel != "" {
			s.detail.id = sel
			s.detail.state, s.detail.last = r.DeviceState(sel)
		}
		p.do(func() {
			p.pending.Store(false)
			p.apply(s)
		})
	}
}

// apply shows a snapshot of the current run; one of an ended run is
// dropped.
func (p *Panel) apply(s snapshot) {
	if s.run != p.run {
		return
	}
	p.addRate(s.at, s.stats.Rate)
	p.showStats(s.stats, true)
	if s.hasDevices {
		p.rows = s.devices
		p.showDevices()
	}
	if s.detail.id == p.selectedID() {
		p.showDetail(s.detail)
	}
}

// fleetText names what the run started: N devices, or the file's fleets.
func (p *Panel) fleetText() string {
	if p.wantedN == 0 {
		return lang.L("the file's fleets")
	}
	return numfmt.Plural(p.wantedN, "device", "devices")
}
