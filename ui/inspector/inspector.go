// Package inspector is the message inspector of the Topics panel. Its one
// job is to show everything about the topic the explorer selected: the last
// message in a decoder view of the user's choice (text lines or a
// collapsible tree), its metadata and MQTT 5 properties, copy buttons, the
// topic's history (the model's RAM first, then older pages from the capture
// store) with a diff between a message and the one before it, and a chart
// of the topic's numbers over time.
//
// Everything that costs more than a screenful runs on goroutines that Run
// owns: reading the model, decoding (a 10 MB payload takes a fraction of a
// second), measuring lines, comparing, charting and querying the store.
// They hand results to the UI goroutine through fyne.Do; the UI goroutine
// only swaps in finished results and lays out what is visible, so the
// window stays fluid whatever is selected. Decoding, diffs and numbers come
// from engine/decode; this package only presents them.
package inspector

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/msgline"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// refreshInterval is the least time between two refreshes of the shown
// topic: at most 10 a second, however fast it receives messages.
const refreshInterval = 100 * time.Millisecond

const (
	hintNone    = "Select a topic to see its messages."
	hintLoading = "Loading…"
	modeText    = "Text"
	modeTree    = "Tree"
)

// Inspector is the message inspector. Create it with New on the UI
// goroutine, put Content in the window, call Show when the selection
// changes and run Serve once.
//
// It is not itself a fyne.CanvasObject: that interface has a Show() of its
// own (make visible), which Show(id) would clash with, so the widget tree
// is returned by Content, as the other panels do.
type Inspector struct {
	model *topics.Model
	store func() *capture.Store // nil when capture is off
	win   fyne.Window
	opts  Options

	// do runs a function on the UI goroutine: fyne.Do, replaced in tests
	// by a queue the test goroutine drains.
	do       func(func())
	interval time.Duration

	running atomic.Bool
	pending atomic.Bool // a model read is queued for the UI goroutine

	tmu    sync.Mutex
	target target // guarded by tmu
	kick   chan struct{}

	decodes *slot[decodeReq]
	charts  *slot[chartReq]
	pages   *slot[pageReq]
	copies  *slot[copyReq]

	// Owned by the UI goroutine.
	st    state
	picks map[string][]string // fields the user picked to chart, per source and topic

	// Widgets.
	root, body             fyne.CanvasObject
	hintBox                *fyne.Container
	hint                   *widget.Label
	title, counts          *widget.Label
	copyTopic, copyPayload *widget.Button
	publish                *widget.Button
	meta                   *metaView
	props                  *widget.Accordion // the MQTT 5 properties, folded
	propsView              *metaView
	formatSel              *widget.Select
	mode                   *widget.RadioGroup
	status, decodeErr      *widget.Label
	bar                    *fyne.Container // the decoder row: its controls and status
	lines                  *lineView
	tree                   *treeView
	histList               *widget.List
	histStatus             *widget.Label
	olderBtn               *widget.Button
	freezeBtn              *widget.Button
	diff                   *diffView
	chart                  *chartPanel
	tabs                   *container.AppTabs
	syncing, settingFormat bool // a programmatic change is under way: ignore its callbacks
}

// state is what the inspector shows; only the UI goroutine touches it.
type state struct {
	gen   uint64 // increments with every Show; answers for an older gen are dropped
	sum   topics.NodeSummary
	h     history
	older olderState
	sel   *entry // the history row picked; nil follows the newest message
	// frozen holds the history still; held is the node's newest read
	// meanwhile, applied when it follows again.
	frozen bool
	held   *heldRead

	format     decode.Format // the decoder picked
	tree       bool          // the tree view is picked
	view       *entry        // the message the payload pane is for
	viewFormat decode.Format
	res        *decode.Result // its view; nil while decoding
	treeRes    *decode.Result // the result the tree pane shows
	cmpEnt     *entry         // the diff pane compares cmpEnt
	cmpPrev    *entry         // with cmpPrev

	refreshes int // model reads applied with new messages, for tests
}

