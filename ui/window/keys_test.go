package window

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/explorer"
	"github.com/iotstudio/iotstudio/ui/publish"
	"github.com/iotstudio/iotstudio/ui/shell"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// textEntry is an entry of any panel's own type (they wrap widget.Entry
// to catch keys).
type textEntry interface {
	fyne.CanvasObject
	fyne.Focusable
	SetText(string)
}

// stubPanel stands in for a panel the keys only switch to.
type stubPanel struct {
	title   string
	content fyne.CanvasObject
}

func (p stubPanel) Title() string              { return p.title }
func (p stubPanel) Icon() fyne.Resource        { return theme.ComputerIcon() }
func (p stubPanel) Content() fyne.CanvasObject { return p.content }

// newKeysWindow is the main window with its menu and keys, the real
// Explorer and Publish panels and stand-ins for the other five, in the
// app's order. Nothing serves the panels: under fyne's test driver fyne.Do
// runs on the caller's goroutine, so New's serving panels would race the
// test; the keys need only the widgets.
func newKeysWindow(t *testing.T, about aboutInfo) *Window {
	t.Helper()
	a := test.NewTempApp(t)
	win := shell.NewMainWindow(a)
	t.Cleanup(func() {
		if slices.Contains(a.Driver().AllWindows(), win) { // not quit by the test
			win.Close()
		}
	})
	exp := explorer.New(topics.New(topics.Options{}), win, explorer.Options{})
	mgr := client.NewManager(nil, client.Options{Logger: testkit.Logger()})
	pub := publish.New(mgr, win, publish.Options{DataDir: t.TempDir(), Logger: testkit.Logger()})
	shell.AddPanels(win, exp, pub)
	for _, title := range []string{"Subscribe", "Connections", "Broker", "Capture", "Devices"} {
		shell.AddPanels(win, stubPanel{title, widget.NewLabel(title)})
	}
	w := &Window{win: win, tops: &topicsView{panel: exp}}
	w.setMainMenu(a, about)
	win.Resize(fyne.NewSize(1100, 720))
	return w
}

// The keys a user of the window presses, from any panel and while typing
// in an entry: Ctrl/Cmd+N brings the Nth of the seven panels forward,
// Ctrl/Cmd+F the Explorer with its filter focused, Ctrl/Cmd+Q quits.
func TestWindowShortcutsWorkFromAnyPanelWhileTyping(t *testing.T) {
	w := newKeysWindow(t, aboutInfo{Version: "v1.2.3", DataDir: t.TempDir()})
	tabs := mustTabs(w.win)
	var titles []string
	for _, it := range tabs.Items {
		titles = append(titles, it.Text)
	}
	if want := []string{"Explorer", "Publish", "Subscribe", "Connections", "Broker", "Capture", "Devices"}; !slices.Equal(titles, want) {
		t.Fatalf("panels %v, want %v", titles, want)
	}
	shown := func() string { return tabs.Selected().Text }

	uitest.Press(w.win, uitest.Ctrl(fyne.Key2))
	if shown() != "Publish" {
		t.Fatalf("after Ctrl+2 %q is shown, want Publish", shown())
	}
	topic := uitest.First[textEntry](t, shell.PageContent(tabs.Selected()), "Publish entry", nil)
	w.win.Canvas().Focus(topic)
	test.Type(topic, "lab/")
	uitest.Press(w.win, uitest.Ctrl(fyne.Key3))
	if shown() != "Subscribe" {
		t.Fatalf("after Ctrl+3 in the Publish topic %q is shown, want Subscribe", shown())
	}
	for i, want := range titles {
		uitest.Press(w.win, uitest.Ctrl(fyne.KeyName(string(rune('1'+i)))))
		if shown() != want {
			t.Errorf("after Ctrl+%d %q is shown, want %s", i+1, shown(), want)
		}
	}

	uitest.Press(w.win, uitest.Ctrl(fyne.Key2))
	w.win.Canvas().Focus(topic)
	uitest.Press(w.win, uitest.Ctrl(fyne.KeyF))
	if shown() != "Explorer" {
		t.Fatalf("after Ctrl+F in the Publish panel %q is shown, want the Explorer", shown())
	}
	filter := uitest.First[textEntry](t, shell.PageContent(tabs.Selected()), "Explorer filter", nil)
	if f := w.win.Canvas().Focused(); f != filter {
		t.Errorf("after Ctrl+F the focus is on %T, want the Explorer's filter", f)
	}

	closed := false
	w.win.SetOnClosed(func() { closed = true })
	uitest.Press(w.win, uitest.Ctrl(fyne.KeyQ))
	if !closed {
		t.Error("Ctrl+Q did not close the window (and so quit the app)")
	}
}

// The menu bar has File, Edit, View and Help, each command shows its key,
// and Help's About names the app, its version and where it keeps data.
func TestMainMenuAndAbout(t *testing.T) {
	data := t.TempDir()
	w := newKeysWindow(t, aboutInfo{Version: "v1.2.3", DataDir: data})
	m := w.win.MainMenu()
	if m == nil {
		t.Fatal("the window has no main menu")
	}
	var menus []string
	item := map[string]*fyne.MenuItem{}
	for _, menu := range m.Items {
		menus = append(menus, menu.Label)
		for _, it := range menu.Items {
			item[menu.Label+"/"+it.Label] = it
		}
	}
	if want := []string{"File", "Edit", "View", "Help"}; !slices.Equal(menus, want) {
		t.Fatalf("menus %v, want %v", menus, want)
	}
	for path, key := range map[string]fyne.KeyName{"File/Quit": fyne.KeyQ, "Edit/Find…": fyne.KeyF, "View/Explorer": fyne.Key1, "View/Devices": fyne.Key7} {
		it := item[path]
		if it == nil || it.Shortcut == nil || it.Shortcut.ShortcutName() != uitest.Ctrl(key).ShortcutName() {
			t.Errorf("menu item %s: %+v, want one with Ctrl/Cmd+%s", path, it, key)
		}
	}
	about := item["Help/About IoT Studio"]
	if about == nil {
		t.Fatal("no Help/About IoT Studio")
	}
	about.Action()
	top := w.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("About opened no dialog")
	}
	text := strings.Join(uitest.Labels(top), "\n")
	for _, want := range []string{"IoT Studio", "v1.2.3", data, "Licence"} {
		if !strings.Contains(text, want) {
			t.Errorf("About says %q; want it to name %q", text, want)
		}
	}
	// The licences of the modules built in, one click away.
	test.Tap(uitest.OverlayButton(t, w.win, "Third-party licences…"))
	notice := strings.Join(uitest.Labels(w.win.Canvas().Overlays().Top()), "\n")
	for _, want := range []string{"github.com/mochi-mqtt/server/v2", "fyne.io/fyne/v2", "MIT License"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the third-party licences lack %q", want)
		}
	}
}
