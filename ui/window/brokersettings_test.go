package window

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/ui/connections"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// Issue 14: after the broker's port changes in its settings, the Local
// broker connection (wired as the window wires it, with the engine's own
// retry backoff) follows to the new address within seconds.
func TestLocalBrokerConnectionFollowsAPortChange(t *testing.T) {
	test.NewTempApp(t)
	eng := openTestEngine(t, t.TempDir())
	stopEngine := testkit.Serve(t, eng.Serve)
	defer func() {
		if err := stopEngine(); err != nil {
			t.Error(err)
		}
	}()
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	b, m := eng.Broker, eng.Connections.Manager
	q := uitest.NewQueue()
	w := test.NewTempWindow(t, nil)
	panel := connections.New(w, connections.Options{Manager: m, Store: eng.Connections.Store, Secrets: eng.Connections.Secrets,
		LocalAddr: func() string { return studio.LocalBrokerAddr(b.State()) }, Do: q.Do, Logger: testkit.Logger()})
	w.SetContent(panel.Content())
	stopPanel := q.Serve(t, panel.Serve)
	defer func() { _ = stopPanel() }()

	at := func(addr string) func() bool {
		return func() bool {
			st := m.Get(connections.LocalName)
			return st != nil && st.Status().State == client.StateConnected && st.Status().URL == "mqtt://"+addr
		}
	}
	old := studio.LocalBrokerAddr(b.State())
	q.Until(t, "the Local broker connection", at(old))

	cfg := b.Config()
	cfg.MQTTAddr = "localhost:0" // a new setting, so another free port
	if err := b.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	moved := studio.LocalBrokerAddr(b.State())
	if moved == old || moved == "" {
		t.Fatalf("the broker did not move: %q → %q", old, moved)
	}
	const prompt = 5 * time.Second
	deadline := time.After(prompt)
	for !at(moved)() {
		select {
		case fn := <-q:
			fn()
		case <-deadline:
			st := m.Get(connections.LocalName).Status()
			t.Fatalf("the Local broker connection is %v at %s %v after the port moved to %s", st.State, st.URL, prompt, moved)
		}
	}
}
