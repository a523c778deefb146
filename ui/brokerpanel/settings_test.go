package brokerpanel

import (
	"net"
	"strings"
	"testing"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// validationMark is the mark a validated entry shows: "✓", "✗" or "".
func validationMark(e *widget.Entry) string {
	confirm := e.Theme().Icon(theme.IconNameConfirm).Name()
	mark := ""
	uitest.Walk(e, func(o fyne.CanvasObject) bool {
		if img, ok := o.(*canvas.Image); ok && img.Resource != nil {
			switch name := img.Resource.Name(); {
			case name == confirm:
				mark = "✓"
			case strings.Contains(name, "error"):
				mark = "✗"
			}
		}
		return true
	})
	return mark
}

// A port another program holds is refused in the dialog, not after Save:
// no ✓, a sentence naming the port; Save changes nothing, neither the
// preferences nor the running broker and its clients.
func TestRealBrokerSettingsRefuseBusyPort(t *testing.T) {
	b := newRealBroker(t, "127.0.0.1:0")
	h := newHarness(t, b)
	p := h.panel
	h.app.Preferences().SetString(KeyMQTTAddr, "127.0.0.1:0")
	test.Tap(p.startStop)
	h.q.Run(t)
	before := b.State()
	if before.Status != broker.Running {
		t.Fatalf("broker did not start: %v", before.Err)
	}
	conn := mqttClient(t, before.Listeners[0].Address, "stays-connected", "t/#")
	defer conn.Close()
	busy := brokertest.HoldPort(t)
	_, port, _ := net.SplitHostPort(busy)

	test.Tap(p.settingsBtn)
	s := p.settings
	s.mqtt.SetText("")
	test.Type(s.mqtt, busy)

	if mark := validationMark(s.mqtt); mark == "✓" {
		t.Errorf("the entry shows ✓ for %s, which another program holds", busy)
	}
	msg := s.errText.Text
	if msg == "" || !unicode.IsUpper([]rune(msg)[0]) || !strings.Contains(msg, "Port "+port+" ") || strings.Contains(msg, "--") {
		t.Errorf("dialog says %q: want a sentence starting with a capital that names port %s, without command-line flags", msg, port)
	}

	test.Tap(s.save)
	h.q.Drain()
	if h.win.Canvas().Overlays().Top() == nil {
		t.Error("Save closed the dialog although the port is busy")
	}
	if got := h.app.Preferences().String(KeyMQTTAddr); got != "127.0.0.1:0" {
		t.Errorf("preferences hold MQTT address %q after the refused change, want the old 127.0.0.1:0", got)
	}
	after := b.State()
	if after.Status != broker.Running || after.Since != before.Since || after.Listeners[0] != before.Listeners[0] {
		t.Errorf("broker after the refused change: %v since %v on %+v; want still running since %v on %+v",
			after.Status, after.Since, after.Listeners, before.Since, before.Listeners)
	}
	if err := b.Publish("t/still", []byte("x"), false, 0); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if pk := readPacket(t, conn); pk[0]&0xf0 != 0x30 {
		t.Errorf("the connected client got % x, want the PUBLISH", pk)
	}
}
