package welcome

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func newCard(t *testing.T, info *Info, send func() error) (*Card, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	c := New(w, Options{Info: func() Info { return *info }, SendTest: send, Do: func(fn func()) { fn() }})
	w.SetContent(c.Content())
	w.Resize(fyne.NewSize(500, 700))
	_ = a
	return c, w
}

// The first screen says where the broker runs and gives the lines that
// reach it, ready to copy; it follows the broker when it stops or moves.
func TestCardSaysWhatRunsAndHowToReachIt(t *testing.T) {
	info := Info{Running: true, MQTT: "127.0.0.1:18830", WS: "ws://127.0.0.1:18083/mqtt", DataDir: "/home/ada/.config/iotstudio"}
	c, _ := newCard(t, &info, func() error { return nil })
	for _, want := range []string{"mqtt://127.0.0.1:18830"} {
		if !strings.Contains(c.state.Text, want) {
			t.Errorf("state %q does not say %s", c.state.Text, want)
		}
	}
	if c.sub.Text != "mosquitto_sub -h 127.0.0.1 -p 18830 -t '#' -v" {
		t.Errorf("subscribe line %q", c.sub.Text)
	}
	if !strings.HasPrefix(c.pub.Text, "mosquitto_pub -h 127.0.0.1 -p 18830 -t iotstudio/hello -m ") {
		t.Errorf("publish line %q", c.pub.Text)
	}
	if c.ws.Text != info.WS || !strings.Contains(c.dataDir.Text, info.DataDir) {
		t.Errorf("WebSocket %q, data %q", c.ws.Text, c.dataDir.Text)
	}
	test.Tap(findCopy(t, c))
	if got := fyne.CurrentApp().Clipboard().Content(); got != c.sub.Text {
		t.Errorf("copy put %q on the clipboard, want the subscribe line", got)
	}

	if !c.wsCopy.Visible() {
		t.Error("no copy button beside the WebSocket URL")
	}
	c.show(Info{Running: true, MQTT: "127.0.0.1:1883"})
	if c.wsCopy.Visible() || !strings.HasPrefix(c.ws.Text, "off") {
		t.Errorf("WebSocket off: %q with a copy button %v, want no button", c.ws.Text, c.wsCopy.Visible())
	}

	info = Info{Problem: "Port 1883 is already in use by another program.", DataDir: info.DataDir}
	c.show(info)
	if !strings.Contains(c.state.Text, "not running: Port 1883 is already in use") || c.lines.Visible() || !c.sendBtn.Disabled() {
		t.Errorf("stopped broker: state %q, commands shown %v, send enabled %v", c.state.Text, c.lines.Visible(), !c.sendBtn.Disabled())
	}
	// An engine error ends without a full stop; the hint still reads as
	// a sentence of its own (Xvfb showed "…another process Change its…").
	info = Info{Problem: "sessionstore: database is locked by another process", DataDir: info.DataDir}
	c.show(info)
	if !strings.Contains(c.state.Text, "another process. Change its settings") {
		t.Errorf("stopped broker: %q, want the problem and the hint as two sentences", c.state.Text)
	}
}

// One click sends a test message and says where it went, or why not.
func TestCardSendsATestMessage(t *testing.T) {
	info := Info{Running: true, MQTT: "127.0.0.1:1883"}
	sent := 0
	var fail error
	c, _ := newCard(t, &info, func() error { sent++; return fail })
	test.Tap(c.sendBtn)
	if sent != 1 || !strings.Contains(c.sent.Text, "Sent to iotstudio/hello") {
		t.Fatalf("sent %d, says %q", sent, c.sent.Text)
	}
	fail = errors.New("broker is not running")
	test.Tap(c.sendBtn)
	if !strings.Contains(c.sent.Text, "Could not send: broker is not running") {
		t.Fatalf("a failed send says %q", c.sent.Text)
	}
}

// findCopy is the copy button of the subscribe line.
func findCopy(t *testing.T, c *Card) fyne.Tappable {
	t.Helper()
	row := c.lines.Objects[1].(*fyne.Container)
	for _, o := range row.Objects {
		if b, ok := o.(fyne.Tappable); ok && o != fyne.CanvasObject(c.sub) {
			return b
		}
	}
	t.Fatal("no copy button beside the subscribe line")
	return nil
}
