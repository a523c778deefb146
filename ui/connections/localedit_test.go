package connections

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
)

// The README promises the Local broker connection can be edited: its
// name, client ID and subscriptions change (applied with a reconnect),
// its address stays the broker's (read-only, saying why), and under its
// new name it still follows the broker to a new port.
func TestTheLocalBrokerConnectionCanBeEdited(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	addr1 := brokertest.Start(t).Addr
	h.local.Store(&addr1)
	local := h.row(t, LocalName)
	h.q.Until(t, "the local profile to connect", func() bool {
		return strings.HasPrefix(local.state.Text, "Connected") && !local.edit.Disabled()
	})

	test.Tap(local.edit)
	form := topDialog(t, h.win)
	name := entry(t, form, "a name for the list")
	if name.Disabled() {
		t.Fatal("the Local broker connection's name cannot be edited")
	}
	url := entry(t, form, "mqtt://host")
	if !url.Disabled() {
		t.Error("the Local broker connection's address can be edited, but it follows the broker")
	}
	if got := texts(form); !strings.Contains(got, "follows the embedded broker") {
		t.Errorf("the form does not say why the address cannot be edited; it shows:\n%s", got)
	}
	name.SetText("Studio broker")
	entry(t, form, "empty: a unique one").SetText("studio-1")
	entry(t, form, "one filter per line").SetText("plant/#")
	test.Tap(button(t, form, "Save"))

	renamed := func(addr string) func() bool {
		return func() bool {
			c := h.mgr.Get("Studio broker")
			return c != nil && c.Status().State == client.StateConnected && strings.Contains(c.Status().URL, addr) &&
				strings.HasPrefix(local.state.Text, "Connected as studio-1") && !local.connect.Disabled()
		}
	}
	h.q.Until(t, "the local connection to reconnect under its new name and client ID", renamed(addr1))
	if h.mgr.Get(LocalName) != nil {
		t.Error("the connection under the old name is still open")
	}
	var saved client.Profile
	for _, p := range h.saved(t) {
		if p.ID == LocalID {
			saved = p
		}
	}
	if saved.Name != "Studio broker" || saved.ClientID != "studio-1" || !slices.Equal(saved.Subscribe, []client.Subscription{{Filter: "plant/#"}}) || saved.Preset != client.PresetLocal {
		t.Errorf("saved %+v", saved)
	}
	if subs := h.mgr.Get("Studio broker").Subscriptions(); !slices.ContainsFunc(subs, func(s client.Subscription) bool { return s.Filter == "plant/#" }) {
		t.Errorf("subscribed to %+v, not the edited filters", subs)
	}

	addr2 := brokertest.Start(t).Addr // the broker moved to another port
	h.local.Store(&addr2)
	h.q.Until(t, "the renamed local connection to follow the broker", renamed(addr2))
	if n := len(h.mgr.Snapshot()); n != 1 {
		t.Errorf("%d connections open, want the one local connection", n)
	}
}
