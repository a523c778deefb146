package window

import (
	"context"
	"strings"
	"testing"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/sim/builtin"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/ui/devices"
)

// openSimEngine is the window's engine (observable, with connections) on
// a free loopback port, serving until the test ends.
func openSimEngine(t *testing.T) *simEngine {
	t.Helper()
	data := t.TempDir()
	cfg := broker.DefaultConfig(data)
	cfg.MQTTAddr, cfg.WSAddr, cfg.NoPersistence = "127.0.0.1:0", "", true
	eng, err := studio.Open(studio.Config{Broker: cfg, Capture: true, Topics: true, Connections: true, Observable: true, Logger: testkit.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, eng.Serve)
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	return newSimEngine(eng, data)
}

// The editor's problems carry the line and column the parser and the
// compiler found, so the panel can put the cursor there.
func TestSimEngineValidateGivesPositions(t *testing.T) {
	s := openSimEngine(t)
	bad := "fleets:\n  - profile: thermostst\n    count: 2\n"
	ps := s.Validate(bad)
	if len(ps) != 1 || ps[0].Line != 2 || ps[0].Col == 0 || !strings.Contains(ps[0].Msg, "thermostat") {
		t.Fatalf("problems %+v, want one at line 2 suggesting thermostat", ps)
	}
	e, _ := builtin.Lookup("smart-plug")
	if ps := s.Validate(string(e.YAML)); len(ps) != 0 {
		t.Fatalf("a built-in profile has problems: %+v", ps)
	}
	if got := s.Targets(); len(got) == 0 || got[0] != embeddedTarget {
		t.Fatalf("targets %v, want the embedded broker first", got)
	}
}

// A fleet started from the panel on the embedded broker is observed
// through the broker's tap (delivery and latency known), shows each
// device's state and last messages, and obeys Kill and Stop.
func TestSimEngineRunsAFleetOnTheEmbeddedBroker(t *testing.T) {
	s := openSimEngine(t)
	e, _ := builtin.Lookup("smart-plug")
	run, err := s.Start(context.Background(), string(e.YAML), 3, embeddedTarget)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		run.Stop()
		<-run.Done()
	}()
	testkit.Eventually(t, "3 plugs online, their messages delivered", func() bool {
		st := run.Stats()
		return st.Connected == 3 && st.LatencyKnown && st.Delivered >= 3
	})
	rows := run.Devices()
	if len(rows) != 3 || rows[0].ID != "smart-plug-0" || rows[0].State != devices.StateOnline {
		t.Fatalf("devices %+v", rows)
	}
	testkit.Eventually(t, "smart-plug-1's detail with state and last messages", func() bool {
		state, last := run.DeviceState("smart-plug-1")
		return state["relay"] == "on" && len(last) > 0 && strings.HasPrefix(last[0].Topic, "plugs/smart-plug-1/")
	})
	if err := run.Command("smart-plug-1", "plugs/smart-plug-1/relay/set", "off"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the command turned smart-plug-1's relay off", func() bool {
		state, _ := run.DeviceState("smart-plug-1")
		return state["relay"] == "off"
	})
	if err := run.Kill("smart-plug-2"); err != nil {
		t.Fatal(err)
	}
	if err := run.Kill("no-such-plug"); err == nil {
		t.Fatal("Kill of an unknown device succeeded")
	}
	run.Stop()
	<-run.Done()
	if err := run.Err(); err != nil {
		t.Fatalf("a stopped run reports %v", err)
	}
}
