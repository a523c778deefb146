package msgline

import (
	"runtime"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
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

// Laying a panel out does not make widgets: the kept height was measured
// with two new labels at every layout, and Fyne keeps a widget's renderer
// for a minute, so a busy window held ~12 MB of them.
func TestLayoutMakesNoWidgets(t *testing.T) {
	test.NewTempApp(t)
	c := Reserve(2, widget.NewLabel("Published to a/b."))
	c.MinSize()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 1000 {
		c.MinSize()
	}
	runtime.ReadMemStats(&after)
	if got := after.Mallocs - before.Mallocs; got > 1000 {
		t.Errorf("1,000 layouts made %d allocations: want none for the kept height", got)
	}
}

// The kept height follows the text size Settings chose.
func TestKeptHeightFollowsTheTextSize(t *testing.T) {
	a := test.NewTempApp(t)
	c := Reserve(1)
	normal := c.MinSize().Height
	a.Settings().SetTheme(largerText{theme.DefaultTheme()})
	if got, want := c.MinSize().Height, widget.NewLabel("x").MinSize().Height; got != want || got <= normal {
		t.Errorf("at a larger text size the kept line is %v px (was %v), a label needs %v", got, normal, want)
	}
}

type largerText struct{ fyne.Theme }

func (t largerText) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameText {
		return 1.5 * t.Theme.Size(n)
	}
	return t.Theme.Size(n)
}