// shown is the message the payload pane and metadata are about.
func (s *state) shown() *entry {
	if s.sel != nil {
		return s.sel
	}
	if len(s.h.ents) > 0 {
		return s.h.ents[0]
	}
	return nil
}

// Options are what the inspector needs besides the model, the store and
// the window.
type Options struct {
	// OnPublishTo opens a publish form for the shown topic of source,
	// pre-filled with the payload of the message shown (a copy the
	// callee may keep). It is called on the UI goroutine; nil hides the
	// Publish… button.
	OnPublishTo func(source, topic string, payload []byte)
	// Welcome is shown while no topic is selected (the app's first
	// screen); nil shows a one-line hint.
	Welcome fyne.CanvasObject
}

// New returns an inspector over model. store returns the capture store to
// page older messages from; it is called at each use, since the app can
// open a new store while it runs (after moving a damaged one aside). A nil
// store, or one returning nil, means capture is off: the history is then
// what the model holds in RAM. win is the window the inspector is shown
// in. Call New on the UI goroutine.
func New(model *topics.Model, store func() *capture.Store, win fyne.Window, opts Options) *Inspector {
	in := &Inspector{
		model: model, store: store, win: win, opts: opts,
		do: fyne.Do, interval: refreshInterval,
		kick:    make(chan struct{}, 1),
		decodes: newSlot[decodeReq](), charts: newSlot[chartReq](),
		pages: newSlot[pageReq](), copies: newSlot[copyReq](),
		picks: map[string][]string{},
	}
	in.st.format = decode.Auto
	in.build()
	in.showNone()
	return in
}

// capture returns the capture store now, nil when capture is off.
func (in *Inspector) capture() *capture.Store {
	if in.store == nil {
		return nil
	}
	return in.store()
}

// Content is the inspector's widget tree, to place in the window.
func (in *Inspector) Content() fyne.CanvasObject { return in.root }

