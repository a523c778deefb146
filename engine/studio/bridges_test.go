package studio

import (
	"context"
	"slices"
	"testing"

	"github.com/iotstudio/iotstudio/engine/bridge"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// A bridge's remote connection is journaled like the window's own
// connections: "why did the bridge stop forwarding at 03:12?".
func TestBridgesRemoteStateIsJournaled(t *testing.T) {
	cfg := testConfig(t.TempDir(), false)
	cfg.Journal, cfg.Observable = true, true
	eng, _ := openStarted(t, cfg)
	remote := brokertest.Start(t)
	p, err := client.NewFromPreset(client.PresetGeneric, client.PresetInput{Name: "Team broker", Host: "mqtt://" + remote.Addr})
	if err != nil {
		t.Fatal(err)
	}
	yaml := "bridges:\n  - name: site1\n    connection: Team broker\n    rules:\n      - name: up\n        direction: out\n        local: plant/#\n        remote: site1/plant/#\n        qos: 1\n        retain: keep\n"
	plans, err := bridge.Parse("bridges.yaml", []byte(yaml), []client.Profile{p})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := eng.OpenBridges(plans, eng.Connections.Secrets)
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	testkit.Eventually(t, "the bridge's connection journaled as connected", func() bool {
		if err := eng.Journal.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		evs, err := eng.Journal.Query(ctx, journalstore.Query{Client: "Team broker", Kinds: []journal.Kind{journal.Remote}})
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(evs, func(e journal.Event) bool { return e.State == "connected" })
	})
}
