// Package explorer is the Explorer panel of the main window: the live topic
// tree of every message source (engine/topics), built lazily, narrowed by a
// filter, with pause, expand/collapse all and delete-retained actions, and
// a detail view (the inspector) beside it.
//
// # Data flow
//
// The UI goroutine never reads the model. One goroutine (Serve's)
// reads it about ten times a second in a single snapshot (topics.Model.View)
// and hands the result to the UI with Options.Do (fyne.Do):
//
//   - the change set since its last look (topics.View.Changes), narrowed to
//     the nodes whose rows the UI holds, so a burst over 100,000 topics costs
//     the UI only the few dozen rows it actually has;
//   - the child lists of the branches that are open and whose children
//     changed, and whatever the tree asked for and did not have yet (a
//     branch the user just opened): that is the lazy building;
//   - the model's totals for the status line.
//
// The UI keeps what it was sent in plain maps that the widget.Tree callbacks
// read, updates the rows that are on screen directly, and re-lays out the
// tree only when its shape changed (see apply). What the UI wants (open
// branches, the selection, the filter, pause) is handed the other way in
// interest, under a mutex held only for copies.
package explorer

import (
	"fmt"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/numfmt"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// Publisher publishes a message into one source; *broker.Broker (the
// embedded broker) implements it. Publish is called from a background
// goroutine.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
}

// Options are what the panel needs besides the model.
type Options struct {
	// Publisher publishes into the source named PublisherSource, and
	// PublisherFor into any other source (nil when it cannot now, e.g. a
	// connection that is down). Deleting retained messages needs one, so
	// without it that action is disabled for the source's topics.
	Publisher       Publisher
	PublisherSource string
	PublisherFor    func(source string) Publisher
	// Detail is shown right of the tree (the inspector); nil shows the tree
	// alone.
	Detail fyne.CanvasObject
	// OnSelect is called on the UI goroutine with the node the user
	// selected in the tree.
	OnSelect func(topics.NodeID)
	// Do runs a UI update on the Fyne goroutine; nil means fyne.Do. Tests
	// replace it.
	Do func(func())
}

const (
	// refreshInterval is how often the tree takes the model's changes:
	// 12.5 times a second is fluid to the eye and keeps the UI's share of
	// a busy broker's CPU small. It is not 10: the window must refresh at
	// least ten times a second under a 10,000-device fleet (issue 13), and
	// at exactly 10 any one late tick on a busy machine fell short (299 of
	// 300 in 30 s with a single gap of 145 ms).
	refreshInterval = 80 * time.Millisecond
	// highlightFor is how long a changed row stays highlighted, fading out.
	highlightFor = time.Second
	// statusEvery is how often the status line follows the model: a
	// label's refresh lays its text out again, which under load cost as
	// much as all the rows of a refresh, and a rate is read at 2 Hz anyway.
	statusEvery = 500 * time.Millisecond
)

// Panel is the Explorer panel. Create it with New, add it to the main
// window, then call Run once to start the live refresh.
type Panel struct {
	model *topics.Model
	win   fyne.Window
	opts  Options

	// do runs a UI update on the Fyne goroutine (fyne.Do; tests queue it).
	do          func(func())
	interval    time.Duration
	statusEvery time.Duration
	now         func() time.Time // the highlight clock; tests replace it
	serving     atomic.Bool      // while Serve runs
	pending     atomic.Bool      // an update is queued but not yet applied
	kick        chan struct{}    // asks the refresh goroutine for a pass now
	// actions runs what the buttons start until Serve ends, so that
	// quitting cancels them.
	actions shell.Actions

	in interest // shared with the refresh goroutine

	content     fyne.CanvasObject
	split       *container.Split // nil without a detail
	tree        *navTree
	filter      *filterEntry
	filterErr   *widget.Label
	expandBtn   *widget.Button
	collapseBtn *widget.Button
	pauseBtn    *widget.Button
	deleteBtn   *widget.Button
	live        *widget.Label
	status      *widget.Label
	note        *widget.Label

	// Owned by the UI goroutine.
	gen        uint64                      // bumped when everything shown must be re-read
	applied    string                      // the filter text in force
	rows       map[topics.NodeID]rowData   // what the refresh goroutine sent
	kids       map[topics.NodeID][]string  // child UIDs of nodes; 0 is the tree's root
	boundBy    map[topics.NodeID]*row      // the row widget showing each node
	open       map[topics.NodeID]struct{}  // open branches
	lit        map[topics.NodeID]time.Time // changed nodes still highlighted, and when they changed
	expanding  map[topics.NodeID]struct{}  // while expandNodes opens branches, the ones to open
	selected   topics.NodeID
	paused     bool
	pausedAt   uint64 // the model's message count when paused
	stats      topics.Stats
	haveStats  bool
	statusAt   time.Time             // when the status line last followed the model
	deleteDlg  *dialog.ConfirmDialog // the open delete confirmation, for tests
	onApplied  func(tick bool, start time.Time, took time.Duration)
	lastUpdate *update // the last update applied, for tests
}