func (in *Inspector) build() {
	in.hint = widget.NewLabel("")
	in.hint.Alignment = fyne.TextAlignCenter
	wrap(in.hint)
	// Not a Center container: a wrapping label there is measured at zero
	// width, one word per line, and its height would stretch the window.
	in.hintBox = container.NewVBox(layout.NewSpacer(), in.hint, layout.NewSpacer())

	// The topic gets a row of its own and wraps, breaking anywhere since
	// topics have no spaces: device topics are often longer than half a
	// window, and an ellipsis would hide the level that tells them apart.
	in.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	in.title.Selectable = true
	wrap(in.title)
	in.title.Wrapping = fyne.TextWrapBreak
	in.counts = widget.NewLabel("")
	in.counts.Importance = widget.LowImportance
	// The source's name is the user's (or "Локальный брокер"): it wraps
	// rather than losing the count to an ellipsis in half a window.
	in.counts.Wrapping = fyne.TextWrapWord
	in.copyTopic = widget.NewButtonWithIcon(lang.L("Copy topic"), theme.ContentCopyIcon(), in.onCopyTopic)
	in.copyPayload = widget.NewButtonWithIcon(lang.L("Copy payload"), theme.ContentCopyIcon(), in.onCopyPayload)
	in.meta = newMetaView()
	// MQTT 5 properties fold away: unfolded, six of them took the rows the
	// payload needs at 1100 × 720, leaving it two lines.
	in.propsView = newMetaView()
	in.props = widget.NewAccordion(widget.NewAccordionItem(lang.L("MQTT 5 properties"), in.propsView.box))
	in.props.Hide()
	in.publish = widget.NewButtonWithIcon(lang.L("Publish…"), theme.MailSendIcon(), in.onPublishTo)
	if in.opts.OnPublishTo == nil {
		in.publish.Hide()
	}
	// The buttons stack beside the counts and metadata rather than
	// sharing a row with the counts, which half a window would cut.
	header := container.NewVBox(in.title, container.NewBorder(nil, nil, nil,
		container.NewVBox(in.copyTopic, in.copyPayload, in.publish), container.NewVBox(in.counts, in.meta.box, in.props)))

	in.lines = newLineView()
	in.tree = newTreeView()
	in.tree.box.Hide()
	in.formatSel = widget.NewSelect(formatOptions(""), in.onFormat)
	in.settingFormat = true
	in.formatSel.SetSelectedIndex(0)
	in.settingFormat = false
	in.mode = widget.NewRadioGroup([]string{lang.L(modeText), lang.L(modeTree)}, in.onMode)
	in.mode.Horizontal = true
	in.mode.Required = true
	in.mode.SetSelected(lang.L(modeText))
	in.status = widget.NewLabel("")
	in.status.Importance = widget.LowImportance
	in.status.Truncation = fyne.TextTruncateEllipsis
	in.decodeErr = widget.NewLabel("")
	in.decodeErr.Importance = widget.DangerImportance
	wrap(in.decodeErr)
	in.decodeErr.Hide()
	in.bar = newBar(container.NewHBox(widget.NewLabel(lang.L("Decoder")), in.formatSel, in.mode), in.status)
	payload := container.NewBorder(container.NewVBox(in.bar, in.decodeErr), nil, nil, nil,
		container.NewStack(in.lines, in.tree.box))

	in.histList = widget.NewList(
		func() int { return len(in.st.h.ents) },
		func() fyne.CanvasObject {
			// The template holds the widest stamp, so that the list's
			// minimum width, which the split under it keeps, is that of
			// a whole stamp: sized by the preview, the list was cut in
			// the middle of the size column ("47 B" at 1100 × 720 in
			// Russian).
			when := widget.NewLabel(widestStamp())
			when.TextStyle = fyne.TextStyle{Monospace: true}
			what := widget.NewLabel("")
			what.Truncation = fyne.TextTruncateEllipsis
			return container.New(historyRow{}, what, when)
		},
		in.updateHistoryRow)
	in.histList.OnSelected = in.onHistorySelected
	in.histStatus = widget.NewLabel("")
	wrap(in.histStatus)
	in.histStatus.Importance = widget.LowImportance
	in.olderBtn = widget.NewButtonWithIcon(lang.L("Load older"), theme.MoveDownIcon(), in.onLoadOlder)
	// Follow is the wider word: the button keeps its width when it
	// changes, so the status beside it does not jump.
	in.freezeBtn = widget.NewButtonWithIcon(lang.L("Follow"), theme.MediaPlayIcon(), in.onFreeze)
	freezeW := in.freezeBtn.MinSize().Width
	in.freezeBtn.SetText(lang.L("Freeze"))
	in.freezeBtn.SetIcon(theme.MediaPauseIcon())
	in.diff = newDiffView()
	histSplit := container.NewHSplit(in.histList, in.diff.box)
	histSplit.Offset = 0.45
	// The status and Load older span the tab: beside the button under the
	// list alone, the status had 80 px at 1100 × 720, a word a line.
	freeze := container.NewGridWrap(fyne.NewSize(max(freezeW, in.freezeBtn.MinSize().Width), in.freezeBtn.MinSize().Height), in.freezeBtn)
	// The status keeps room for two lines, what it says while loading
	// older messages or frozen, so the list above does not jump when it
	// grows; the buttons sit in the middle of that room rather than
	// stretched (Load older) or at its top (Freeze).
	buttons := container.NewVBox(layout.NewSpacer(), container.NewHBox(freeze, in.olderBtn), layout.NewSpacer())
	hist := container.NewBorder(nil, container.NewBorder(nil, nil, nil, buttons, msgline.Reserve(2, in.histStatus)), nil, nil, histSplit)

	in.chart = newChartPanel(in.onPicks)
	in.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(lang.L("History"), theme.HistoryIcon(), hist),
		container.NewTabItemWithIcon(lang.L("Chart"), theme.GridIcon(), in.chart.box))

	top := container.NewBorder(header, nil, nil, nil, payload)
	split := container.NewVSplit(top, in.tabs)
	split.Offset = 0.58
	in.body = split
	layers := []fyne.CanvasObject{in.hintBox, in.body}
	if in.opts.Welcome != nil {
		layers = append(layers, in.opts.Welcome)
	}
	in.root = container.NewStack(layers...)
}

