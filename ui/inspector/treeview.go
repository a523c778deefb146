package inspector

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

const (
	// previewRunes is how much of a value one tree row shows: rows scroll
	// sideways, so a value of a few lines is read whole; the Text view
	// shows longer ones.
	previewRunes = 1000
	// openAllBelow: a document with fewer nodes than this opens fully;
	// larger ones start with their first level, so opening a 10 MB
	// document lays out a screenful, not 100,000 rows.
	openAllBelow = 200
	moreID       = "more"
)

// moreText is the row that ends a branch the decoder cut.
var moreText = "… more not shown: the tree stops at " + numfmt.Count(decode.MaxTreeNodes) +
	" nodes; the Text view shows every byte"

// treeView is the collapsible tree of a structured payload. Node IDs are
// the child indices from the root ("3/0/12"), resolved through a map that
// fills as branches are opened, so nothing is built for closed branches.
// Rows are monospace and as wide as the widest row of the document, so a
// long value scrolls sideways instead of being cut.
type treeView struct {
	tree  *widget.Tree
	box   fyne.CanvasObject // the tree, in a container that does not pass its width on
	root  *decode.Node
	nodes map[widget.TreeNodeID]*decode.Node
	cols  int // the widest row's columns
}

func newTreeView() *treeView {
	t := &treeView{}
	t.tree = widget.NewTree(t.childIDs, t.isBranch,
		func(bool) fyne.CanvasObject { return newTreeRow(t) },
		func(id widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
			o.(*treeRow).setText(t.text(id))
		})
	// fyne's tree scrolls sideways when its rows' minimum width (that of
	// a new row: treeRow.MinSize) is wider than it is, but it also makes
	// that its own minimum width, which would widen the window.
	t.box = container.New(fillLayout{}, t.tree)
	return t
}

// set shows root, whose widest row is cols columns wide.
func (t *treeView) set(root *decode.Node, cols int) {
	if root == t.root {
		return
	}
	t.root, t.cols = root, cols
	t.nodes = map[widget.TreeNodeID]*decode.Node{"": root}
	t.tree.CloseAllBranches()
	t.tree.ScrollToTop()
	t.tree.Refresh()
	if root != nil && countUpTo(root, openAllBelow) < openAllBelow {
		t.tree.OpenAllBranches()
	}
}

func countUpTo(n *decode.Node, limit int) int {
	c := 1
	for _, k := range n.Children {
		if c >= limit {
			break
		}
		c += countUpTo(k, limit-c)
	}
	return c
}

func (t *treeView) childIDs(id widget.TreeNodeID) []widget.TreeNodeID {
	n := t.nodes[id]
	if n == nil {
		return nil
	}
	if id == "" && len(n.Children) == 0 {
		// A document that is one value: show it as the only row.
		t.nodes["0"] = n
		return []widget.TreeNodeID{"0"}
	}
	prefix := ""
	if id != "" {
		prefix = id + "/"
	}
	ids := make([]widget.TreeNodeID, 0, len(n.Children)+1)
	for i, c := range n.Children {
		cid := prefix + strconv.Itoa(i)
		t.nodes[cid] = c
		ids = append(ids, cid)
	}
	if n.Truncated {
		ids = append(ids, prefix+moreID)
	}
	return ids
}

func (t *treeView) isBranch(id widget.TreeNodeID) bool {
	if id == "" {
		return true
	}
	n := t.nodes[id]
	return n != nil && (len(n.Children) > 0 || n.Truncated)
}

// text is what a row shows: key, value (or the container's size), and the
// type annotation a format adds.
func (t *treeView) text(id widget.TreeNodeID) string {
	if id == moreID || strings.HasSuffix(id, "/"+moreID) {
		return moreText
	}
	n := t.nodes[id]
	if n == nil {
		return ""
	}
	return nodeText(n)
}

// quoteEscapes escapes what would end a quoted string early or read as an
// escape.
var quoteEscapes = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// nodeText is a node's row: key, value (or the container's size), and the
// type annotation a format adds. Strings are quoted, as JSON writes them:
// unquoted, the string "28" would read as the number 28.
func nodeText(n *decode.Node) string {
	var sb strings.Builder
	if n.Key != "" {
		sb.WriteString(n.Key)
		sb.WriteString(": ")
	}
	if n.Kind == decode.KindString {
		sb.WriteString(`"` + quoteEscapes.Replace(n.Preview(previewRunes)) + `"`)
	} else {
		sb.WriteString(n.Preview(previewRunes))
	}
	if n.Type != "" {
		sb.WriteString("  (")
		sb.WriteString(n.Type)
		sb.WriteString(")")
	}
	return sb.String()
}

// treeCols returns the columns of root's widest row, the "more" row of a
// truncated node included. It visits every node, so call it off the UI
// goroutine.
func treeCols(root *decode.Node) int {
	cols := 0
	var walk func(n *decode.Node)
	walk = func(n *decode.Node) {
		cols = max(cols, textCols(nodeText(n)))
		if n.Truncated {
			cols = max(cols, textCols(moreText))
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(root)
	return cols
}

// treeRow is one row of the tree: monospace text, whose minimum width is
// that of the document's widest row (see treeView), so that every row can
// be scrolled to its end.
type treeRow struct {
	widget.BaseWidget
	tv   *treeView
	text *canvas.Text
}

func newTreeRow(tv *treeView) *treeRow {
	r := &treeRow{tv: tv, text: canvas.NewText("", theme.Color(theme.ColorNameForeground))}
	r.text.TextStyle = fyne.TextStyle{Monospace: true}
	r.ExtendBaseWidget(r)
	return r
}

func (r *treeRow) setText(s string) {
	r.text.Color = r.Theme().Color(theme.ColorNameForeground, fyne.CurrentApp().Settings().ThemeVariant())
	r.text.Text = s
	r.text.Refresh()
}

func (r *treeRow) MinSize() fyne.Size {
	charW := fyne.MeasureText("M", theme.TextSize(), r.text.TextStyle).Width
	h := r.text.MinSize().Height + 2*theme.InnerPadding()
	return fyne.NewSize(float32(r.tv.cols+1)*charW+2*theme.InnerPadding(), h)
}

func (r *treeRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(indented(r.text))
}

// fillLayout gives its objects its whole size but asks only for their
// minimum height: what scrolls sideways inside it (the tree) must not make
// the window wider.
type fillLayout struct{}

func (fillLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (fillLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(0, h)
}

// rows returns the text of the rows currently shown (open branches
// walked), for tests.
func (t *treeView) rows() []string {
	var out []string
	var walk func(id widget.TreeNodeID)
	walk = func(id widget.TreeNodeID) {
		for _, c := range t.childIDs(id) {
			out = append(out, t.text(c))
			if t.isBranch(c) && t.tree.IsBranchOpen(c) {
				walk(c)
			}
		}
	}
	if t.root != nil {
		walk("")
	}
	return out
}
