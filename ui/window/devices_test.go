package window

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/builtin"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/ui/devices"
	"github.com/iotstudio/iotstudio/ui/localname"
)

// openSimEngine is the window's engine (observable, with connections) on
// a free loopback port, serving until the test ends; its fleets run in
// this process.
func openSimEngine(t *testing.T) *simEngine { return openSimEngineWith(t, nil) }

// openSimEngineWith runs fleets with cmd (nil: in this process).
func openSimEngineWith(t *testing.T, cmd FleetCommand) *simEngine {
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
	return newSimEngine(eng, data, cmd)
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

// The built-in Local broker profile, once saved (connecting it remembers
// that it is open), is the embedded broker: it is offered once, not twice.
func TestSimEngineListsTheEmbeddedBrokerOnce(t *testing.T) {
	s := openSimEngine(t)
	local, err := client.NewFromPreset(client.PresetLocal, client.PresetInput{Name: localname.Profile, Addr: "127.0.0.1:1883"})
	if err != nil {
		t.Fatal(err)
	}
	plant, err := client.NewFromPreset(client.PresetGeneric, client.PresetInput{Name: "Plant broker", Host: "mqtt://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.eng.Connections.Store.Save([]client.Profile{local, plant}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Targets(), []string{embeddedTarget, "Plant broker"}; !slices.Equal(got, want) {
		t.Fatalf("targets %q, want %q", got, want)
	}
}

// A fleet started from the panel on the embedded broker is observed
// through the broker's tap (delivery and latency known), shows each
// device's state and last messages, and obeys Kill and Stop, whether it
// runs in the window's process or (as the app runs it) in its own.
func TestSimEngineRunsAFleetOnTheEmbeddedBroker(t *testing.T) {
	t.Run("in this process", func(t *testing.T) { runPlugs(t, openSimEngine(t)) })
	t.Run("in its own process", func(t *testing.T) {
		bin := iotstudioBinary(t)
		runPlugs(t, openSimEngineWith(t, func(args ...string) *exec.Cmd { return exec.Command(bin, args...) }))
	})
}

func runPlugs(t *testing.T, s *simEngine) {
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
	// The window's Prometheus metrics see the run's fleet.
	if fl := s.runs.stats(); len(fl) != 1 || fl[0].Connected != 3 || fl[0].Sent == 0 || !fl[0].Observed {
		t.Fatalf("the metrics read fleets %+v, want one of 3 connected plugs that sent, with delivery known", fl)
	}
	defer func() {
		if fl := s.runs.stats(); len(fl) != 0 {
			t.Errorf("a stopped run's fleets are still in the metrics: %+v", fl)
		}
	}()
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

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// iotstudioBinary builds the app once per test run, for the fleets the
// window runs in a process of their own.
func iotstudioBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds the app to run a fleet in its own process")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iotstudio-bin-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "iotstudio")
		out, err := exec.Command("go", "build", "-tags", "no_emoji", "-o", built, "github.com/iotstudio/iotstudio").CombinedOutput() // tags as the Makefile's
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built != "" {
		os.RemoveAll(filepath.Dir(built))
	}
	os.Exit(code)
}

// statusSink collects the payloads published on the plugs' status topics.
type statusSink struct {
	mu  sync.Mutex
	got map[string][]string
}

func (s *statusSink) Ingest(m message.Message) bool {
	if strings.HasSuffix(m.Topic, "/status") {
		s.mu.Lock()
		s.got[m.Topic] = append(s.got[m.Topic], string(m.Payload))
		s.mu.Unlock()
	}
	return true
}

// When a run ends (the window closing stops it), the embedded broker has
// read every device's DISCONNECT before the run says it is done, so a
// broker stopped right after publishes no will: each device's last word
// is its one graceful "offline".
func TestSimEngineRunEndsBeforeTheBrokerCanFireWills(t *testing.T) {
	for _, mode := range []string{"in this process", "in its own process"} {
		t.Run(mode, func(t *testing.T) {
			var cmd FleetCommand
			if mode == "in its own process" {
				bin := iotstudioBinary(t)
				cmd = func(args ...string) *exec.Cmd { return exec.Command(bin, args...) }
			}
			s := openSimEngineWith(t, cmd)
			sink := &statusSink{got: map[string][]string{}}
			stop, _ := s.eng.Observe(sink)
			defer stop()
			e, _ := builtin.Lookup("smart-plug")
			const n = 200
			run, err := s.Start(context.Background(), string(e.YAML), n, embeddedTarget)
			if err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, "the plugs online", func() bool { return run.Stats().Connected == n })
			run.Stop()
			<-run.Done()
			if err := s.eng.Broker.Stop(); err != nil {
				t.Fatal(err)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if len(sink.got) != n {
				t.Fatalf("status of %d plugs seen, want %d", len(sink.got), n)
			}
			for topic, words := range sink.got {
				if strings.Join(words, " ") != "online offline" {
					t.Fatalf("%s said %q, want online then one graceful offline (a second is the will)", topic, words)
				}
			}
		})
	}
}

// A fleet in its own process reports Sent once a second; the window
// counts what is delivered as it happens. Shown side by side, Delivered
// must not run ahead of Sent (it did, by up to a second of traffic: 2,096
// delivered of 1,985 sent with 200 plugs).
func TestFleetInItsOwnProcessShowsNoMoreDeliveredThanSent(t *testing.T) {
	bin := iotstudioBinary(t)
	s := openSimEngineWith(t, func(args ...string) *exec.Cmd { return exec.Command(bin, args...) })
	e, _ := builtin.Lookup("smart-plug")
	const n = 40
	run, err := s.Start(context.Background(), string(e.YAML), n, embeddedTarget)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		run.Stop()
		<-run.Done()
	}()
	testkit.Eventually(t, "the plugs online and their messages delivered", func() bool {
		st := run.Stats()
		return st.Connected == n && st.Delivered > 0
	})
	// None at all: the window counts what had arrived when the fleet's
	// process read Sent, and that process counts a message sent before
	// writing it. (With the count taken at the line's arrival, messages
	// sent while the line travelled ran ahead: 5 of 1,781 with 200 plugs.)
	worst := 0
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		st := run.Stats()
		worst = max(worst, int(st.Delivered)-int(st.Sent))
	}
	if worst > 0 {
		t.Errorf("Delivered ran %d messages ahead of Sent", worst)
	}
}
