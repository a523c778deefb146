package window

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
	"github.com/iotstudio/iotstudio/ui/brokerpanel"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// The Broker panel lists the app's own connection to the embedded broker
// by its name; a connection of the app to another broker with a client
// of the same ID there does not name the embedded broker's client.
func TestBrokerPanelNamesOwnConnections(t *testing.T) {
	a := test.NewTempApp(t)
	eng := openTestEngine(t, t.TempDir())
	stop := testkit.Serve(t, eng.Serve)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	b, m := eng.Broker, eng.Connections.Manager

	local, err := client.NewFromPreset(client.PresetLocal, client.PresetInput{Name: "Local broker", Addr: studio.LocalBrokerAddr(b.State())})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := m.Open(local, client.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	id := conn.Status().ClientID
	other := brokertest.Start(t)
	elsewhere, err := client.NewFromPreset(client.PresetGeneric, client.PresetInput{Name: "Elsewhere", Host: "mqtt://" + other.Addr})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere.ClientID = "shared-id" // a device of the embedded broker uses it too
	if _, err := m.Open(elsewhere, client.Credentials{}); err != nil {
		t.Fatal(err)
	}
	device, err := rawmqtt.Dial(t.Context(), studio.LocalBrokerAddr(b.State()), "shared-id", 4096, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer device.Close()
	testkit.Eventually(t, "both connections up and the device connected", func() bool {
		up := 0
		for _, st := range m.Snapshot() {
			if st.State == client.StateConnected {
				up++
			}
		}
		return up == 2 && len(b.Clients()) == 2
	})

	w := test.NewTempWindow(t, nil)
	panel := brokerpanel.New(b, w, a.Preferences())
	panel.NameClients(ownConnections(m, b))
	w.SetContent(panel.Content())
	got := uitest.Labels(panel.Content())
	if want := "Local broker (" + id + ")"; !slices.Contains(got, want) {
		t.Errorf("the Broker panel does not list %q: %q", want, got)
	}
	if !slices.Contains(got, "shared-id") {
		t.Errorf("the device shared-id is not listed by its ID alone: %q", got)
	}
}