// New builds the panel over model. w is the window its dialogs and its
// filter's focus belong to. Call it on the UI goroutine; it does not
// read the model.
func New(model *topics.Model, w fyne.Window, opts Options) *Panel {
	p := &Panel{
		model: model, win: w, opts: opts, do: fyne.Do, interval: refreshInterval, statusEvery: statusEvery, now: time.Now,
		kick: make(chan struct{}, 1),
		rows: make(map[topics.NodeID]rowData), kids: make(map[topics.NodeID][]string),
		boundBy: make(map[topics.NodeID]*row), open: make(map[topics.NodeID]struct{}),
		lit: make(map[topics.NodeID]time.Time),
	}
	if opts.Do != nil {
		p.do = opts.Do
	}
	p.in.init()
	p.buildUI()
	return p
}

// Title is the navigation label.
func (p *Panel) Title() string { return lang.L("Explorer") }

// Icon is the navigation icon.
func (p *Panel) Icon() fyne.Resource { return theme.ListIcon() }

// Content is the panel's UI, built once.
func (p *Panel) Content() fyne.CanvasObject { return p.content }

func (p *Panel) buildUI() {
	p.filter = newFilterEntry()
	// Short enough to be read whole in half a 1100 px window.
	p.filter.SetPlaceHolder(lang.L("Filter: text or MQTT filter, e.g. home/+/temp (Ctrl+F)"))
	p.filter.OnChanged = p.onFilterChanged
	p.filterErr = widget.NewLabel("")
	p.filterErr.Importance = widget.DangerImportance
	p.filterErr.Wrapping = fyne.TextWrapWord
	p.filterErr.Hide()
	// Pause and Resume, Live and Paused, take the width of the wider
	// word: the row of buttons sets the tree pane's minimum width, and a
	// wider word moved the split to the inspector by 36 px.
	p.live = widget.NewLabelWithStyle(lang.L("Paused"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	liveW := p.live.MinSize().Width
	p.live.SetText(lang.L("Live"))
	p.live.Importance = widget.SuccessImportance

	p.expandBtn = widget.NewButtonWithIcon(lang.L("Expand all"), theme.MoveDownIcon(), p.onExpandAll)
	p.collapseBtn = widget.NewButtonWithIcon(lang.L("Collapse all"), theme.MoveUpIcon(), p.onCollapseAll)
	p.pauseBtn = widget.NewButtonWithIcon(lang.L("Resume"), theme.MediaPlayIcon(), p.onPause)
	pauseW := p.pauseBtn.MinSize().Width
	p.pauseBtn.SetText(lang.L("Pause"))
	p.pauseBtn.SetIcon(theme.MediaPauseIcon())
	p.deleteBtn = widget.NewButtonWithIcon(lang.L("Delete retained…"), theme.DeleteIcon(), p.onDeleteRetained)
	p.deleteBtn.Disable()
	if p.opts.Publisher == nil && p.opts.PublisherFor == nil {
		p.deleteBtn.Hide()
	}

	// The status wraps rather than cut its end (the number dropped) in
	// a narrow pane.
	p.status = widget.NewLabel(lang.L("Waiting for the topic model…"))
	p.status.Wrapping = fyne.TextWrapWord
	p.note = widget.NewLabel("")
	p.note.Wrapping = fyne.TextWrapWord
	p.note.Hide()

	p.tree = newNavTree(p)

	// The filter gets a row of its own: beside four buttons in half a
	// window it would be too narrow to show a topic filter. Live/Paused
	// heads it rather than the buttons' row, whose width is the tree
	// pane's minimum: with it the row took the inspector's share of a
	// 1100 px window.
	buttons := container.NewHBox(layout.NewSpacer(), p.expandBtn, p.collapseBtn, atLeast(pauseW, p.pauseBtn), p.deleteBtn)
	top := container.NewVBox(container.NewBorder(nil, nil, atLeast(liveW, p.live), nil, p.filter), buttons)
	// Messages that come and go (a filter error, an action's result) sit
	// with the status line in space kept for a line of them and two of
	// status (a busy broker's), so that the tree does not jump when they
	// appear.
	bottom := container.New(&reservedRows{}, p.filterErr, p.note, p.status)
	treePane := container.NewBorder(top, bottom, nil, nil, p.tree)
	if p.opts.Detail == nil {
		p.content = treePane
		return
	}
	p.split = container.NewHSplit(treePane, p.opts.Detail)
	p.split.Offset = 0.5
	p.content = p.split
}

// Split is the divider between the tree and the detail, which the window
// remembers across starts; nil when the panel has no detail.
func (p *Panel) Split() *container.Split { return p.split }

// FocusFilter is the window's Ctrl/Cmd+F: it focuses the filter box with
// its text selected, so that what the user types replaces the old filter.
// It does nothing while the panel is not the one shown: bring it forward
// first.
func (p *Panel) FocusFilter() {
	if !p.content.Visible() || p.win == nil {
		return
	}
	p.win.Canvas().Focus(p.filter)
	p.filter.TypedShortcut(&fyne.ShortcutSelectAll{})
}

// filterEntry is the filter box, which Esc clears, as in the search boxes
// of browsers and file managers.
type filterEntry struct {
	widget.Entry
}

func newFilterEntry() *filterEntry {
	e := &filterEntry{}
	e.ExtendBaseWidget(e)
	return e
}

func (e *filterEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		e.SetText("")
		return
	}
	e.Entry.TypedKey(ev)
}

func (p *Panel) canvas() fyne.Canvas {
	if p.win == nil {
		return nil
	}
	return p.win.Canvas()
}

// onFilterChanged applies the filter as it is typed. Text that is not a
// valid filter is reported and the previous filter stays in force, so the
// tree does not flash empty while a wildcard filter is half typed.
func (p *Panel) onFilterChanged(text string) {
	f, err := topics.ParseFilter(text)
	if err != nil {
		p.filterErr.SetText(lang.L("Filter not applied: ") + err.Error())
		if !p.filterErr.Visible() {
			p.filterErr.Show()
			p.relayout()
		}
		return
	}
	if p.filterErr.Visible() {
		p.filterErr.Hide()
		p.relayout()
	}
	if text == p.applied {
		return
	}
	p.applied = text
	p.gen++
	p.in.set(func(in *interest) { in.gen, in.filter = p.gen, f })
	p.refreshNow()
}

func (p *Panel) onPause() {
	p.paused = !p.paused
	if p.paused {
		p.pausedAt = p.stats.Messages
		p.pauseBtn.SetText(lang.L("Resume"))
		p.pauseBtn.SetIcon(theme.MediaPlayIcon())
		p.live.Importance = widget.WarningImportance
		p.live.SetText(lang.L("Paused"))
	} else {
		p.pauseBtn.SetText(lang.L("Pause"))
		p.pauseBtn.SetIcon(theme.MediaPauseIcon())
		p.live.Importance = widget.SuccessImportance
		p.live.SetText(lang.L("Live"))
	}
	paused := p.paused
	p.in.set(func(in *interest) { in.paused = paused })
	p.showStats()
	if !paused {
		p.refreshNow()
	}
}

// onExpandAll asks the refresh goroutine for the tree's levels, as many as
// fit in expandRows rows (see presenter.expandAll); apply opens them.
func (p *Panel) onExpandAll() {
	p.in.set(func(in *interest) { in.expand = true })
	p.refreshNow()
}

// onCollapseAll closes every branch and forgets every row the UI holds:
// the refresh goroutine stops following them, and memory returns to what
// the roots need.
func (p *Panel) onCollapseAll() {
	p.tree.CloseAllBranches()
	clear(p.open)
	p.gen++
	p.in.set(func(in *interest) {
		in.gen = p.gen
		clear(in.open)
	})
	p.setNote("")
	p.refreshNow()
}

// setNote shows the result of an action under the tree; "" hides it.
func (p *Panel) setNote(text string) {
	if text == p.note.Text && (text != "") == p.note.Visible() {
		return
	}
	p.note.SetText(text)
	if text == "" {
		p.note.Hide()
	} else {
		p.note.Show()
	}
	p.relayout()
}

// relayout lays the panel out again after a part of it appeared or
// vanished; Fyne does not do that when an object is shown or hidden.
func (p *Panel) relayout() {
	p.content.Refresh()
}

// onSelect is the tree's OnSelected.
func (p *Panel) onSelect(uid widget.TreeNodeID) {
	id := nodeID(uid)
	p.selected = id
	p.in.set(func(in *interest) { in.selected = id })
	// fyne's tree focuses itself on a tap only when it is not extended
	// (it looks up its canvas by its inner pointer), so the arrow keys
	// would not reach navTree: focus it here.
	if c := p.canvas(); c != nil && c.Focused() != fyne.Focusable(p.tree) {
		c.Focus(p.tree)
	}
	if _, ok := p.rows[id]; !ok {
		p.want(id, false)
	}
	p.updateButtons()
	if p.opts.OnSelect != nil {
		p.opts.OnSelect(id)
	}
}

// updateButtons enables the actions the selection allows.
func (p *Panel) updateButtons() {
	d, ok := p.rows[p.selected]
	can := ok && p.selected != 0 && d.SubtreeRetained > 0 && p.publisherFor(d.Source) != nil
	setEnabled(p.deleteBtn, can)
}

// publisherFor is what publishes into source, or nil.
func (p *Panel) publisherFor(source string) Publisher {
	if p.opts.Publisher != nil && source == p.opts.PublisherSource {
		return p.opts.Publisher
	}
	if p.opts.PublisherFor != nil {
		return p.opts.PublisherFor(source)
	}
	return nil
}

// showStats writes the status line from the last stats.
func (p *Panel) showStats() {
	if !p.haveStats {
		return
	}
	st := p.stats
	text := statusText(st)
	if u := p.lastUpdate; u != nil && u.filtered {
		text = filterText(u) + " · " + text
	}
	if p.paused {
		text = fmt.Sprintf(lang.L("Paused: %s new messages not shown yet (capture keeps recording) · %s"),
			numfmt.Count(st.Messages-min(st.Messages, p.pausedAt)), text)
	}
	imp := widget.MediumImportance
	if st.Dropped > 0 || st.OverLimit > 0 {
		imp = widget.DangerImportance
	}
	if p.status.Text != text || p.status.Importance != imp {
		p.status.Text, p.status.Importance = text, imp
		p.status.Refresh()
	}
}

func setEnabled(w fyne.Disableable, on bool) {
	if on && w.Disabled() {
		w.Enable()
	} else if !on && !w.Disabled() {
		w.Disable()
	}
}

// atLeast holds o at least w wide, for a widget whose text changes
// between words of different widths.
func atLeast(w float32, o fyne.CanvasObject) fyne.CanvasObject {
	return container.New(minWidth(w), o)
}

type minWidth float32

func (m minWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (m minWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(float32(m), 0)
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// reservedRows stacks its visible objects at its bottom, one under the
// other, in at least the height of a one-line label and a two-line one:
// what is shown there can appear and vanish without moving what is above
// it, unless it needs more lines than were kept.
type reservedRows struct {
	// kept is the height kept, measured at text size textSize: layouts
	// ask for MinSize often, and measuring makes two labels.
	kept, textSize float32
}

func (*reservedRows) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	heights := make([]float32, len(objs))
	var total float32
	for i, o := range objs {
		if !o.Visible() {
			continue
		}
		// A wrapping label's height depends on its width: size it first.
		o.Resize(fyne.NewSize(size.Width, o.MinSize().Height))
		heights[i] = o.MinSize().Height
		total += heights[i]
	}
	y := max(size.Height-total, 0)
	for i, o := range objs {
		if !o.Visible() {
			continue
		}
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, heights[i]))
		y += heights[i]
	}
}

func (r *reservedRows) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		if o.Visible() {
			m := o.MinSize()
			s.Width = max(s.Width, m.Width)
			s.Height += m.Height
		}
	}
	if ts := theme.TextSize(); ts != r.textSize {
		r.kept = widget.NewLabel("1").MinSize().Height + widget.NewLabel("1\n2").MinSize().Height
		r.textSize = ts
	}
	s.Height = max(s.Height, r.kept)
	return s
}