// wrapWidth is the width a wrapping text assumes until it is laid out.
const wrapWidth = 600

// wrap makes a label or rich text wrap at word boundaries. Fyne measures a
// wrapping text at its current width, and before the first layout that is
// zero: one word per line, a minimum height of thousands of pixels, and a
// window that grows to fit it and never shrinks back. Starting from a
// plausible width avoids that; the first layout then sets the real one.
func wrap(o fyne.CanvasObject) {
	switch t := o.(type) {
	case *widget.Label:
		t.Wrapping = fyne.TextWrapWord
	case *widget.RichText:
		t.Wrapping = fyne.TextWrapWord
	}
	o.Resize(fyne.NewSize(wrapWidth, o.MinSize().Height))
}

// formatOptions are the decoder picker's entries: Auto, naming what it
// detected once known, then every format.
func formatOptions(detected decode.Format) []string {
	var out []string
	for _, f := range decode.Formats() {
		label := numfmt.FormatLabel(f)
		if f == decode.Auto && detected != "" {
			label += " (" + numfmt.FormatLabel(detected) + ")"
		}
		out = append(out, label)
	}
	return out
}

// Show inspects node id (0 clears the inspector). It returns at once: the
// node is read and decoded by Serve's goroutines.
func (in *Inspector) Show(id topics.NodeID) {
	st := &in.st
	// Frozen or following is the person's choice, kept from topic to topic.
	*st = state{gen: st.gen + 1, format: decode.Auto, tree: st.tree, frozen: st.frozen, older: olderState{seq: st.older.seq + 1}}
	in.settingFormat = true
	in.formatSel.SetOptions(formatOptions(""))
	in.formatSel.SetSelectedIndex(0)
	in.settingFormat = false
	in.title.SetText("")
	in.counts.SetText("")
	in.meta.set(nil)
	in.showProps(nil)
	in.decodeErr.Hide()
	in.setStatus("")
	in.lines.set(nil, lineLens{})
	in.tree.set(nil, 0)
	in.diff.set("", nil)
	in.histList.UnselectAll()
	in.histList.Refresh()
	in.chart.clear()
	switch {
	case id == 0:
		in.showNone()
	case in.body.Visible():
		// Going from topic to topic keeps the panes in place: hiding and
		// showing them again would lay the whole inspector out twice.
		in.setStatus(lang.L(hintLoading))
	default:
		in.showHint(lang.L(hintLoading))
	}
	in.setTarget(target{id: id, gen: st.gen})
}

func (in *Inspector) showHint(text string) {
	in.hint.SetText(text)
	in.body.Hide()
	in.hideWelcome()
	in.hintBox.Show()
}

// showNone is what shows with no topic selected: the welcome, or a hint.
func (in *Inspector) showNone() {
	if in.opts.Welcome == nil {
		in.showHint(lang.L(hintNone))
		return
	}
	in.hint.SetText(lang.L(hintNone))
	in.body.Hide()
	in.hintBox.Hide()
	in.opts.Welcome.Show()
}

func (in *Inspector) hideWelcome() {
	if in.opts.Welcome != nil {
		in.opts.Welcome.Hide()
	}
}

func (in *Inspector) showBody() {
	in.hintBox.Hide()
	in.hideWelcome()
	in.body.Show()
}

// applyNode takes a read of the shown node: the first one, or one made
// because it received messages.
func (in *Inspector) applyNode(gen uint64, sum topics.NodeSummary, ok bool, hist []message.Message, first bool) {
	st := &in.st
	if gen != st.gen {
		return
	}
	if !ok {
		in.showHint(lang.L("This topic is no longer in the tree."))
		return
	}
	st.sum = sum
	in.title.SetText(topicTitle(sum))
	in.counts.SetText(sourceTitle(sum.Source) + " · " + numfmt.Plural(int(sum.Messages), "message", "messages"))
	if len(hist) == 0 {
		in.showHint(levelHint(sum))
		return
	}
	if first || len(st.h.ents) == 0 {
		st.h.reset(hist, sum.Messages)
		st.sel = nil
		in.restartOlder()
	} else if st.frozen {
		if sum.Messages > st.h.msgs {
			st.held = &heldRead{sum: sum, hist: hist}
			in.updateHistoryStatus()
		}
		return
	} else {
		if st.h.prepend(hist, sum.Messages) == 0 {
			return
		}
		if st.h.trim() {
			in.restartOlder()
			if st.sel != nil && st.h.index(st.sel) < 0 {
				st.sel = nil
			}
		}
	}
	st.refreshes++
	in.showBody()
	in.histList.Refresh()
	in.syncSelection()
	in.updateHistoryStatus()
	in.requestView()
	in.requestChart()
}

