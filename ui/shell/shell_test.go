package shell

import (
	"runtime"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/uitest"
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
// each page and text style (about 4 MB each, kept for good), ~150 MB once
// a user had looked at the nine panels. Only the selected panel shows.
func TestVisitingEveryPanelDoesNotLoadFontsPerPanel(t *testing.T) {
	a := test.NewTempApp(t)
	titles := []string{"Explorer", "Publish", "Subscribe", "Connections", "Broker", "Capture", "Devices", "Journal", "Bridges"}
	w := NewMainWindow(a, textPanel(titles[0]))
	defer w.Close()
	for _, title := range titles[1:] {
		AddPanels(w, textPanel(title))
	}
	Show(w)
	tabs, _ := Tabs(w)
	w.Canvas().Capture() // the first page draws the styles
	before := uitest.LiveHeap()
	for _, it := range tabs.Items[1:] {
		tabs.Select(it)
		w.Canvas().Capture()
		for _, other := range tabs.Items {
			if shown := PageContent(other).Visible(); shown != (other == it) {
				t.Errorf("with %q selected, %q's page shown: %v", it.Text, other.Text, shown)
			}
		}
	}
	grown := float64(uitest.LiveHeap()) - float64(before)
	t.Logf("looking at %d more panels: heap +%.1f MB", len(tabs.Items)-1, grown/1e6)
	if grown > 4e6 {
		t.Errorf("looking at %d more panels grew the heap by %.0f MB: want under 4 MB", len(tabs.Items)-1, grown/1e6)
	}
}

// A panel's widgets draw with the app theme's sizes, not the navigation's
// smaller icons and padding, when the window lays them out: Fyne's
// override makes its theme the current one while it lays out what is
// under it, so a panel needs a page that puts the app theme back.
func TestPanelsKeepTheAppThemesSizes(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	ref := test.NewTempWindow(t, widget.NewButtonWithIcon("Send", theme.MailSendIcon(), nil))
	want := ref.Content().MinSize()

	b := widget.NewButtonWithIcon("Send", theme.MailSendIcon(), nil)
	w := NewMainWindow(a, fakePanel{"Publish", container.NewVBox(b)})
	defer w.Close()
	late := widget.NewButtonWithIcon("Send", theme.MailSendIcon(), nil)
	AddPanels(w, fakePanel{"Capture", container.NewVBox(late)})
	Show(w)
	tabs, _ := Tabs(w)
	for i := range tabs.Items {
		tabs.SelectIndex(i)
		// A new window size lays the whole window out from the top, as
		// the desktop driver does.
		w.Resize(fyne.NewSize(DefaultSize.Width+float32(10*(i+1)), DefaultSize.Height))
	}
	for i, b := range []*widget.Button{b, late} {
		// Its height is what the window laid it out at.
		if got := b.Size().Height; got != want.Height {
			t.Errorf("panel %d's button is %v px high, the same button outside the window %v: the navigation's sizes reach the panel", i+1, got, want.Height)
		}
	}
}

// Adding the panels before the window shows measures the window's text
// once, at Show, not again at every AddPanels: at start-up that churn
// allocated 140 MB and raised the heap the window starts with.
func TestAddingPanelsBeforeShowDoesNotMeasureEachTime(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	titles := []string{"Explorer", "Publish", "Subscribe", "Connections", "Broker", "Capture", "Devices", "Journal", "Bridges"}
	w := NewMainWindow(a, textPanel(titles[0]))
	defer w.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, title := range titles[1:] {
		AddPanels(w, textPanel(title))
	}
	runtime.ReadMemStats(&after)
	// 46 MB with a refresh at each AddPanels, 23 MB without (these
	// panels are small; the app's allocated 140 MB more).
	if got := float64(after.TotalAlloc-before.TotalAlloc) / 1e6; got > 34 {
		t.Errorf("adding %d panels before Show allocated %.1f MB: want under 34 MB", len(titles)-1, got)
	}
	Show(w)
	if tabBarOverflows(w) {
		t.Error("after Show the navigation's buttons are not drawn at its sizes")
	}
}
