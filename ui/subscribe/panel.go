// Package subscribe is the Subscribe panel of the main window: on any open
// connection of a client.Manager (the embedded broker included, through
// its "local" connection), add subscriptions with MQTT 5 options, see the
// broker's answer to each, and watch the messages they bring in a list
// coloured by subscription.
//
// # Data flow
//
// The app tees the Manager's sink into Panel.Ingest, which copies the
// record into a store of the newest messages, capped by count and bytes,
// under a mutex held for a few assignments: it never waits for the UI.
// One goroutine (Serve's) takes what arrived about ten times a
// second, gives each message the colour of the most specific subscription
// it matches, extends the list's view (the selected connection's messages
// that pass the text filter) and hands it to the UI in one Options.Do call
// per pass, and only when the UI has applied the previous one. Older
// messages leave the store, not the capture.
package subscribe

import (
	"image/color"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/density"
	"github.com/iotstudio/iotstudio/ui/msgline"
)

// Options are what the panel needs besides the Manager.
type Options struct {
	// MaxMessages and MaxBytes cap the messages the list keeps in memory
	// (defaults DefaultMaxMessages and DefaultMaxBytes); older ones are
	// only in the capture.
	MaxMessages int
	MaxBytes    int64
	// Do runs a UI update on the Fyne goroutine; nil means fyne.Do. Tests
	// replace it.
	Do func(func())
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Kept remembers the subscriptions made here, by connection, and the
	// panel makes them again when that connection is next opened; nil
	// keeps nothing.
	Kept *client.KeptSubscriptions
}

const (
	DefaultMaxMessages = 10_000
	DefaultMaxBytes    = 64 << 20
	// refreshInterval: about ten list updates a second look live and keep
	// a burst from costing the UI more than a few batches.
	refreshInterval = 100 * time.Millisecond
)

// Panel is the Subscribe panel. Create it with New on the UI goroutine,
// add it to the main window, call Run once, and feed it with Ingest.
type Panel struct {
	mgr   *client.Manager
	kept  *client.KeptSubscriptions // nil: keep nothing
	win   fyne.Window
	log   *slog.Logger
	store *store
	in    interest
	// sources are the open connections' names, for Ingest.
	sources atomic.Pointer[map[string]bool]

	do       func(func())
	interval time.Duration
	now      func() time.Time
	serving  atomic.Bool // while Serve runs
	pending  atomic.Bool // an update is queued but not yet applied
	kick     chan struct{}
	actions  actions

	content       fyne.CanvasObject
	top           *fyne.Container // connection, form and subscriptions
	connSelect    *widget.Select
	connState     *widget.Label
	filter        *widget.Entry
	filterErr     *widget.Label
	qos           *widget.Select
	noLocal       *widget.Check
	rap           *widget.Check
	retain        *widget.Select
	v5Note        *widget.Label
	v5Opts        *fyne.Container // the MQTT 5 options, hidden while v5Note says why they are off
	pauseW        float32         // the pause button's width, Resume's
	subscribeBtn  *widget.Button
	formMsg       *widget.Label
	subsBox       *fyne.Container
	subRows       []*subRow
	textFilter    *widget.Entry
	pauseBtn      *widget.Button
	clearBtn      *widget.Button
	status        *widget.Label
	list          *widget.List
	rowMin        float32 // a message row's height, once measured
	detailMeta    *widget.Label
	detailPayload *widget.List
	detail        *decode.Result

	// Owned by the UI goroutine.
	conns     []connInfo
	source    string                                 // the selected connection
	answers   map[string]map[string]client.SubResult // SUBACKs this panel got, by connection and filter
	restored  map[string]*client.Connection          // connections given their kept subscriptions
	view      []*entry                               // listed messages, oldest first
	selected  *entry
	selecting bool // the list's selection is being moved to follow selected
	paused    bool
	pausedAt  int64 // messages received when Pause was pressed
	counts    counts
	onApplied func(*update) // tests
}

