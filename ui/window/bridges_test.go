package window

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/bridge"
	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// collect is a remote broker's tap: what reached it.
type collect chan message.Message

func (c collect) Ingest(m message.Message) bool {
	select {
	case c <- m:
	default:
	}
	return true
}

func bridgeEngine(t *testing.T, dataDir string) *studio.Studio {
	t.Helper()
	cfg := broker.DefaultConfig(dataDir)
	cfg.MQTTAddr, cfg.WSAddr, cfg.Logger = "127.0.0.1:0", "", testkit.Logger()
	eng, err := studio.Open(studio.Config{Broker: cfg, Connections: true, Observable: true, Logger: testkit.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, eng.Serve)
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	return eng
}

// The window runs the bridges of its data dir: a file that does not check
// is refused with its line and not saved; one that checks is saved, runs
// at once (local plant/# reaches the remote as site1/plant/#) and again at
// the next start.
func TestWindowRunsTheBridgesFile(t *testing.T) {
	remoteIn := make(collect, 16)
	remote := brokertest.Start(t, func(c *broker.Config) { c.Recorder = remoteIn })
	dir := t.TempDir()
	if err := client.NewStore(dir).Save([]client.Profile{{ID: "r1", Name: "Team broker", URL: "mqtt://" + remote.Addr, Protocol: client.MQTT5, CleanStart: true}}); err != nil {
		t.Fatal(err)
	}
	eng := bridgeEngine(t, dir)
	w := shell.NewMainWindow(test.NewTempApp(t))
	t.Cleanup(w.Close)
	ctx, cancel := context.WithCancel(context.Background())
	var serving errgroup.Group
	b := addBridges(ctx, &serving, w, eng, dir, testkit.Logger())
	defer func() { cancel(); _ = serving.Wait(); b.close() }()

	if _, text := b.File(); string(text) != string(bridge.Example) {
		t.Error("with no bridges file the editor does not start from the example")
	}
	bad := "bridges:\n  - name: site1\n    connection: Nowhere\n    rules: []\n"
	if err := b.Apply(bad); err == nil || !strings.Contains(err.Error(), ":3:") || !strings.Contains(err.Error(), "Team broker") {
		t.Fatalf("a bridge on an unknown connection: %v, want its line (3) and the saved connections named", err)
	}
	if _, err := os.Stat(studio.BridgesFile(dir)); err == nil {
		t.Fatal("a file that does not check was saved")
	}

	good := "bridges:\n  - name: site1\n    connection: Team broker\n    rules:\n      - name: up\n        direction: out\n        local: plant/#\n        remote: site1/plant/#\n        qos: 1\n        retain: keep\n"
	if err := b.Apply(good); err != nil {
		t.Fatal(err)
	}
	if r := b.Rules("site1"); len(r) != 1 || r[0].Remote != "site1/plant/#" {
		t.Errorf("the running bridge's rules: %+v", r)
	}
	testkit.Eventually(t, "the bridge to connect", func() bool {
		st := b.Stats()
		return len(st) == 1 && st[0].State == bridge.StateConnected
	})
	if err := eng.Broker.Publish("plant/line1/temp", []byte("21.5"), false, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-remoteIn:
		if m.Topic != "site1/plant/line1/temp" || string(m.Payload) != "21.5" {
			t.Fatalf("the remote got %s %q, want site1/plant/line1/temp 21.5", m.Topic, m.Payload)
		}
	case <-time.After(testkit.Timeout):
		t.Fatal("nothing reached the remote broker")
	}

	// The first start ends before the next: its panel, still serving,
	// refreshed widgets while the next one was added (a data race in
	// Fyne's text cache, where the test driver runs fyne.Do at once).
	cancel()
	_ = serving.Wait()
	b.close()
	ctx, cancel = context.WithCancel(context.Background())
	var nextServing errgroup.Group
	next := addBridges(ctx, &nextServing, w, eng, dir, testkit.Logger())
	defer func() { cancel(); _ = nextServing.Wait(); next.close() }()
	if next.LoadErr() != nil || len(next.Stats()) != 1 {
		t.Fatalf("the next start runs %d bridges (error %v), want the saved one", len(next.Stats()), next.LoadErr())
	}
}
