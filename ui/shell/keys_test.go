package shell

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/uitest"
)

// Ctrl/Cmd+N brings the Nth panel forward from wherever the user is,
// also while typing in an entry (the desktop driver gives the focused
// entry the shortcut unless the main menu has it), and the View menu
// lists each panel with its key.
func TestCtrlDigitShowsThatPanelEvenWhileTyping(t *testing.T) {
	a := test.NewTempApp(t)
	filter := widget.NewEntry()
	explorer := fakePanel{"Explorer", container.NewVBox(filter)}
	publish := fakePanel{"Publish", widget.NewLabel("form")}
	subscribe := fakePanel{"Subscribe", widget.NewLabel("messages")}
	w := NewMainWindow(a, explorer, publish, subscribe)
	defer w.Close()
	tabs, _ := Tabs(w)

	items := PanelMenuItems(w)
	w.SetMainMenu(fyne.NewMainMenu(fyne.NewMenu("View", items...)))
	for i, want := range []string{"Explorer", "Publish", "Subscribe"} {
		if i >= len(items) {
			t.Fatalf("View menu has %d items, want 3", len(items))
		}
		sc := uitest.Ctrl(fyne.KeyName(string(rune('1' + i))))
		if it := items[i]; it.Label != want || it.Shortcut == nil || it.Shortcut.ShortcutName() != sc.ShortcutName() {
			t.Errorf("View item %d: %q with %v, want %q with %s", i, it.Label, it.Shortcut, want, sc.ShortcutName())
		}
	}

	w.Canvas().Focus(filter)
	uitest.Press(w, uitest.Ctrl(fyne.Key3))
	if got := tabs.Selected().Text; got != "Subscribe" || !subscribe.content.Visible() {
		t.Fatalf("after Ctrl+3 in the Explorer's filter the %q panel is shown, want Subscribe", got)
	}
	uitest.Press(w, uitest.Ctrl(fyne.Key9)) // no ninth panel
	if got := tabs.Selected().Text; got != "Subscribe" {
		t.Errorf("Ctrl+9 with three panels moved to %q", got)
	}

	// Without the menu (a window that has none yet), with nothing focused,
	// the canvas's shortcuts do it.
	w.SetMainMenu(nil)
	w.Canvas().Unfocus()
	uitest.Press(w, uitest.Ctrl(fyne.Key2))
	if got := tabs.Selected().Text; got != "Publish" {
		t.Errorf("after Ctrl+2 the %q panel is shown, want Publish", got)
	}
}
