package explorer

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/topics"
)

// navTree is the topic tree. fyne's tree moves only a focus mark with the
// arrow keys and selects on Space; here the arrows move the selection, so
// the inspector follows as the user walks the tree, the way file managers
// and MQTT Explorer behave.
type navTree struct {
	widget.Tree
	p *Panel
}

func newNavTree(p *Panel) *navTree {
	t := &navTree{p: p}
	t.ChildUIDs = p.childUIDs
	t.IsBranch = p.isBranch
	t.CreateNode = func(bool) fyne.CanvasObject { return newRow() }
	t.UpdateNode = p.updateNode
	t.OnSelected = p.onSelect
	t.OnBranchOpened = p.onBranchOpened
	t.OnBranchClosed = p.onBranchClosed
	t.ExtendBaseWidget(t)
	return t
}

// TypedKey moves the selection: Up and Down to the previous and next row
// on screen, Right opens a branch or enters it, Left closes it or goes to
// the parent, Esc clears the filter. Other keys do what they do in fyne's tree.
func (t *navTree) TypedKey(ev *fyne.KeyEvent) {
	p := t.p
	cur := p.selected
	switch ev.Name {
	case fyne.KeyDown:
		t.selectUID(p.below(cur))
	case fyne.KeyUp:
		t.selectUID(p.above(cur))
	case fyne.KeyRight:
		uid := uidOf(cur)
		if cur == 0 || !p.isBranch(uid) {
			return
		}
		if !t.IsBranchOpen(uid) {
			t.OpenBranch(uid)
		} else if k := p.kids[cur]; len(k) > 0 {
			t.selectUID(k[0])
		}
	case fyne.KeyLeft:
		uid := uidOf(cur)
		if cur == 0 {
			return
		}
		if p.isBranch(uid) && t.IsBranchOpen(uid) {
			t.CloseBranch(uid)
		} else if d, ok := p.rows[cur]; ok && d.Parent != 0 {
			t.selectUID(uidOf(d.Parent))
		}
	case fyne.KeyEscape:
		// The filter is cleared from the tree too: after walking into a
		// filtered tree the user need not go back to the box.
		p.filter.SetText("")
	default:
		t.Tree.TypedKey(ev)
	}
}

func (t *navTree) selectUID(uid string) {
	if uid != "" {
		t.Select(uid)
	}
}

// below is the row after id on screen ("" at the end); with nothing
// selected, the first row.
func (p *Panel) below(id topics.NodeID) string {
	if id == 0 {
		return first(p.kids[0])
	}
	if _, open := p.open[id]; open && p.isBranch(uidOf(id)) {
		if k := p.kids[id]; len(k) > 0 {
			return k[0]
		}
	}
	for x := id; ; {
		parent := p.parentOf(x)
		sibs := p.kids[parent]
		if i := slices.Index(sibs, uidOf(x)); i >= 0 && i+1 < len(sibs) {
			return sibs[i+1]
		}
		if parent == 0 {
			return ""
		}
		x = parent
	}
}

// above is the row before id on screen: the previous sibling's last open
// descendant, or the parent ("" at the top).
func (p *Panel) above(id topics.NodeID) string {
	if id == 0 {
		return first(p.kids[0])
	}
	parent := p.parentOf(id)
	sibs := p.kids[parent]
	i := slices.Index(sibs, uidOf(id))
	if i <= 0 {
		return uidOf(parent)
	}
	x := sibs[i-1]
	for {
		xid := nodeID(x)
		if _, open := p.open[xid]; !open || !p.isBranch(x) || len(p.kids[xid]) == 0 {
			return x
		}
		x = p.kids[xid][len(p.kids[xid])-1]
	}
}

func (p *Panel) parentOf(id topics.NodeID) topics.NodeID {
	return p.rows[id].Parent
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
