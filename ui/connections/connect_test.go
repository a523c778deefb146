package connections

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
)

// The local broker's connection opens by itself; the list follows it to
// connected, and to reconnecting with the reason in words once the broker
// is gone. A second connection is open at the same time.
func TestTheListFollowsRealConnections(t *testing.T) {
	b := brokertest.Start(t)
	addr := b.Addr
	other := mustPreset(t, "Second", "mqtt://"+addr)
	h := newHarness(t, harnessOpts{localAddr: addr, profiles: []client.Profile{other}})
	local, second := h.row(t, LocalName), h.row(t, "Second")

	h.q.Until(t, "the local connection to be connected", func() bool { return strings.HasPrefix(local.state.Text, "Connected as iotstudio-") })
	if second.state.Text != "Disconnected" || second.connect.Text != "Connect" {
		t.Errorf("the second connection shows %q with %q before it is opened", second.state.Text, second.connect.Text)
	}
	test.Tap(second.connect)
	h.q.Until(t, "the second connection to be connected", func() bool { return strings.HasPrefix(second.state.Text, "Connected") })
	if second.connect.Text != "Disconnect" || !second.remove.Disabled() {
		t.Error("an open connection offers no Disconnect, or can be deleted under it")
	}
	if !strings.Contains(local.where.Text, addr) {
		t.Errorf("the local row says %q, not where it is connected (%s)", local.where.Text, addr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.mgr.Get("Second").Subscribe(ctx, client.Subscription{Filter: "lab/#"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish("lab/temp", []byte("21"), false, 0); err != nil {
		t.Fatal(err)
	}
	h.q.Until(t, "the received count", func() bool { return strings.Contains(second.where.Text, "1 received · 0 dropped") })

	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	h.q.Until(t, "the connection to be reconnecting with a reason", func() bool {
		return strings.HasPrefix(second.state.Text, "Reconnecting (") && strings.Contains(second.errText.Text, "refused")
	})
	if !second.errText.Visible() || !strings.Contains(second.state.Text, "failed") {
		t.Errorf("state %q, error %q (shown %v)", second.state.Text, second.errText.Text, second.errText.Visible())
	}

	test.Tap(second.connect) // Disconnect
	h.q.Until(t, "the connection to be disconnected", func() bool { return second.state.Text == "Disconnected" })
	if second.errText.Visible() || h.mgr.Get("Second") != nil {
		t.Error("a disconnected connection still shows its error or is still open")
	}
}

// Connecting a profile whose password is not in the keyring asks for
// exactly that password, then connects with it.
func TestAMissingPasswordIsAskedFor(t *testing.T) {
	addr := brokertest.Start(t).Addr
	for _, noKeyring := range []bool{false, true} {
		name := map[bool]string{false: "not in the keyring", true: "no keyring"}[noKeyring]
		t.Run(name, func(t *testing.T) {
			pr := mustPreset(t, "Secured", "mqtt://"+addr)
			pr.Username, pr.HasPassword = "op", true
			h := newHarness(t, harnessOpts{profiles: []client.Profile{pr}, noKeyring: noKeyring})
			r := h.row(t, "Secured")
			test.Tap(r.connect)
			h.q.Until(t, "the password prompt", func() bool { return h.win.Canvas().Overlays().Top() != nil })
			d := topDialog(t, h.win)
			got := texts(d)
			if !strings.Contains(got, `"Secured" needs its password`) {
				t.Fatalf("the prompt says %q", got)
			}
			if noKeyring && !strings.Contains(got, "no OS keyring") {
				t.Errorf("the prompt does not say there is no keyring: %q", got)
			}
			keep := "Save it in the OS keyring"
			if noKeyring {
				keep = "Keep for this session only"
			}
			c := check(t, d, keep)
			if !c.Checked {
				test.Tap(c)
			}
			test.Type(find[*widget.Entry](t, d), "s3cret")
			test.Tap(button(t, d, "Connect"))
			h.q.Until(t, "the connection to be connected", func() bool { return strings.HasPrefix(r.state.Text, "Connected") })
			if v, err := h.secrets.Get(pr.ID, client.SecretPassword); err != nil || v != "s3cret" {
				t.Errorf("the password was not kept: %q, %v", v, err)
			}
			if noKeyring {
				return
			}
			if v, ok := h.keyring.get(pr.ID + "/password"); !ok || v != "s3cret" {
				t.Errorf("the keyring holds %q", v)
			}
		})
	}
}

// The local broker's connection says why it cannot connect while the
// broker is not running.
func TestLocalConnectWithoutTheBrokerSaysWhy(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	r := h.row(t, LocalName)
	test.Tap(r.connect)
	if !r.note.Visible() || !strings.Contains(r.note.Text, "not running") {
		t.Errorf("note %q", r.note.Text)
	}
	if h.mgr.Get(LocalName) != nil {
		t.Error("a connection was opened to no broker")
	}
}

// The local profile follows the embedded broker: it connects once the
// broker runs and moves when the broker's port changes; after the user
// disconnects it, it stays disconnected.
func TestTheLocalProfileFollowsTheBroker(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	local := h.row(t, LocalName)
	if local.state.Text != "Disconnected" {
		t.Fatalf("with no broker running the local profile is %q", local.state.Text)
	}
	b1 := brokertest.Start(t)
	addr1 := b1.Addr
	h.local.Store(&addr1)
	h.q.Until(t, "the local profile to connect to the started broker", func() bool {
		return strings.HasPrefix(local.state.Text, "Connected") && strings.Contains(local.where.Text, addr1)
	})

	if err := b1.Stop(); err != nil {
		t.Fatal(err)
	}
	addr2 := brokertest.Start(t).Addr // the broker's settings changed: another port
	h.local.Store(&addr2)
	// The button is off while the panel is still finishing the reconnect
	// (a person cannot click it then either).
	h.q.Until(t, "the local profile to follow the broker to its new port", func() bool {
		return strings.HasPrefix(local.state.Text, "Connected") && strings.Contains(local.where.Text, addr2) && !local.connect.Disabled()
	})

	test.Tap(local.connect) // Disconnect
	h.q.Until(t, "the local profile to be disconnected", func() bool { return local.state.Text == "Disconnected" })
	addr3 := brokertest.Start(t).Addr
	h.local.Store(&addr3)
	h.refreshNow()
	if local.state.Text != "Disconnected" || h.mgr.Get(LocalName) != nil {
		t.Errorf("the local profile reconnected by itself after the user disconnected it: %q", local.state.Text)
	}
}

// The app comes back as the user left it: Connect and Disconnect are
// remembered, and a profile left connected opens at the next start.
func TestConnectionsLeftConnectedOpenAtStart(t *testing.T) {
	addr := brokertest.Start(t).Addr
	h := newHarness(t, harnessOpts{profiles: []client.Profile{mustPreset(t, "Plant", "mqtt://"+addr)}})
	r := h.row(t, "Plant")
	atStart := func() bool {
		for _, p := range h.saved(t) {
			if p.Name == "Plant" {
				return p.ConnectAtStart
			}
		}
		t.Fatal("Plant is not saved")
		return false
	}
	test.Tap(r.connect)
	h.q.Until(t, "Plant connected", func() bool { return strings.HasPrefix(r.state.Text, "Connected") && !r.connect.Disabled() })
	if !atStart() {
		t.Error("connecting did not remember to connect at start")
	}
	test.Tap(r.connect) // Disconnect
	h.q.Until(t, "Plant disconnected", func() bool { return r.state.Text == "Disconnected" && !r.connect.Disabled() })
	if atStart() {
		t.Error("disconnecting did not forget to connect at start")
	}

	// The next start.
	left := mustPreset(t, "Plant", "mqtt://"+addr)
	left.ConnectAtStart = true
	h2 := newHarness(t, harnessOpts{profiles: []client.Profile{left, mustPreset(t, "Spare", "mqtt://"+addr)}})
	plant, spare := h2.row(t, "Plant"), h2.row(t, "Spare")
	h2.q.Until(t, "Plant connected at start", func() bool { return strings.HasPrefix(plant.state.Text, "Connected") })
	if spare.state.Text != "Disconnected" || h2.mgr.Get("Spare") != nil {
		t.Errorf("a connection not left connected opened at start: %q", spare.state.Text)
	}
}