// topicTitle names a node: its topic, or for a source's root the source.
func topicTitle(s topics.NodeSummary) string {
	switch {
	case s.Parent == 0:
		return sourceTitle(s.Source)
	case s.Topic == "":
		return `"" (empty level)`
	}
	return s.Topic
}

// sourceTitle is how a source is named to the user: the embedded broker
// as its connection is named in the rest of the window, a connection by
// its name.
func sourceTitle(source string) string {
	if source == broker.SourceBroker {
		return localname.Label(localname.Profile)
	}
	return localname.Label(source)
}

// levelHint describes a node without messages of its own (a source's
// root, or a level such as "plant" of "plant/a/temp") by what is below it.
func levelHint(s topics.NodeSummary) string {
	below := numfmt.Plural(s.SubtreeTopics, "topic", "topics") + ", " +
		numfmt.Plural(s.SubtreeMessages, "message", "messages")
	if s.SubtreeRetained > 0 {
		below += ", " + numfmt.Plural(s.SubtreeRetained, "retained message", "retained messages")
	}
	if s.Parent == 0 {
		if s.SubtreeTopics == 0 {
			return sourceTitle(s.Source) + lang.L(": no topics yet.")
		}
		return fmt.Sprintf(lang.L("%s: %s. Select a topic to inspect it."), sourceTitle(s.Source), below)
	}
	return fmt.Sprintf(lang.L("%s has no messages of its own; below it: %s. Select a topic to inspect it."), topicTitle(s), below)
}

// requestView asks for what the payload and diff panes should show now,
// and shows the metadata at once (it costs nothing).
func (in *Inspector) requestView() {
	st := &in.st
	e := st.shown()
	if e == nil {
		return
	}
	prev := st.h.before(e)
	if e != st.view || st.format != st.viewFormat {
		if e != st.view {
			in.showMeta(&e.rec)
		}
		st.view, st.viewFormat, st.res = e, st.format, nil
		// The previous lines stay until the new ones are ready, so a live
		// topic does not flicker; the status says they are being replaced.
		in.setStatus(lang.L("Decoding…"))
	}
	if e != st.cmpEnt || prev != st.cmpPrev {
		st.cmpEnt, st.cmpPrev = e, prev
		switch {
		case prev != nil:
			in.diff.set(lang.L("Comparing with the message before it…"), nil)
		case st.h.index(e)+1 < len(st.h.ents):
			in.diff.set(lang.L("The message before this one is not listed (see the marker below it), so there is nothing to compare with."), nil)
		case in.capture() != nil && !st.older.done:
			in.diff.set(lang.L("This is the oldest message listed: Load older to compare it with the one before."), nil)
		default:
			in.diff.set(lang.L("This is the oldest message there is, so there is nothing to compare with."), nil)
		}
	}
	in.decodes.put(decodeReq{gen: st.gen, ent: e, prev: prev, format: st.format, tree: st.tree})
}

// showMeta shows r's metadata: what every message has, then its MQTT 5
// properties in their fold.
func (in *Inspector) showMeta(r *message.Message) {
	in.meta.set(basicFields(r))
	in.showProps(v5Fields(r))
}