// New builds the panel over mgr. w is the window it belongs to. Call it
// on the UI goroutine.
func New(mgr *client.Manager, w fyne.Window, opts Options) *Panel {
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = DefaultMaxMessages
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	p := &Panel{
		mgr: mgr, kept: opts.Kept, win: w, log: opts.Logger, store: newStore(opts.MaxMessages, opts.MaxBytes),
		do: fyne.Do, interval: refreshInterval, now: time.Now,
		kick:    make(chan struct{}, 1),
		answers: map[string]map[string]client.SubResult{}, restored: map[string]*client.Connection{},
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if opts.Do != nil {
		p.do = opts.Do
	}
	p.refreshSources()
	p.buildUI()
	return p
}

// Title is the navigation label.
func (p *Panel) Title() string { return lang.L("Subscribe") }

// Icon is the navigation icon.
func (p *Panel) Icon() fyne.Resource { return theme.DownloadIcon() }

// Content is the panel's UI, built once.
func (p *Panel) Content() fyne.CanvasObject { return p.content }

// Ingest takes a message a connection received (Message.Source is the
// connection's name). It never blocks and never refuses one: when
// messages come faster than the list keeps, the oldest leave memory (they
// are counted and stay in the capture). Records from sources that are not
// open connections are ignored. It is safe to call from any goroutine.
func (p *Panel) Ingest(r message.Message) bool {
	if (*p.sources.Load())[r.Source] {
		p.store.add(r, p.now())
	}
	return true
}

// poke asks the refresh goroutine for a pass now (the user changed what
// is shown).
func (p *Panel) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *Panel) buildUI() {
	p.buildForm()
	p.buildMessages()

	subsScroll := container.NewVScroll(p.subsBox)
	subsScroll.SetMinSize(fyne.NewSize(0, 110))
	p.top = container.NewVBox(
		container.NewBorder(nil, nil, container.NewHBox(widget.NewLabel(lang.L("Connection")), p.connSelect), nil, p.connState),
		container.NewBorder(nil, nil, widget.NewLabel(lang.L("Topic filter")),
			container.NewHBox(container.NewGridWrap(fyne.NewSize(200, p.qos.MinSize().Height), p.qos), p.subscribeBtn), p.filter),
		p.optionsRow(),
		// One line kept for the filter's error or the last answer, so
		// that the lists below do not jump when one appears.
		msgline.Reserve(1, p.filterErr, p.formMsg),
		widget.NewLabelWithStyle(lang.L("Subscriptions"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		subsScroll, widget.NewSeparator(),
	)
	pause := container.NewGridWrap(fyne.NewSize(p.pauseW, p.pauseBtn.MinSize().Height), p.pauseBtn)
	bar := container.NewBorder(nil, nil, nil, container.NewHBox(pause, p.clearBtn), p.textFilter)
	messages := container.NewBorder(container.NewVBox(bar, p.status), nil, nil, nil, density.Dense(p.list))
	detail := container.NewBorder(p.detailMeta, nil, nil, nil, p.detailPayload)
	split := container.NewHSplit(messages, detail)
	split.Offset = 0.6
	p.content = container.NewBorder(p.top, nil, nil, nil, split)
	p.showConn()
	p.showStatus()
}

// optionsRow holds the MQTT 5 options, or in their place, on an MQTT
// 3.1.1 connection, the note that says why they are off: the note takes
// no line of its own that would push the lists down.
func (p *Panel) optionsRow() fyne.CanvasObject {
	// The retain choice gets the width of its longest wording.
	var w float32
	for _, s := range retainWords() {
		w = max(w, fyne.MeasureText(s, theme.TextSize(), fyne.TextStyle{}).Width)
	}
	w += 2*theme.InnerPadding() + theme.IconInlineSize() + 2*theme.Padding()
	opts := container.NewHBox(p.noLocal, p.rap, widget.NewLabel(lang.L("Retain handling")),
		container.NewGridWrap(fyne.NewSize(w, p.retain.MinSize().Height), p.retain))
	p.v5Opts = opts
	keep := canvas.NewRectangle(color.Transparent)
	keep.SetMinSize(fyne.NewSize(0, opts.MinSize().Height))
	return container.NewStack(keep, opts, p.v5Note)
}

func (p *Panel) buildMessages() {
	p.textFilter = widget.NewEntry()
	p.textFilter.SetPlaceHolder(lang.L("Show only messages whose topic or payload contains…"))
	p.textFilter.OnChanged = func(s string) {
		p.in.set(func(k *viewKey, _ *bool) { k.text = lowerText(s) })
		p.poke()
	}
	// Resume is the wider word: the button keeps its width, so that the
	// filter box beside it does not shrink when it changes.
	p.pauseBtn = widget.NewButtonWithIcon(lang.L("Resume"), theme.MediaPlayIcon(), p.onPause)
	p.pauseW = p.pauseBtn.MinSize().Width
	p.pauseBtn.SetText(lang.L("Pause"))
	p.pauseBtn.SetIcon(theme.MediaPauseIcon())
	p.clearBtn = widget.NewButtonWithIcon(lang.L("Clear"), theme.ContentClearIcon(), p.onClear)
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord

	p.list = widget.NewList(
		func() int { return len(p.view) },
		func() fyne.CanvasObject { return newMsgRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if e := p.entryAt(id); e != nil {
				o.(*msgRow).set(e)
			}
		})
	p.list.OnSelected = func(id widget.ListItemID) {
		if !p.selecting {
			p.showDetail(p.entryAt(id))
		}
	}

	p.detailMeta = widget.NewLabel(lang.L("Select a message to see its payload and properties."))
	p.detailMeta.Wrapping = fyne.TextWrapWord
	p.detailPayload = widget.NewList(
		func() int {
			if p.detail == nil {
				return 0
			}
			return p.detail.LineCount()
		},
		func() fyne.CanvasObject { return newPayloadLine() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if p.detail != nil {
				if lines := p.detail.Lines(id, 1); len(lines) == 1 {
					setPayloadLine(o.(*canvas.Text), lines[0])
				}
			}
		})
	p.detailPayload.HideSeparators = true
}

// newPayloadLine is one line of the detail's payload: monospace text
// without a label's padding, so a document's lines sit as close as in an
// editor (as labels, a JSON payload looked double-spaced). The list's
// viewport cuts what is wider.
func newPayloadLine() *canvas.Text {
	t := canvas.NewText("", theme.Color(theme.ColorNameForeground))
	t.TextStyle = fyne.TextStyle{Monospace: true}
	t.TextSize = theme.TextSize()
	return t
}

func setPayloadLine(t *canvas.Text, line string) {
	// The theme may have changed since the row was made.
	t.Color, t.TextSize = theme.Color(theme.ColorNameForeground), theme.TextSize()
	t.Text = line
	t.Refresh()
}

// entryAt is list row id: the newest message is on top.
func (p *Panel) entryAt(id widget.ListItemID) *entry {
	i := len(p.view) - 1 - id
	if i < 0 || i >= len(p.view) {
		return nil
	}
	return p.view[i]
}

// apply shows what a refresh pass found.
func (p *Panel) apply(u *update) {
	if u.conns != nil {
		p.conns = u.conns
		p.applyConns()
		p.restoreKept()
	}
	if u.viewSet {
		added := grownBy(p.view, u.view)
		p.view = u.view
		p.list.Refresh()
		p.holdView(added)
		p.followSelection()
	}
	p.counts = u.counts
	p.showStatus()
	if p.onApplied != nil {
		p.onApplied(u)
	}
}

// grownBy is how many rows now came in on top of was (newest first on
// screen), or 0 when now is not was with newer messages added (cleared,
// filtered anew).
func grownBy(was, now []*entry) int {
	if len(was) == 0 {
		return 0
	}
	newest := was[len(was)-1]
	i := sort.Search(len(now), func(i int) bool { return now[i].seq >= newest.seq })
	if i == len(now) || now[i] != newest {
		return 0
	}
	return len(now) - 1 - i
}

// holdView keeps what the user looks at in place when added rows came in
// above it: a selected message, or a list scrolled away from the newest.
// Otherwise the newest messages come into view at the top.
func (p *Panel) holdView(added int) {
	off := p.list.GetScrollOffset()
	if added == 0 || p.selected == nil && off <= 0 {
		return
	}
	p.list.ScrollToOffset(off + float32(added)*p.rowHeight())
}

// rowHeight is the distance between two rows of the message list: a
// row's height and the list's padding between rows.
func (p *Panel) rowHeight() float32 {
	if p.rowMin == 0 {
		r := newMsgRow()
		_ = density.Dense(r) // rows are measured in the list's theme
		p.rowMin = r.MinSize().Height
	}
	return p.rowMin + density.DensePadding()
}

// followSelection keeps the selected message selected as rows move, or
// clears the list's selection (not the detail) when it left the view.
func (p *Panel) followSelection() {
	if p.selected == nil {
		return
	}
	seq := p.selected.seq
	i := sort.Search(len(p.view), func(i int) bool { return p.view[i].seq >= seq })
	p.selecting = true
	defer func() { p.selecting = false }()
	if i < len(p.view) && p.view[i] == p.selected {
		p.list.Select(len(p.view) - 1 - i)
		return
	}
	p.list.UnselectAll()
}

func (p *Panel) onPause() {
	p.paused = !p.paused
	if p.paused {
		p.pausedAt = p.counts.received
		p.pauseBtn.SetText(lang.L("Resume"))
		p.pauseBtn.SetIcon(theme.MediaPlayIcon())
	} else {
		p.pauseBtn.SetText(lang.L("Pause"))
		p.pauseBtn.SetIcon(theme.MediaPauseIcon())
	}
	paused := p.paused
	p.in.set(func(_ *viewKey, pause *bool) { *pause = paused })
	p.showStatus()
	p.poke()
}

// onClear empties the selected connection's list; the capture keeps
// every message.
func (p *Panel) onClear() {
	p.store.clear(p.source)
	p.in.set(func(k *viewKey, _ *bool) { k.gen++ })
	p.view = nil
	p.list.UnselectAll()
	p.list.Refresh()
	p.showDetail(nil)
	p.poke()
}
