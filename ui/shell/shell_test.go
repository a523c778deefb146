package shell

import (
	"runtime"
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
	tabs, ok := Tabs(w)
	if !ok {
		t.Fatalf("content is %T, want the navigation's tabs", w.Content())
	}
	if PageContent(tabs.Items[0]) != one.content {
		t.Error("the first tab does not hold the first panel")
	}
	// With the tab bar on the leading edge the panel sits right of it.
	if pos := tabs.Items[0].Content.Position(); pos.X <= 0 || pos.Y > pos.X {
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
	if PageContent(tabs.Selected()) != one.content {
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
	tabs, _ := Tabs(w)

	if !ShowPanel(w, publish) {
		t.Fatal("ShowPanel did not find the Publish panel")
	}
	if PageContent(tabs.Selected()) != publish.content || !publish.content.Visible() {
		t.Errorf("selected %q, want the Publish page on screen", tabs.Selected().Text)
	}
	if ShowPanel(w, fakePanel{"Other", widget.NewLabel("x")}) {
		t.Error("ShowPanel selected a panel the window does not have")
	}
	if PageContent(tabs.Selected()) != publish.content {
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
	tabs, _ := Tabs(w)

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

// tabBarOverflows reports whether the navigation hides tabs behind its
// overflow ("more") button.
func tabBarOverflows(w fyne.Window) bool {
	more := theme.MoreVerticalIcon()
	for _, o := range test.LaidOutObjects(w.Content()) {
		if b, ok := o.(*widget.Button); ok && b.Icon != nil && b.Icon.Name() == more.Name() && b.Visible() {
			return true
		}
	}
	return false
}

func TestNinePanelsFitTheDefaultWindowWithoutOverflow(t *testing.T) {
	a := test.NewTempApp(t)
	titles := []string{"Explorer", "Publish", "Subscribe", "Connections", "Broker", "Capture", "Devices", "Journal", "Bridges"}
	w := NewMainWindow(a, fakePanel{titles[0], widget.NewLabel(titles[0])})
	defer w.Close()
	for _, title := range titles[1:] {
		AddPanels(w, fakePanel{title, widget.NewLabel(title)}) // one by one, as the app adds the late ones
	}
	// The desktop window's main menu bar takes about 30 px of the 720.
	w.Resize(fyne.NewSize(DefaultSize.Width, DefaultSize.Height-36))
	if tabBarOverflows(w) {
		t.Fatalf("at %v the navigation hides panels behind its overflow button", w.Canvas().Size())
	}
	// A very short window still reaches every panel, through the overflow.
	w.Resize(fyne.NewSize(DefaultSize.Width, 400))
	if !tabBarOverflows(w) {
		t.Error("at 400 px high the navigation shows no overflow button for the panels that cannot fit")
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// textPanel is a panel with text in the three styles the app's panels use.
func textPanel(title string) fakePanel {
	return fakePanel{title, container.NewVBox(
		widget.NewLabel(title),
		widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}),
		widget.NewButtonWithIcon(title, theme.ComputerIcon(), nil),
	)}
}

// Looking at every panel costs the panels' own widgets, not fonts per
// panel: a theme override per page made Fyne parse its fonts again for
// each page and text style (about 4 MB each, kept for good), ~100 MB once
// a user had looked at the nine panels.
func TestVisitingEveryPanelDoesNotLoadFontsPerPanel(t *testing.T) {
	a := test.NewTempApp(t)
	titles := []string{"Explorer", "Publish", "Subscribe", "Connections", "Broker", "Capture", "Devices", "Journal", "Bridges"}
	w := NewMainWindow(a, textPanel(titles[0]))
	defer w.Close()
	for _, title := range titles[1:] {
		AddPanels(w, textPanel(title))
	}
	tabs, _ := Tabs(w)
	w.Canvas().Capture() // the first page draws the styles
	before := heapInUse()
	for _, it := range tabs.Items[1:] {
		tabs.Select(it)
		w.Canvas().Capture()
	}
	grown := float64(heapInUse()) - float64(before)
	t.Logf("looking at %d more panels: heap +%.1f MB", len(tabs.Items)-1, grown/1e6)
	if grown > 4e6 {
		t.Errorf("looking at %d more panels grew the heap by %.0f MB: want under 4 MB", len(tabs.Items)-1, grown/1e6)
	}
}

// A panel's widgets draw with the app theme's sizes, not the navigation's
// smaller icons and padding.
func TestPanelsKeepTheAppThemesSizes(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	b := widget.NewButtonWithIcon("Send", theme.MailSendIcon(), nil)
	w := NewMainWindow(a, fakePanel{"Publish", container.NewVBox(b)})
	defer w.Close()
	late := widget.NewButtonWithIcon("Late", theme.MailSendIcon(), nil)
	AddPanels(w, fakePanel{"Capture", container.NewVBox(late)})
	for _, b := range []*widget.Button{b, late} {
		th := b.Theme()
		if got, want := th.Size(theme.SizeNameInlineIcon), theme.DefaultTheme().Size(theme.SizeNameInlineIcon); got != want {
			t.Errorf("%q draws its icon at %v px, want the app theme's %v", b.Text, got, want)
		}
		if got, want := th.Size(theme.SizeNameInnerPadding), theme.DefaultTheme().Size(theme.SizeNameInnerPadding); got != want {
			t.Errorf("%q has inner padding %v, want the app theme's %v", b.Text, got, want)
		}
	}
}
