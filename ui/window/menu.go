package window

import (
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/ui/shell"
)

// docsURL is the project's page with the README, as FyneApp.toml's Website.
const docsURL = "https://github.com/iotstudio/iotstudio#readme"

// setMainMenu gives the window its menu bar (drawn inside the window on
// Linux and Windows, the system's on macOS): File, Edit, View and Help.
// Every key of the window is on a menu item: the desktop driver offers a
// shortcut to the main menu before the focused widget, so only there does
// it work while the user types in an entry; the items also show the keys.
// The same keys go on the canvas for the test driver and a window whose
// menu is not shown. Call it after the last panel is added.
func (w *Window) setMainMenu(a fyne.App, about aboutInfo) {
	quit := w.menuItem(lang.L("Quit"), fyne.KeyQ, w.win.Close) // the master window: closing it quits
	quit.IsQuit = true
	find := w.menuItem(lang.L("Find…"), fyne.KeyF, w.findTopic)
	prefs := w.menuItem(lang.L("Settings…"), fyne.KeyComma, w.ShowSettings)
	help := []*fyne.MenuItem{fyne.NewMenuItem(lang.L("About IoT Studio"), func() { showAbout(w.win, about) })}
	if u, err := url.Parse(docsURL); err == nil {
		help = append([]*fyne.MenuItem{fyne.NewMenuItem(lang.L("Documentation"), func() { _ = a.OpenURL(u) })}, help...)
	}
	w.win.SetMainMenu(fyne.NewMainMenu(
		fyne.NewMenu(lang.L("File"), quit),
		fyne.NewMenu(lang.L("Edit"), find, fyne.NewMenuItemSeparator(), prefs),
		fyne.NewMenu(lang.L("View"), shell.PanelMenuItems(w.win)...),
		fyne.NewMenu(lang.L("Help"), help...),
	))
}

// menuItem is a menu item run by Ctrl/Cmd+key, which the canvas runs too.
func (w *Window) menuItem(label string, key fyne.KeyName, action func()) *fyne.MenuItem {
	it := fyne.NewMenuItem(label, action)
	sc := shell.Shortcut(key)
	it.Shortcut = sc
	w.win.Canvas().AddShortcut(sc, func(fyne.Shortcut) { action() })
	return it
}

// findTopic is Find… (Ctrl/Cmd+F) from any panel: the Explorer comes
// forward with its filter focused, as in MQTT Explorer.
func (w *Window) findTopic() {
	if w.tops.panel == nil || !shell.ShowPanel(w.win, w.tops.panel) {
		return
	}
	w.tops.panel.FocusFilter()
}
