package uitest

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// Ctrl is key with Ctrl on Linux and Windows (Cmd on macOS), as a user
// presses it.
func Ctrl(key fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}
}

// Press delivers a shortcut to w the way Fyne's desktop driver does (its
// window.triggersShortcut): the main menu's items first, then the focused
// widget if it takes shortcuts (an entry, which drops the ones it does not
// know), and only with nothing such focused the canvas's own shortcuts.
// fyne's test canvas skips the first two steps, so a shortcut registered
// only on the canvas would pass there and do nothing with an entry focused.
func Press(w fyne.Window, sc fyne.Shortcut) {
	if m := w.MainMenu(); m != nil {
		for _, menu := range m.Items {
			for _, it := range menu.Items {
				if it.Shortcut != nil && it.Action != nil && it.Shortcut.ShortcutName() == sc.ShortcutName() {
					it.Action()
					return
				}
			}
		}
	}
	if f, ok := w.Canvas().Focused().(fyne.Shortcutable); ok {
		f.TypedShortcut(sc)
		return
	}
	w.Canvas().(fyne.Shortcutable).TypedShortcut(sc)
}

// PressKey delivers a key without modifiers as the desktop driver does: to
// the focused widget, or the canvas's key handler with none focused.
func PressKey(w fyne.Window, key fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: key}
	if f := w.Canvas().Focused(); f != nil {
		f.TypedKey(ev)
		return
	}
	if on := w.Canvas().OnTypedKey(); on != nil {
		on(ev)
	}
}
