package explorer

import (
	"image/color"
	"slices"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/density"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// The tree's node UIDs are NodeIDs in decimal; "" is fyne's hidden root,
// whose children are the sources' roots.

func uidOf(id topics.NodeID) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(id), 10)
}

func nodeID(uid string) topics.NodeID {
	n, err := strconv.ParseUint(uid, 10, 32)
	if err != nil {
		return 0
	}
	return topics.NodeID(n)
}

// The widget.Tree callbacks below run on the UI goroutine and read only
// what the refresh goroutine sent: fyne calls them for every open row on
// each layout, so they must be map lookups, not model reads.

func (p *Panel) childUIDs(uid widget.TreeNodeID) []widget.TreeNodeID {
	id := nodeID(uid)
	k, ok := p.kids[id]
	if !ok {
		p.want(id, true)
	}
	return k
}

func (p *Panel) isBranch(uid widget.TreeNodeID) bool {
	if uid == "" {
		return true
	}
	id := nodeID(uid)
	d, ok := p.rows[id]
	if !ok || !d.branch {
		return false
	}
	if p.expanding != nil {
		// Inside expandNodes: only the chosen branches (and those open
		// already) count as branches, so that OpenAllBranches opens just
		// them.
		_, chosen := p.expanding[id]
		return chosen || p.tree.IsBranchOpen(uid)
	}
	return true
}

func (p *Panel) updateNode(uid widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
	r := rowIn(o)
	id := nodeID(uid)
	if r.id != id {
		if p.boundBy[r.id] == r {
			delete(p.boundBy, r.id)
		}
		r.id = id
	}
	p.boundBy[id] = r
	d, ok := p.rows[id]
	if !ok {
		p.want(id, false)
		r.showLoading()
		return
	}
	r.show(d, p.glow(id, p.now()))
}

func (p *Panel) onBranchOpened(uid widget.TreeNodeID) {
	id := nodeID(uid)
	p.open[id] = struct{}{}
	p.in.set(func(in *interest) {
		in.open[id] = struct{}{}
		// Always: a list kept from an earlier opening was not followed
		// while the branch was closed.
		in.wantKids[id] = struct{}{}
	})
	p.refreshNow()
}

func (p *Panel) onBranchClosed(uid widget.TreeNodeID) {
	id := nodeID(uid)
	delete(p.open, id)
	p.in.set(func(in *interest) { delete(in.open, id) })
}

// want asks the refresh goroutine for a node's child list or row, once:
// the tree asks on every layout until the answer arrives.
func (p *Panel) want(id topics.NodeID, kids bool) {
	p.in.set(func(in *interest) {
		if kids {
			in.wantKids[id] = struct{}{}
		} else {
			in.wantRows[id] = struct{}{}
		}
	})
	p.refreshNow()
}

// apply shows one update from the refresh goroutine. Rows on screen are
// updated in place; the tree is laid out again only when its shape
// changed (a child list of an open branch, a leaf becoming a branch, a
// reset), because fyne's tree walks every open row on each layout and on
// each RefreshItem, which at ten updates a second over a large open tree
// would cost more than the rows themselves.
func (p *Panel) apply(u *update) {
	start := time.Now()
	now := p.now()
	p.stats, p.haveStats = u.stats, true
	p.lastUpdate = u
	// An update read for an older filter (or before Collapse all) is
	// stale; the next pass resets.
	if u.gen == p.gen {
		p.install(u, now)
	}
	p.fade(now)
	if time.Since(p.statusAt) >= p.statusEvery {
		p.statusAt = time.Now()
		p.showStats()
	}
	p.updateButtons()
	if p.onApplied != nil {
		p.onApplied(u.tick, start, time.Since(start))
	}
}

