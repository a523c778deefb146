package connections

import (
	"fyne.io/fyne/v2/lang"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// A new connection is made with the automatic protocol; saving it
// connects it (and remembers to at the next start), and its row says
// which protocol was chosen.
func TestSavedNewConnectionConnects(t *testing.T) {
	srv := brokertest.Start(t)
	front := testkit.StartMQTT311Only(t, srv.Addr, testkit.HangUp)
	h := newHarness(t, harnessOpts{})
	form := h.newCustomForm(t, "mqtt://"+front.Addr)
	if got := find[*widget.RadioGroup](t, form).Selected; got != lang.L(protoAuto) {
		t.Errorf("a new connection's protocol is %q, want %q", got, protoAuto)
	}
	test.Tap(button(t, form, "Save"))
	h.q.Until(t, "the profile to be saved", func() bool { return len(h.saved(t)) == 2 })
	name := h.saved(t)[1].Name
	r := h.row(t, name)
	h.q.Until(t, "the saved connection to connect", func() bool { return strings.HasPrefix(r.state.Text, "Connected as ") })
	if !strings.Contains(r.where.Text, "MQTT 3.1.1 (chosen automatically)") {
		t.Errorf("the row says %q; want the protocol the automatic choice made", r.where.Text)
	}
	if p := h.saved(t)[1]; !p.ConnectAtStart || p.Protocol != client.ProtocolAuto {
		t.Errorf("saved %+v; want connect at start and the automatic protocol", p)
	}
}

// A connected connection can be edited: saving applies the change with
// a reconnect, under its new name.
func TestEditWhileConnectedReconnects(t *testing.T) {
	srv := brokertest.Start(t)
	h := newHarness(t, harnessOpts{profiles: []client.Profile{mustPreset(t, "Plant", "mqtt://"+srv.Addr)}})
	r := h.row(t, "Plant")
	test.Tap(r.connect)
	h.q.Until(t, "connected and editable", func() bool {
		return strings.HasPrefix(r.state.Text, "Connected as ") && !r.edit.Disabled()
	})
	if !r.remove.Disabled() {
		t.Error("Delete is enabled under an open connection")
	}
	test.Tap(r.edit)
	form := topDialog(t, h.win)
	name := entry(t, form, "a name for the list")
	name.SetText("Plant floor")
	clientID := entry(t, form, "empty: a unique one")
	clientID.SetText("plant-floor-1")
	test.Tap(button(t, form, "Save"))

	h.q.Until(t, "the edited connection to be connected under its new name", func() bool {
		c := h.mgr.Get("Plant floor")
		return c != nil && c.Status().State == client.StateConnected && strings.HasPrefix(h.row(t, "Plant floor").state.Text, "Connected as plant-floor-1")
	})
	if h.mgr.Get("Plant") != nil {
		t.Error("the connection under the old name is still open")
	}
	if c := h.mgr.Get("Plant floor"); c.Status().ClientID != "plant-floor-1" {
		t.Errorf("reconnected as %q, not with the edited client ID", c.Status().ClientID)
	}
}