// showProps fills the fold of MQTT 5 properties, hidden when there are
// none; its title counts them, so a folded section still says what is in
// it.
func (in *Inspector) showProps(fs []field) {
	in.propsView.set(fs)
	if len(fs) == 0 {
		in.props.Hide()
		return
	}
	in.props.Items[0].Title = lang.L("MQTT 5 properties (") + numfmt.Count(len(fs)) + ")"
	in.props.Show()
	in.props.Refresh()
}

// decodeReq asks the decode goroutine for a message's view, its tree when
// the tree pane is picked, and its diff against the message before it.
type decodeReq struct {
	gen    uint64
	ent    *entry
	prev   *entry
	format decode.Format
	tree   bool
}

// decodeLoop returns the decode goroutine's handler. It remembers its
// last result and comparison, so switching panes or a request repeated
// by a refresh does not decode a 10 MB payload again.
func (in *Inspector) decodeLoop() func(context.Context, decodeReq) {
	var (
		lastEnt         *entry
		lastFormat      decode.Format
		res             *decode.Result
		lens            lineLens
		detected        decode.Format
		cmpEnt, cmpPrev *entry
		cmp             decode.Comparison
	)
	return func(ctx context.Context, q decodeReq) {
		r := &q.ent.rec
		if q.ent != lastEnt || q.format != lastFormat {
			res = decode.Decode(q.format, r.Topic, r.Payload, r.ContentType)
			lens = measure(res)
			detected = res.Tried
			if q.format != decode.Auto {
				detected = decode.Detect(r.Topic, r.Payload, r.ContentType)
			}
			lastEnt, lastFormat = q.ent, q.format
		}
		res, lens, detected := res, lens, detected
		in.do(func() { in.applyDecoded(q.gen, q.ent, q.format, res, lens, detected) })
		if ctx.Err() != nil {
			return
		}
		if q.tree && hasTree(res) {
			root := res.Tree() // built once per Result
			cols := treeCols(root)
			in.do(func() { in.applyTree(q.gen, res, root, cols) })
		}
		if q.prev != nil && ctx.Err() == nil {
			if q.ent != cmpEnt || q.prev != cmpPrev {
				cmp = decode.Diff(q.prev.rec.Payload, r.Payload)
				cmpEnt, cmpPrev = q.ent, q.prev
			}
			c := cmp
			in.do(func() { in.applyDiff(q.gen, q.ent, q.prev, &c) })
		}
	}
}

// hasTree reports whether res's view is structured, with a tree to show.
func hasTree(res *decode.Result) bool {
	return res != nil && res.HasTree()
}

func (in *Inspector) applyDecoded(gen uint64, e *entry, f decode.Format, res *decode.Result, lens lineLens, detected decode.Format) {
	st := &in.st
	if gen != st.gen || e != st.view || f != st.viewFormat || res == st.res {
		return
	}
	st.res = res
	in.lines.set(res, lens)
	in.settingFormat = true
	in.formatSel.SetOptions(formatOptions(detected))
	in.formatSel.SetSelectedIndex(slices.Index(decode.Formats(), st.format))
	in.settingFormat = false

	// The status has the room left of the decoder picker: the picker says
	// what Auto detected and the banner below what failed, so it says only
	// what neither does.
	status := in.lines.summary()
	if res.Format == decode.Base64 && res.Inner != "" {
		status = numfmt.FormatLabel(res.Inner) + " · " + status
	}
	in.setStatus(status)
	if res.Err != nil {
		in.decodeErr.SetText(fmt.Sprintf(lang.L("Decoding as %s failed (%v); showing the hex dump instead."), numfmt.FormatLabel(res.Tried), res.Err))
		in.decodeErr.Show()
	} else {
		in.decodeErr.Hide()
	}
	if hasTree(res) {
		in.mode.Enable()
	} else {
		in.mode.Disable()
	}
	in.showPane()
}

func (in *Inspector) applyTree(gen uint64, res *decode.Result, root *decode.Node, cols int) {
	st := &in.st
	if gen != st.gen || res != st.res {
		return
	}
	st.treeRes = res
	in.tree.set(root, cols)
	in.showPane()
}