func (p *Panel) install(u *update, now time.Time) {
	relayout := u.reset
	if u.reset {
		clear(p.rows)
		clear(p.kids)
		clear(p.lit)
	}
	for _, d := range u.rows {
		old, had := p.rows[d.ID]
		// Only a topic that received a message lights up, not the
		// ancestors whose subtree counts it changed: under steady traffic
		// every branch would glow all the time and mean nothing.
		if d.hot && d.Messages > old.Messages {
			p.lit[d.ID] = now
		}
		p.rows[d.ID] = d
		if had && old.branch != d.branch && p.boundBy[d.ID] != nil {
			relayout = true
		}
	}
	for _, k := range u.kids {
		uids := make([]string, len(k.ids))
		for i, id := range k.ids {
			uids[i] = uidOf(id)
		}
		old, had := p.kids[k.id]
		p.kids[k.id] = uids
		if _, open := p.open[k.id]; (k.id == 0 || open) && (!had || !slices.Equal(old, uids)) {
			relayout = true
		}
	}
	if u.expanded {
		p.expandNodes(u)
		return // expandNodes laid the tree out
	}
	if relayout {
		p.tree.Refresh()
		return
	}
	for _, d := range u.rows {
		if r := p.boundBy[d.ID]; r != nil {
			r.show(p.rows[d.ID], p.glow(d.ID, now))
		}
	}
}

// expandNodes opens the branches of an expansion. fyne opens branches one
// at a time with a full layout each, or all at once with OpenAllBranches,
// which opens every branch it reaches; isBranch limits "every" to the
// chosen ones while it runs, and the tree is laid out again after.
func (p *Panel) expandNodes(u *update) {
	set := make(map[topics.NodeID]struct{}, len(u.expand))
	for _, id := range u.expand {
		set[id] = struct{}{}
		p.open[id] = struct{}{}
	}
	p.in.set(func(in *interest) {
		for id := range set {
			in.open[id] = struct{}{}
		}
	})
	p.expanding = set
	p.tree.OpenAllBranches()
	p.expanding = nil
	p.tree.Refresh()
	if u.expandCut {
		p.setNote(lang.L("Opened ") + numfmt.Count(u.expandRows) +
			lang.L(" rows; the rest is too large to open at once. Type a filter to narrow the tree."))
	} else {
		p.setNote("")
	}
}

// glow is how strongly node id is highlighted at now: 1 just after it
// changed, fading to 0 over highlightFor.
func (p *Panel) glow(id topics.NodeID, now time.Time) float32 {
	t, ok := p.lit[id]
	if !ok {
		return 0
	}
	el := now.Sub(t)
	if el >= highlightFor || el < 0 {
		return 0
	}
	return 1 - float32(el)/float32(highlightFor)
}

// fade dims the highlighted rows on screen and forgets highlights that
// ended.
func (p *Panel) fade(now time.Time) {
	for id := range p.lit {
		g := p.glow(id, now)
		if g == 0 {
			delete(p.lit, id)
		}
		if r := p.boundBy[id]; r != nil {
			r.setGlow(g)
		}
	}
}

// row is one line of the tree: the node's name, a preview of its last
// value, and its counts, over a background that lights up when it changed.
type row struct {
	widget.BaseWidget
	id     topics.NodeID
	bg     *canvas.Rectangle
	name   *widget.Label
	value  *widget.Label
	counts *widget.Label
	nameW  float32    // the name's full width; 0: to be measured
	nameAt [2]float32 // the text size and padding nameW was measured at
	glow   float32
}

// rowIn is the row of a node made by CreateNode. A row draws the
// density Settings chose (normal or compact) itself, without a theme
// override: an override per row made Fyne parse its fonts again for each
// row and text style (about 6.5 MB each, kept for good), and one over the
// whole tree does not reach the nodes an extended Tree like navTree
// creates later.
func rowIn(o fyne.CanvasObject) *row { return o.(*row) }

func newRow() *row {
	r := &row{
		bg:     canvas.NewRectangle(color.Transparent),
		name:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		value:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}),
		counts: widget.NewLabel(""),
	}
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.value.Truncation = fyne.TextTruncateEllipsis
	r.counts.SizeName = theme.SizeNameCaptionText
	r.ExtendBaseWidget(r)
	return r
}

func (r *row) showLoading() {
	r.set("…", "", "", 0)
}

func (r *row) show(d rowData, glow float32) {
	r.set(nameText(&d.NodeSummary), previewText(&d.NodeSummary), countsText(&d), glow)
}

