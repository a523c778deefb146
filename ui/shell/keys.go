package shell

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// Shortcut is key with Ctrl on Linux and Windows and Cmd on macOS, the
// modifier each platform's users expect for an application's commands.
func Shortcut(key fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}
}

// digitKeys are the keys of Ctrl/Cmd+1…9, the first nine panels.
var digitKeys = []fyne.KeyName{fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5, fyne.Key6, fyne.Key7, fyne.Key8, fyne.Key9}

// PanelMenuItems returns the View menu of a window made by NewMainWindow:
// one item per panel, in navigation order, that brings it forward, the
// first nine with Ctrl/Cmd+1…9. It registers those keys on the window's
// canvas too. Put the items in the window's main menu: the desktop driver
// gives a shortcut to a focused entry (which drops it) before the canvas,
// but to the main menu before either, so only there do the keys work while
// the user types. Call it after the last AddPanels.
func PanelMenuItems(w fyne.Window) []*fyne.MenuItem {
	tabs, ok := Tabs(w)
	if !ok {
		return nil
	}
	items := make([]*fyne.MenuItem, 0, len(tabs.Items))
	for i, tab := range tabs.Items {
		show := func() { tabs.Select(tab) }
		item := fyne.NewMenuItem(tab.Text, show)
		item.Icon = tab.Icon
		if i < len(digitKeys) {
			sc := Shortcut(digitKeys[i])
			item.Shortcut = sc
			w.Canvas().AddShortcut(sc, func(fyne.Shortcut) { show() })
		}
		items = append(items, item)
	}
	return items
}