// showPane shows the tree when it is picked and built for the current
// view, else the lines.
func (in *Inspector) showPane() {
	st := &in.st
	if st.tree && st.res != nil && st.treeRes == st.res && hasTree(st.res) {
		in.lines.Hide()
		in.tree.box.Show()
		return
	}
	in.tree.box.Hide()
	in.lines.Show()
}

func (in *Inspector) applyDiff(gen uint64, e, prev *entry, c *decode.Comparison) {
	st := &in.st
	if gen != st.gen || e != st.cmpEnt || prev != st.cmpPrev {
		return
	}
	in.diff.set(diffContent(c, prev))
}

func (in *Inspector) onFormat(label string) {
	if in.settingFormat {
		return
	}
	i := slices.Index(in.formatSel.Options, label)
	if i < 0 {
		return
	}
	in.st.format = decode.Formats()[i]
	in.requestView()
}

func (in *Inspector) onMode(mode string) {
	in.st.tree = mode == lang.L(modeTree) // the radio shows the words translated
	in.showPane()
	if in.st.tree && (in.st.res == nil || in.st.treeRes != in.st.res) {
		// Also while decoding: the request under way did not ask for the
		// tree. The decode goroutine reuses the result it is making.
		in.requestView()
	}
}

// updateHistoryRow fills history row id: receive time and size, then a
// glimpse of the payload; or what a marker stands for.
func (in *Inspector) updateHistoryRow(id widget.ListItemID, o fyne.CanvasObject) {
	c := o.(*fyne.Container) // a historyRow: the preview first, then the stamp
	what, when := c.Objects[0].(*widget.Label), c.Objects[1].(*widget.Label)
	if id >= len(in.st.h.ents) {
		return
	}
	e := in.st.h.ents[id]
	if e.missed > 0 {
		when.SetText("")
		where := lang.L("the Capture panel has them")
		if in.capture() == nil {
			where = lang.L("capture is off, so they were not kept")
		}
		what.Importance = widget.WarningImportance
		what.SetText(fmt.Sprintf(lang.L("⋯ %s not listed: they left RAM between two refreshes (%s)"),
			numfmt.Plural(e.missed, "message", "messages"), where))
		return
	}
	r := &e.rec
	when.SetText(historyStamp(r.Time, int64(len(r.Payload)), r.Retain))
	what.Importance = widget.MediumImportance
	what.SetText(preview(r.Payload))
}

// historyStamp is a history row's first column: the receive time, the
// payload size, R for retained, in monospace columns of a fixed width.
func historyStamp(t time.Time, size int64, retain bool) string {
	flags := ""
	if retain {
		flags = " R"
	}
	return t.Local().Format("15:04:05.000") + fmt.Sprintf(" %9s%-2s", numfmt.Bytes(size), flags)
}

// widestStamp is the widest historyStamp: sizes of four digits and a
// unit, a retained message.
func widestStamp() string {
	w := ""
	for _, n := range []int64{1023, 1023 << 10, 1023 << 20, 1023 << 30} {
		if s := historyStamp(time.Time{}, n, true); len([]rune(s)) > len([]rune(w)) {
			w = s
		}
	}
	return w
}

func (in *Inspector) onHistorySelected(id widget.ListItemID) {
	st := &in.st
	if in.syncing || id >= len(st.h.ents) {
		return
	}
	e := st.h.ents[id]
	if e.missed > 0 {
		in.syncSelection()
		return
	}
	if id == 0 {
		st.sel = nil // the newest: keep following new messages
	} else {
		st.sel = e
	}
	in.requestView()
}

// syncSelection marks the shown message in the history list. List.Select
// scrolls only when the row is out of view and does nothing when the row
// is already selected, so following the newest message never moves the
// list under the user.
func (in *Inspector) syncSelection() {
	idx := 0
	if in.st.sel != nil {
		idx = in.st.h.index(in.st.sel)
	}
	in.syncing = true
	in.histList.Select(idx)
	in.syncing = false
}