func (r *row) set(name, value, counts string, glow float32) {
	if name == r.name.Text && value == r.value.Text && counts == r.counts.Text {
		r.setGlow(glow)
		return
	}
	if name != r.name.Text {
		r.name.Text = name
		r.nameW = 0
	}
	r.value.Text, r.counts.Text, r.glow = value, counts, glow
	r.bg.FillColor = glowColor(glow)
	r.Refresh()
}

// nameWidth is the width the name needs to be read whole, measured
// once per name and text size: Settings changes the size (and the
// density the padding) while rows are shown.
func (r *row) nameWidth() float32 {
	th := r.Theme()
	f := density.TreeFactor(th)
	at := [2]float32{th.Size(theme.SizeNameText), f * th.Size(theme.SizeNamePadding)}
	if r.nameW == 0 || r.nameAt != at {
		// A label insets its text by the inner padding (at the tree's
		// density) on each side; the padding keeps names apart from values.
		r.nameW = fyne.MeasureText(r.name.Text, at[0], r.name.TextStyle).Width +
			2*f*th.Size(theme.SizeNameInnerPadding) + 2*at[1]
		r.nameAt = at
	}
	return r.nameW
}

// inset is how far the row's labels reach past their boxes to draw at
// the tree's density (density.Inset).
func (r *row) inset() float32 {
	th := r.Theme()
	return density.Inset(th, density.TreeFactor(th))
}

// place puts label l's text box at pos with size, its padding reaching d
// past each edge.
func place(l *widget.Label, pos fyne.Position, size fyne.Size, d float32) {
	l.Move(pos.SubtractXY(d, d))
	l.Resize(size.AddWidthHeight(2*d, 2*d))
}

func (r *row) setGlow(g float32) {
	if g == r.glow {
		return
	}
	r.glow = g
	r.bg.FillColor = glowColor(g)
	r.bg.Refresh()
}

// glowColor is the highlight, fading out: the theme's success colour
// (green), not its primary one, which the selection already uses.
func glowColor(g float32) color.Color {
	if g <= 0 {
		return color.Transparent
	}
	c := color.NRGBAModel.Convert(theme.Color(theme.ColorNameSuccess)).(color.NRGBA)
	c.A = uint8(float32(0x38) * g)
	return c
}

func (r *row) CreateRenderer() fyne.WidgetRenderer {
	return &rowRenderer{r: r, objects: []fyne.CanvasObject{r.bg, r.name, r.value, r.counts}}
}

type rowRenderer struct {
	r       *row
	objects []fyne.CanvasObject
}

// Layout gives the counts their width at the right, the name its width
// up to 60% of the rest, and the value what remains, so that a long name
// or value is cut with an ellipsis rather than pushing the counts away.
func (rr *rowRenderer) Layout(size fyne.Size) {
	r := rr.r
	d := r.inset()
	r.bg.Move(fyne.NewPos(0, 0))
	r.bg.Resize(size)
	counts := r.counts.MinSize().SubtractWidthHeight(2*d, 2*d)
	avail := max(size.Width-counts.Width, 0)
	nameW := r.nameWidth()
	nw := min(nameW, avail*0.6)
	if r.value.Text == "" {
		nw = min(nameW, avail)
	}
	place(r.name, fyne.NewPos(0, 0), fyne.NewSize(nw, size.Height), d)
	place(r.value, fyne.NewPos(nw, 0), fyne.NewSize(avail-nw, size.Height), d)
	// The counts are in smaller type: centre them on the row.
	place(r.counts, fyne.NewPos(size.Width-counts.Width, (size.Height-counts.Height)/2), counts, d)
}

func (rr *rowRenderer) MinSize() fyne.Size {
	d := 2 * rr.r.inset()
	h := max(rr.r.name.MinSize().Height, rr.r.counts.MinSize().Height) - d
	return fyne.NewSize(rr.r.counts.MinSize().Width-d+8*theme.Padding(), h)
}

func (rr *rowRenderer) Refresh() {
	rr.Layout(rr.r.Size())
	for _, o := range rr.objects {
		o.Refresh()
	}
}

func (rr *rowRenderer) Objects() []fyne.CanvasObject { return rr.objects }
func (rr *rowRenderer) Destroy()                     {}
