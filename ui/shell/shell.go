// Package shell builds IoT Studio's main window: a left-hand navigation with
// one tab per feature panel. It knows nothing about the panels beyond Panel.
package shell

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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
// in the order given. It does not show the window. Panels that need the
// window themselves (for dialogs) can be created after it and added with
// AddPanels.
func NewMainWindow(a fyne.App, panels ...Panel) fyne.Window {
	w := a.NewWindow(Title)
	tabs := container.NewAppTabs()
	tabs.SetTabLocation(container.TabLocationLeading)
	w.SetContent(compactNav(tabs))
	holding.Store(tabs, struct{}{})
	w.Resize(DefaultSize)
	w.SetMaster()
	AddPanels(w, panels...)
	return w
}

// AddPanels appends panels to the navigation of a window made by
// NewMainWindow; the first panel of an empty window becomes the selected one.
// It panics if w was not made by NewMainWindow.
func AddPanels(w fyne.Window, panels ...Panel) {
	tabs, ok := Tabs(w)
	if !ok {
		panic("shell.AddPanels: window was not made by shell.NewMainWindow")
	}
	if !held(tabs) {
		defer scopeTabButtons(w.Content().(*container.ThemeOverride))
	}
	for _, p := range panels {
		item := container.NewTabItemWithIcon(p.Title(), p.Icon(), panelPage(p.Content()))
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
}

// Show shows a window made by NewMainWindow. Until then, AddPanels leaves
// the new tabs' buttons to Show, which gives them the navigation's sizes
// once: each refresh of the navigation resets Fyne's theme caches and
// measures the whole window's text again, which at start-up, once per
// AddPanels, allocated 140 MB and raised the heap the window starts with.
func Show(w fyne.Window) {
	if tabs, ok := Tabs(w); ok && held(tabs) {
		holding.Delete(tabs)
		scopeTabButtons(w.Content().(*container.ThemeOverride))
	}
	w.Show()
}

// holding holds the navigations whose windows are not shown yet.
var holding sync.Map // *container.AppTabs → struct{}

func held(tabs *container.AppTabs) bool {
	_, ok := holding.Load(tabs)
	return ok
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
	nav, ok := w.Content().(*container.ThemeOverride)
	if !ok {
		return nil, false
	}
	tabs, ok := nav.Content.(*container.AppTabs)
	return tabs, ok
}

// PageContent is the content of the panel whose tab is it.
func PageContent(it *container.TabItem) fyne.CanvasObject {
	if page, ok := it.Content.(*container.ThemeOverride); ok {
		return page.Content
	}
	return it.Content
}
