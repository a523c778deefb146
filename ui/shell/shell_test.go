package shell

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

type fakePanel struct {
	title   string
	content fyne.CanvasObject
}

func (p fakePanel) Title() string              { return p.title }
func (p fakePanel) Icon() fyne.Resource        { return theme.ComputerIcon() }
func (p fakePanel) Content() fyne.CanvasObject { return p.content }

func TestMainWindowHostsPanelsInLeadingTabs(t *testing.T) {
	a := test.NewTempApp(t)
	one := fakePanel{"Broker", widget.NewLabel("broker")}
	w := NewMainWindow(a, one)
	defer w.Close()

	if w.Title() != "IoT Studio" {
		t.Errorf("title %q", w.Title())
	}
	if got := w.Canvas().Size(); got.Width < 1000 || got.Height < 700 {
		t.Errorf("window size %v, want about 1100x720", got)
	}
	tabs, ok := w.Content().(*container.AppTabs)
	if !ok {
		t.Fatalf("content is %T, want *container.AppTabs", w.Content())
	}
	// With the tab bar on the leading edge the panel sits right of it.
	if pos := one.content.Position(); pos.X <= 0 || pos.Y > pos.X {
		t.Errorf("panel content at %v: navigation is not on the leading edge", pos)
	}

	AddPanels(w, fakePanel{"Topics", widget.NewLabel("topics")})
	if len(tabs.Items) != 2 {
		t.Fatalf("%d tabs, want 2", len(tabs.Items))
	}
	for i, want := range []string{"Broker", "Topics"} {
		if it := tabs.Items[i]; it.Text != want || it.Icon == nil {
			t.Errorf("tab %d = %q (icon %v), want %q with an icon", i, it.Text, it.Icon, want)
		}
	}
	if tabs.Selected().Content != one.content {
		t.Error("first panel is not selected")
	}
}

func TestAddPanelsRejectsForeignWindow(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("other")
	defer func() {
		if recover() == nil {
			t.Error("AddPanels accepted a window not made by NewMainWindow")
		}
	}()
	AddPanels(w, fakePanel{"X", widget.NewLabel("x")})
}

func TestShowPanelSelectsItsPage(t *testing.T) {
	a := test.NewTempApp(t)
	explorer := fakePanel{"Explorer", widget.NewLabel("tree")}
	publish := fakePanel{"Publish", widget.NewLabel("form")}
	w := NewMainWindow(a, explorer, publish)
	defer w.Close()
	tabs := w.Content().(*container.AppTabs)

	if !ShowPanel(w, publish) {
		t.Fatal("ShowPanel did not find the Publish panel")
	}
	if tabs.Selected().Content != publish.content || !publish.content.Visible() {
		t.Errorf("selected %q, want the Publish page on screen", tabs.Selected().Text)
	}
	if ShowPanel(w, fakePanel{"Other", widget.NewLabel("x")}) {
		t.Error("ShowPanel selected a panel the window does not have")
	}
	if tabs.Selected().Content != publish.content {
		t.Error("a panel the window does not have changed the selection")
	}
}

// showerPanel counts how often its page was brought forward.
type showerPanel struct {
	fakePanel
	shown *int
}

func (p showerPanel) Shown() { *p.shown++ }

func TestShowerIsToldWhenItsPageIsSelected(t *testing.T) {
	a := test.NewTempApp(t)
	var explorerShown, captureShown int
	explorer := showerPanel{fakePanel{"Explorer", widget.NewLabel("tree")}, &explorerShown}
	publish := fakePanel{"Publish", widget.NewLabel("form")}
	w := NewMainWindow(a, explorer, publish)
	defer w.Close()
	capture := showerPanel{fakePanel{"Capture", widget.NewLabel("records")}, &captureShown}
	AddPanels(w, capture)
	tabs := w.Content().(*container.AppTabs)

	ShowPanel(w, capture)
	if captureShown != 1 || explorerShown != 0 {
		t.Fatalf("after showing Capture: Capture told %d times, Explorer %d; want 1 and 0", captureShown, explorerShown)
	}
	tabs.SelectIndex(1) // Publish, which does not ask
	tabs.SelectIndex(0)
	if explorerShown != 1 || captureShown != 1 {
		t.Fatalf("after showing Publish, then Explorer: Explorer told %d times, Capture %d; want 1 and 1", explorerShown, captureShown)
	}
}
