// Package shell builds IoT Studio's main window: a left-hand navigation with
// one tab per feature panel. It knows nothing about the panels beyond Panel.
package shell

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Title is the main window's title.
const Title = "IoT Studio"

// DefaultSize is the main window's initial size.
var DefaultSize = fyne.NewSize(1100, 720)

// Panel is one feature page of the main window (Broker, Topics, ...).
type Panel interface {
	Title() string
	Icon() fyne.Resource
	Content() fyne.CanvasObject
}

// Shower is a Panel that wants to know when its page is brought forward
// (a tap on its tab, or ShowPanel): the Capture panel lists the newest
// messages then if it had nothing to list when the app started.
type Shower interface {
	Shown()
}

// NewMainWindow creates the main window with the panels in the navigation,
// in the order given. It does not show the window (Show does). Panels that
// need the window themselves (for dialogs) can be created after it and
// added with AddPanels.
//
// The navigation draws with smaller sizes through a theme override, and
// the panels sit beside it rather than inside its tabs: under an override
// a panel would need one of its own to get the app's sizes back, and Fyne
// parses its fonts again for every override and text style it draws
// (about 4-6 MB each, kept for good): 20 MB of the window's RSS for the
// Explorer alone, ~150 MB once the nine panels had been looked at.
func NewMainWindow(a fyne.App, panels ...Panel) fyne.Window {
	w := a.NewWindow(Title)
	tabs := container.NewAppTabs()
	tabs.SetTabLocation(container.TabLocationLeading)
	n := &navigation{tabs: tabs, over: compactNav(tabs), pages: container.NewStack(), held: true}
	tabs.OnSelected = n.show
	w.SetContent(container.New(besideLayout{nav: n}, n.over, n.pages))
	w.Resize(DefaultSize)
	w.SetMaster()
	AddPanels(w, panels...)
	return w
}

// besideLayout puts the navigation at its width on the left and the pages
// right against it, where the tabs' own content area started. The window's
// content keeps its navigation here, so Tabs finds it and nothing outlives
// the window.
type besideLayout struct{ nav *navigation }

func (besideLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	navW := objs[0].MinSize().Width
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(navW, size.Height))
	objs[1].Move(fyne.NewPos(navW, 0))
	objs[1].Resize(fyne.NewSize(max(size.Width-navW, 0), size.Height))
}

func (besideLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	nav, pages := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(nav.Width+pages.Width, max(nav.Height, pages.Height))
}

// navigation is a main window's tabs and the pages beside them.
type navigation struct {
	tabs  *container.AppTabs
	over  *container.ThemeOverride // the tabs at the navigation's sizes
	pages *fyne.Container          // every panel's content; the selected one shown
	held  bool                     // not shown yet: Show scopes the tab buttons
}

func navOf(w fyne.Window) (*navigation, bool) {
	c, ok := w.Content().(*fyne.Container)
	if !ok {
		return nil, false
	}
	b, ok := c.Layout.(besideLayout)
	return b.nav, ok
}

// hole is a tab's own content: nothing, the size of nothing. It knows the
// panel shown beside the tabs when the tab is selected.
type hole struct {
	widget.BaseWidget
	page fyne.CanvasObject
}

func newHole(page fyne.CanvasObject) *hole {
	h := &hole{page: page}
	h.ExtendBaseWidget(h)
	return h
}

func (h *hole) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(color.Transparent))
}

// show shows the page of the selected tab and hides the others (Show
// and Hide redraw what changed; refreshing the pages would measure every
// panel's text again).
func (n *navigation) show(selected *container.TabItem) {
	for _, it := range n.tabs.Items {
		page := PageContent(it)
		if it == selected {
			page.Show()
		} else {
			page.Hide()
		}
	}
}

// AddPanels appends panels to the navigation of a window made by
// NewMainWindow; the first panel of an empty window becomes the selected one.
// It panics if w was not made by NewMainWindow.
func AddPanels(w fyne.Window, panels ...Panel) {
	n, ok := navOf(w)
	if !ok {
		panic("shell.AddPanels: window was not made by shell.NewMainWindow")
	}
	tabs := n.tabs
	if !n.held {
		defer scopeTabButtons(n.over)
	}
	for _, p := range panels {
		item := container.NewTabItemWithIcon(p.Title(), p.Icon(), newHole(p.Content()))
		n.pages.Add(p.Content())
		tabs.Append(item)
		if s, ok := p.(Shower); ok {
			prev := tabs.OnSelected
			tabs.OnSelected = func(it *container.TabItem) {
				if prev != nil {
					prev(it)
				}
				if it == item {
					s.Shown()
				}
			}
		}
	}
	n.show(tabs.Selected())
}

// Show shows a window made by NewMainWindow. Until then, AddPanels leaves
// the new tabs' buttons to Show, which gives them the navigation's sizes
// once: each refresh of the navigation resets Fyne's theme caches and
// measures text again, which at start-up, once per AddPanels, allocated
// 140 MB and raised the heap the window starts with.
func Show(w fyne.Window) {
	if n, ok := navOf(w); ok && n.held {
		n.held = false
		scopeTabButtons(n.over)
	}
	w.Show()
}

// ShowPanel selects p's page in a window made by NewMainWindow, so that an
// action in one panel can open another (the Explorer's "Publish to this
// topic" brings the Publish panel forward). It reports whether p is one of
// the window's panels.
func ShowPanel(w fyne.Window, p Panel) bool {
	tabs, ok := Tabs(w)
	if !ok {
		return false
	}
	for _, it := range tabs.Items {
		if PageContent(it) == p.Content() {
			tabs.Select(it)
			return true
		}
	}
	return false
}

// Tabs is the navigation of a window made by NewMainWindow: one item per
// panel, in order. It reports false for any other window.
func Tabs(w fyne.Window) (*container.AppTabs, bool) {
	n, ok := navOf(w)
	if !ok {
		return nil, false
	}
	return n.tabs, true
}

// PageContent is the content of the panel whose tab is it.
func PageContent(it *container.TabItem) fyne.CanvasObject {
	if h, ok := it.Content.(*hole); ok {
		return h.page
	}
	return it.Content
}
