package inspector

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

const (
	// previewRunes is how much of a value one tree row shows.
	previewRunes = 200
	// openAllBelow: a document with fewer nodes than this opens fully;
	// larger ones start with their first level, so opening a 10 MB
	// document lays out a screenful, not 100,000 rows.
	openAllBelow = 200
	moreID       = "more"
)

// treeView is the collapsible tree of a structured payload. Node IDs are
// the child indices from the root ("3/0/12"), resolved through a map that
// fills as branches are opened, so nothing is built for closed branches.
type treeView struct {
	tree  *widget.Tree
	root  *decode.Node
	nodes map[widget.TreeNodeID]*decode.Node
}

func newTreeView() *treeView {
	t := &treeView{}
	t.tree = widget.NewTree(t.childIDs, t.isBranch,
		func(bool) fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(t.text(id))
		})
	return t
}

func (t *treeView) set(root *decode.Node) {
	if root == t.root {
		return
	}
	t.root = root
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
		return "… more not shown: the tree stops at " + numfmt.Count(decode.MaxTreeNodes) +
			" nodes; the Text view shows every byte"
	}
	n := t.nodes[id]
	if n == nil {
		return ""
	}
	var sb strings.Builder
	if n.Key != "" {
		sb.WriteString(n.Key)
		sb.WriteString(": ")
	}
	sb.WriteString(n.Preview(previewRunes))
	if n.Type != "" {
		sb.WriteString("  (")
		sb.WriteString(n.Type)
		sb.WriteString(")")
	}
	return sb.String()
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
