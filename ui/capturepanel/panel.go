// Package capturepanel is the Capture panel of the main window: its one job
// is to let the user see and manage the capture store — its live status
// and retention, a search over the captured messages paged from the store,
// the full detail of the selected message, pause, clear, export, import
// and replay — plus the dialog shown when the store cannot be opened.
package capturepanel

import (
	"context"
	"fmt"
	"image/color"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/msgline"
	"github.com/iotstudio/iotstudio/ui/numfmt"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// Source is what the panel reads and controls; *capture.Store implements
// it. Stats, Query and Clear are called from background goroutines only.
type Source interface {
	Stats() (capture.Stats, error)
	Query(ctx context.Context, q capture.Query) ([]message.Message, string, error)
	SetPaused(bool)
	Clear(ctx context.Context) (int64, error)
	SetRetention(maxBytes int64, maxAge time.Duration)
}

// Options are what the panel needs besides the store.
type Options struct {
	// BrokerURL returns the embedded broker's MQTT URL on loopback, or ""
	// while it is not running; Replay offers it as a target. It is called
	// on the UI goroutine and must not block. nil: Replay asks for a URL.
	BrokerURL func() string
	// ShowSessions, when set, offers a selected message's publisher's
	// sessions (the Journal panel); called on the UI goroutine.
	ShowSessions func(clientID string)
	// Do runs a UI update on the Fyne goroutine; nil means fyne.Do.
	// Tests of the code that embeds the panel replace it.
	Do func(func())
}

const (
	// refreshInterval is how often Run refreshes the status line.
	refreshInterval = time.Second
	// pageSize is how many records one Search or Load more fetches.
	pageSize = 200
	// loadAhead: scrolling within this many rows of the end loads more.
	loadAhead = 20
)

// Panel is the Capture panel. Create it with New, add it to the main
// window, then call Run once to start the status refresh.
type Panel struct {
	src   Source
	store *capture.Store // for export, import and replay; nil disables them
	win   fyne.Window
	opts  Options

	// do runs a UI update on the Fyne goroutine (fyne.Do; tests queue it).
	do       func(func())
	interval time.Duration
	pageSize int
	autoLoad bool          // load the next page when the list is scrolled near its end
	serving  atomic.Bool   // while Serve runs
	pending  atomic.Bool   // a status update is queued but not yet applied
	kick     chan struct{} // asks the refresh goroutine for a status update now
	// actions runs what the buttons start until Serve ends, so that
	// quitting cancels them.
	actions shell.Actions

	content fyne.CanvasObject

	// Toolbar.
	pauseBtn, clearBtn, retentionBtn, exportBtn, importBtn, replayBtn *widget.Button
	capturing                                                         *widget.Label

	// Status line.
	records, disk, rate, dropped, retention, span *widget.Label

	// Action row: progress of the running export, import, replay or clear,
	// then its result.
	actionRow, actionBars     *fyne.Container
	actionText                *widget.Label
	actionBar                 *widget.ProgressBar
	actionSpin                *widget.ProgressBarInfinite
	actionCancel, actionClose *widget.Button

	// Search form.
	filter, since, until, contains, where *widget.Entry
	newest                                *widget.Check
	searchBtn                             *widget.Button
	formErr                               *widget.Label

	// Results.
	list     *widget.List
	shown    *widget.Label
	moreBtn  *widget.Button
	queryErr *widget.Label

	// Detail.
	meta        *widget.Label
	payload     *widget.Entry
	payloadText string
	copyBtn     *widget.Button
	sessionsBtn *widget.Button // the publisher's sessions; hidden without Options.ShowSessions

	// Owned by the UI goroutine.
	query     capture.Query // conditions of the current search
	queryDesc string        // the same in words
	recs      []message.Message
	next      string // cursor of the next page, "" when there is none
	gen       int    // incremented by each Search; stale results are ignored
	loading   bool
	ctx       context.Context // of the current search
	cancel    context.CancelFunc
	failed    bool          // the last fetch failed: no automatic retry on scroll
	selected  int           // index into recs, -1 for none
	stats     capture.Stats // the last status read, for the dialogs
	haveStats bool
	// searchIngested is stats.Ingested when the current search started.
	searchIngested int64
	// damaged holds the damaged blocks the current search skipped, by
	// first seq: a page may report a block an earlier page reported.
	damaged map[uint64]capture.Damage
	paused  bool
	act     *action // the running action, nil when idle
	// Dialogs, kept for tests.
	clearDlg     *clearDialog
	retentionDlg *retentionDialog
	exportDlg    *exportDialog
	importDlg    *importDialog
	replayDlg    *replayDialog
}

// New builds the panel over store. w is the window the panel and its
// dialogs belong to. Call it on the UI goroutine; it does not touch store.
func New(store *capture.Store, w fyne.Window, opts Options) *Panel {
	p := &Panel{store: store, win: w, opts: opts, do: fyne.Do, interval: refreshInterval, pageSize: pageSize,
		autoLoad: true, kick: make(chan struct{}, 1), selected: -1}
	if opts.Do != nil {
		p.do = opts.Do
	}
	if store != nil {
		p.src = store
	}
	p.buildUI()
	if store != nil {
		p.showPaused(store.Paused())
	}
	return p
}

// Title is the navigation label.
func (p *Panel) Title() string { return lang.L("Capture") }

// Icon is the navigation icon.
func (p *Panel) Icon() fyne.Resource { return theme.StorageIcon() }

// Content is the panel's UI, built once.
func (p *Panel) Content() fyne.CanvasObject { return p.content }

func (p *Panel) buildUI() {
	p.pauseBtn = widget.NewButtonWithIcon(lang.L("Pause"), theme.MediaPauseIcon(), p.onPause)
	p.clearBtn = widget.NewButtonWithIcon(lang.L("Clear…"), theme.DeleteIcon(), p.onClear)
	p.retentionBtn = widget.NewButtonWithIcon(lang.L("Retention…"), theme.HistoryIcon(), p.onRetention)
	p.exportBtn = widget.NewButtonWithIcon(lang.L("Export…"), theme.DownloadIcon(), p.onExport)
	p.importBtn = widget.NewButtonWithIcon(lang.L("Import…"), theme.UploadIcon(), p.onImport)
	p.replayBtn = widget.NewButtonWithIcon(lang.L("Replay…"), theme.MediaReplayIcon(), p.onReplay)
	p.capturing = widget.NewLabelWithStyle(lang.L("Capturing"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.capturing.Importance = widget.SuccessImportance
	toolbar := container.NewHBox(p.capturing, p.pauseBtn, p.clearBtn, p.retentionBtn, widget.NewSeparator(),
		p.exportBtn, p.importBtn, p.replayBtn)
	p.updateButtons()

	p.records = widget.NewLabel(lang.L("— records"))
	p.disk = widget.NewLabel(lang.L("— on disk"))
	p.rate = widget.NewLabel(lang.L("— rec/s"))
	p.dropped = widget.NewLabel(lang.L("0 dropped"))
	p.retention = widget.NewLabel("")
	p.span = widget.NewLabel("")
	p.span.Truncation = fyne.TextTruncateEllipsis
	status := container.NewBorder(nil, nil, container.NewHBox(p.records, p.disk, p.rate, p.dropped, p.retention), nil, p.span)

	p.actionText = widget.NewLabel("")
	p.actionText.Wrapping = fyne.TextWrapWord
	p.actionBar = widget.NewProgressBar()
	p.actionSpin = widget.NewProgressBarInfinite()
	p.actionSpin.Stop()
	p.actionSpin.Hide()
	p.actionCancel = widget.NewButtonWithIcon(lang.L("Cancel"), theme.CancelIcon(), p.onCancelAction)
	p.actionClose = widget.NewButtonWithIcon("", theme.WindowCloseIcon(), p.onCloseAction)
	p.actionBars = container.NewGridWrap(fyne.NewSize(320, p.actionBar.MinSize().Height),
		container.NewStack(p.actionBar, p.actionSpin))
	p.actionRow = container.NewBorder(nil, nil, nil, container.NewHBox(p.actionBars, p.actionCancel, p.actionClose),
		p.actionText)
	p.actionRow.Hide()

	p.filter = widget.NewEntry()
	p.filter.SetPlaceHolder(lang.L("Topic filter, e.g. sensors/+/temp or # (empty: all)"))
	p.filter.OnSubmitted = func(string) { p.onSearch() }
	p.since = widget.NewEntry()
	p.since.SetPlaceHolder(lang.L("Since: -10m, -2h, -7d or RFC 3339"))
	p.since.OnSubmitted = func(string) { p.onSearch() }
	p.until = widget.NewEntry()
	p.until.SetPlaceHolder(lang.L("Until: -1h or RFC 3339 (empty: now)"))
	p.until.OnSubmitted = func(string) { p.onSearch() }
	p.contains = widget.NewEntry()
	p.contains.SetPlaceHolder(lang.L("Payload contains"))
	p.contains.OnSubmitted = func(string) { p.onSearch() }
	p.where = widget.NewEntry()
	p.where.SetPlaceHolder(lang.L("JSON condition: temp > 30"))
	p.where.OnSubmitted = func(string) { p.onSearch() }
	p.newest = widget.NewCheck(lang.L("Newest first"), nil)
	p.newest.SetChecked(true)
	p.searchBtn = widget.NewButtonWithIcon(lang.L("Search"), theme.SearchIcon(), p.onSearch)
	p.searchBtn.Importance = widget.HighImportance
	p.formErr = widget.NewLabel("")
	p.formErr.Importance = widget.DangerImportance
	p.formErr.Wrapping = fyne.TextWrapWord
	p.formErr.Hide()

	// The time fields get the larger shares of the row: in equal quarters
	// of a 1024 px window their hints and an RFC 3339 time were cut.
	fields := container.New(shares{0.29, 0.29, 0.18, 0.24}, p.since, p.until, p.contains, p.where)
	// A line kept under the form for its error or an action's progress
	// and result, so that the form and the results hold still as they
	// come and go.
	keep := canvas.NewRectangle(color.Transparent)
	keep.SetMinSize(fyne.NewSize(0, p.actionRow.MinSize().Height))
	form := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel(lang.L("Topic")), container.NewHBox(p.newest, p.searchBtn), p.filter),
		fields,
		container.NewStack(keep, msgline.Reserve(1, p.formErr, p.actionRow)),
	)

	p.list = widget.NewList(p.length, p.createRow, p.updateRow)
	p.list.OnSelected = p.onSelect
	p.list.OnUnselected = func(widget.ListItemID) {}
	p.shown = widget.NewLabel(lang.L("Search to list captured messages."))
	p.moreBtn = widget.NewButtonWithIcon(lang.L("Load more"), theme.MoreVerticalIcon(), p.onLoadMore)
	p.moreBtn.Hide()
	p.queryErr = widget.NewLabel("")
	p.queryErr.Importance = widget.DangerImportance
	p.queryErr.Wrapping = fyne.TextWrapWord
	p.queryErr.Hide()
	results := container.NewBorder(nil, container.NewVBox(p.queryErr, container.NewBorder(nil, nil, nil, p.moreBtn, p.shown)), nil, nil, p.list)

	p.meta = widget.NewLabel(lang.L("Select a message to see its detail."))
	p.meta.Selectable = true
	p.meta.Wrapping = fyne.TextWrapWord
	p.payload = widget.NewMultiLineEntry()
	p.payload.TextStyle = fyne.TextStyle{Monospace: true}
	p.payload.Wrapping = fyne.TextWrapOff
	p.payload.OnChanged = func(s string) { // read-only: undo any edit
		if s != p.payloadText {
			p.payload.SetText(p.payloadText)
		}
	}
	p.copyBtn = widget.NewButtonWithIcon(lang.L("Copy payload"), theme.ContentCopyIcon(), p.onCopy)
	p.copyBtn.Disable()
	p.sessionsBtn = widget.NewButtonWithIcon(lang.L("Publisher's sessions"), theme.HistoryIcon(), p.onSessions)
	p.sessionsBtn.Disable()
	if p.opts.ShowSessions == nil {
		p.sessionsBtn.Hide()
	}
	detail := container.NewBorder(
		container.NewVBox(p.meta, container.NewBorder(nil, nil, widget.NewLabelWithStyle(lang.L("Payload"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), container.NewHBox(p.sessionsBtn, p.copyBtn))),
		nil, nil, nil, p.payload)

	split := container.NewHSplit(results, container.NewVScroll(detail))
	split.Offset = 0.55
	p.content = container.NewBorder(container.NewVBox(toolbar, status, widget.NewSeparator(), form), nil, nil, nil, split)
}

func (p *Panel) length() int { return len(p.recs) }

func (p *Panel) createRow() fyne.CanvasObject {
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

func (p *Panel) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id < 0 || id >= len(p.recs) {
		return
	}
	o.(*widget.Label).SetText(rowText(&p.recs[id], p.query.Contains))
	if p.autoLoad && !p.failed && id >= len(p.recs)-loadAhead {
		p.onLoadMore()
	}
}

// Shown runs the form's search when the page comes forward with nothing
// listed (the app searches once at start, often before anything was
// captured) or with a list that is only out of date. A list the user
// works in (a selection, more pages, oldest first) is left as it is.
func (p *Panel) Shown() {
	if p.loading || len(p.recs) > 0 && !p.untouchedAndBehind() {
		return
	}
	p.onSearch()
}

// untouchedAndBehind reports whether the list is a newest-first first
// page the user has not selected in, and records were captured since it
// was searched: then it is only out of date, and nothing of the user's
// is lost by searching again.
func (p *Panel) untouchedAndBehind() bool {
	return p.selected < 0 && p.newest.Checked && len(p.recs) <= p.pageSize &&
		p.haveStats && p.stats.Ingested != p.searchIngested
}

// Search runs the search the form describes (empty form: the newest
// messages), as the Search button does; call it on the UI goroutine.
func (p *Panel) Search() { p.onSearch() }

// onSearch validates the form and starts a new search, cancelling any
// running one.
func (p *Panel) onSearch() {
	q, err := p.formQuery(time.Now())
	if err != nil {
		p.formErr.SetText(err.Error())
		p.formErr.Show()
		p.content.Refresh()
		return
	}
	if p.formErr.Visible() {
		p.formErr.Hide()
		p.content.Refresh()
	}
	p.queryDesc = p.describeForm()
	p.runQuery(q)
}

// runQuery starts a new search for q, cancelling any running one, and
// clears the results and the detail.
func (p *Panel) runQuery(q capture.Query) {
	if p.cancel != nil {
		p.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.gen++
	p.query = q
	p.searchIngested = p.stats.Ingested
	p.recs, p.next = nil, ""
	p.damaged = map[uint64]capture.Damage{}
	p.selected = -1
	p.list.UnselectAll()
	p.list.Refresh()
	p.list.ScrollToTop()
	p.showDetail(nil)
	p.ctx = ctx
	p.loading, p.failed = false, false
	p.fetch("")
}

// formQuery reads the search form.
func (p *Panel) formQuery(now time.Time) (capture.Query, error) {
	q := capture.Query{Filter: p.filter.Text, Contains: p.contains.Text, Newest: p.newest.Checked}
	if err := message.ValidateFilter(q.Filter); err != nil {
		return q, fmt.Errorf(lang.L("Topic filter: %w"), err)
	}
	var err error
	if q.Since, err = parseTime(p.since.Text, now); err != nil {
		return q, fmt.Errorf(lang.L("since: %w"), err)
	}
	if q.Until, err = parseTime(p.until.Text, now); err != nil {
		return q, fmt.Errorf(lang.L("until: %w"), err)
	}
	if p.where.Text != "" {
		if q.Where, err = capture.CompileCondition(p.where.Text); err != nil {
			return q, fmt.Errorf(lang.L("Condition: %w"), err)
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return q, fmt.Errorf(lang.L("until (%s) must be after since (%s)"), numfmt.Time(q.Until), numfmt.Time(q.Since))
	}
	return q, nil
}

// onLoadMore fetches the next page of the current search, if there is one
// and no fetch is running.
func (p *Panel) onLoadMore() {
	if p.next == "" || p.loading || p.ctx == nil {
		return
	}
	p.fetch(p.next)
}

// fetch runs one page of the current query from cursor in a goroutine and
// appends the result on the UI goroutine, unless a newer search started.
func (p *Panel) fetch(cursor string) {
	ctx := p.ctx
	p.loading = true
	p.updateFooter()
	q, gen := p.query, p.gen
	q.Cursor, q.Limit = cursor, p.pageSize
	go func() {
		var damaged []capture.Damage // OnDamage runs on this goroutine
		q.OnDamage = func(d capture.Damage) { damaged = append(damaged, d) }
		recs, next, err := p.src.Query(ctx, q)
		if ctx.Err() != nil {
			return // superseded by a newer search
		}
		p.do(func() {
			if gen != p.gen {
				return
			}
			p.loading = false
			p.failed = err != nil
			for _, d := range damaged {
				p.damaged[d.First] = d
			}
			if err != nil {
				p.queryErr.SetText(lang.L("Search failed: ") + err.Error())
				p.queryErr.Show()
			} else {
				p.queryErr.Hide()
				p.recs = append(p.recs, recs...)
				p.next = next
			}
			p.list.Refresh()
			p.updateFooter()
			p.content.Refresh()
		})
	}()
}

func (p *Panel) updateFooter() {
	n := len(p.recs)
	text := fmt.Sprintf(lang.L("%s records shown"), numfmt.Count(int64(n)))
	if n == 1 {
		text = lang.L("1 record shown")
	}
	switch {
	case p.loading:
		text += lang.L(" — searching…")
	case p.next != "":
		text += lang.L(" — more available (scroll down or Load more)")
	case n == 0:
		text = lang.L("No matching records.")
	}
	if lost := p.damagedRecords(); lost > 0 {
		text += fmt.Sprintf(lang.L(" — %s could not be read: the capture is damaged (`iotstudio capture stats` says where)"), numfmt.Plural(lost, "record", "records"))
	}
	p.shown.SetText(text)
	if p.next != "" && !p.loading {
		p.moreBtn.Show()
	} else {
		p.moreBtn.Hide()
	}
}

// damagedRecords is how many records the current search skipped because
// the capture is damaged there.
func (p *Panel) damagedRecords() int64 {
	var n int64
	for _, d := range p.damaged {
		n += d.Records()
	}
	return n
}

func (p *Panel) onSelect(id widget.ListItemID) {
	if id < 0 || id >= len(p.recs) {
		return
	}
	p.selected = id
	p.showDetail(&p.recs[id])
}

func (p *Panel) showDetail(r *message.Message) {
	if r == nil {
		p.meta.SetText(lang.L("Select a message to see its detail."))
		p.payloadText = ""
		p.payload.SetText("")
		p.copyBtn.Disable()
		p.sessionsBtn.Disable()
		return
	}
	setEnabled(p.sessionsBtn, r.ClientID != "")
	text, shown := payloadView(r)
	p.meta.SetText(detailText(r) + "\n" + shown)
	p.payloadText = text
	p.payload.SetText(p.payloadText)
	p.copyBtn.Enable()
}

// onSessions shows the selected message's publisher in the Journal.
func (p *Panel) onSessions() {
	if p.selected >= 0 && p.opts.ShowSessions != nil {
		p.opts.ShowSessions(p.recs[p.selected].ClientID)
	}
}

func (p *Panel) onCopy() {
	if p.selected < 0 {
		return
	}
	fyne.CurrentApp().Clipboard().SetContent(payloadText(p.recs[p.selected].Payload))
}

// shares lays its objects out in a row, each taking its share of the
// width beyond what the padding between them takes.
type shares []float32

func (s shares) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	room := size.Width - pad*float32(len(objs)-1)
	var x float32
	for i, o := range objs {
		w := room * s[i]
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w + pad
	}
}

func (s shares) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for i, o := range objs {
		om := o.MinSize()
		m.Width = max(m.Width, om.Width/s[i])
		m.Height = max(m.Height, om.Height)
	}
	m.Width += theme.Padding() * float32(len(objs)-1)
	return m
}