func (in *Inspector) updateHistoryStatus() {
	st := &in.st
	ram, stored, missed := st.h.counts()
	text := ""
	if st.frozen {
		text = lang.L("Frozen: ") + numfmt.Plural(st.heldBack(), "new message", "new messages") + lang.L(" not listed yet. ")
	}
	text += numfmt.Plural(ram+stored, "message", "messages") + lang.L(" listed")
	if stored > 0 {
		text += fmt.Sprintf(lang.L(" (%s from RAM, %s from the capture)"), numfmt.Count(int64(ram)), numfmt.Count(int64(stored)))
	}
	text += "."
	if missed > 0 {
		text += " " + numfmt.Plural(missed, "message is", "messages are") + lang.L(" missing where marked.")
	}
	o := &st.older
	switch {
	case in.capture() == nil:
		text += lang.L(" Capture is off, so older messages were not kept.")
	case o.loading:
		text += lang.L(" Loading older messages…")
	case o.err != nil:
		text += " " + lang.L("Older messages could not be loaded: ") + o.err.Error() + "."
	case o.full:
		text += lang.L(" The inspector keeps at most ") + numfmt.Count(maxEntries) + lang.L("; search the Capture panel for older ones.")
	case o.done:
		text += lang.L(" No older messages in the capture.")
	}
	in.histStatus.SetText(text)
	if in.capture() == nil || o.loading || o.done || o.full {
		in.olderBtn.Disable()
	} else {
		in.olderBtn.Enable()
	}
}

// requestChart asks for the chart of the listed messages, with the
// markers of missing ones, where the chart leaves a gap.
func (in *Inspector) requestChart() {
	st := &in.st
	if len(st.h.ents) == 0 {
		return
	}
	in.charts.put(chartReq{gen: st.gen, ents: slices.Clone(st.h.ents), picks: in.picks[in.pickKey()]})
}

func (in *Inspector) pickKey() string { return in.st.sum.Source + "\x00" + in.st.sum.Topic }

func (in *Inspector) onPicks(picks []string) {
	// An empty, non-nil slice records that the user unticked everything,
	// which must not bring the default back.
	in.picks[in.pickKey()] = append([]string{}, picks...)
	in.requestChart()
}

func (in *Inspector) applyChart(gen uint64, fields, picks []string, dflt bool, s []series) {
	st := &in.st
	if gen != st.gen {
		return
	}
	if want, ok := in.picks[in.pickKey()]; ok == dflt || (ok && !slices.Equal(want, picks)) {
		return // computed for picks the user has changed since
	}
	in.chart.setFields(fields, picks)
	empty := ""
	switch {
	case len(fields) == 0 && len(picks) == 0:
		empty = lang.L("No numbers in the newest message to chart.")
	case len(picks) == 0:
		empty = lang.L("Tick a field to chart it.")
	default:
		empty = lang.L("No values of the ticked fields in the listed messages.")
	}
	in.chart.chart.set(s, empty)
}

// copyReq asks for a payload's clipboard text off the UI goroutine: the
// hex dump of a 10 MB binary payload is 40 MB of text.
type copyReq struct {
	gen     uint64
	payload []byte
}

func (in *Inspector) onCopyTopic() {
	if in.st.sum.ID != 0 {
		fyne.CurrentApp().Clipboard().SetContent(in.st.sum.Topic)
	}
}

func (in *Inspector) onCopyPayload() {
	if e := in.st.shown(); e != nil {
		in.copies.put(copyReq{gen: in.st.gen, payload: e.rec.Payload})
	}
}

// onPublishTo opens the publish form on the shown message: the newest,
// or the one picked in the history. The button is only visible with a
// message shown (levels without one show a hint instead).
func (in *Inspector) onPublishTo() {
	e := in.st.shown()
	if e == nil || in.opts.OnPublishTo == nil {
		return
	}
	in.opts.OnPublishTo(in.st.sum.Source, in.st.sum.Topic, bytes.Clone(e.rec.Payload))
}

func (in *Inspector) copyPayloadText(_ context.Context, q copyReq) {
	text := copyText(q.payload)
	in.do(func() {
		if q.gen == in.st.gen {
			fyne.CurrentApp().Clipboard().SetContent(text)
		}
	})
}
