package msgline

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// The kept height is the same with the message hidden or shown, and a
// message longer than was kept still shows whole.
func TestReserveKeepsItsHeight(t *testing.T) {
	test.NewTempApp(t)
	msg := widget.NewLabel("Published to a/b.")
	msg.Hide()
	c := Reserve(1, msg)
	empty := c.MinSize().Height
	if want := widget.NewLabel("x").MinSize().Height; empty != want {
		t.Fatalf("an empty line keeps %v px, a label needs %v", empty, want)
	}
	msg.Show()
	if got := c.MinSize().Height; got != empty {
		t.Errorf("a one-line message changed the height from %v to %v", empty, got)
	}
	msg.SetText("line one\nline two")
	if got := c.MinSize().Height; got <= empty {
		t.Errorf("a two-line message is squeezed into %v px", got)
	}
}
