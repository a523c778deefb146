package studio

import (
	"context"
	"net"
	"slices"
	"testing"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// With Config.Journal the engine journals its broker's sessions and its
// remote connections' state changes, in DATA/journal, and closes the
// journal at shutdown.
func TestEngineJournalsSessionsAndConnections(t *testing.T) {
	cfg := testConfig(t.TempDir(), false)
	cfg.Journal = true
	eng, stop := openStarted(t, cfg)
	if eng.Journal == nil || eng.Journal.Dir() != JournalDir(cfg.Broker.DataDir) {
		t.Fatalf("journal %v, want one in %s", eng.Journal, JournalDir(cfg.Broker.DataDir))
	}
	conn, err := net.Dial("tcp", LocalBrokerAddr(eng.Broker.State()))
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "sensor-9", KeepAlive: 30, CleanStart: true}); err != nil {
		t.Fatal(err)
	}
	remote := brokertest.Start(t)
	p, err := client.NewFromPreset(client.PresetGeneric, client.PresetInput{Name: "Plant broker", Host: "mqtt://" + remote.Addr})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := eng.Connections.Manager.Open(p, client.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "connected", func() bool { return rc.Status().State == client.StateConnected })
	kinds := func(q journalstore.Query) []journal.Kind {
		if err := eng.Journal.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		evs, err := eng.Journal.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []journal.Kind
		for _, ev := range evs {
			out = append(out, ev.Kind)
		}
		return out
	}
	testkit.Eventually(t, "sensor-9's connect and the remote connection journaled", func() bool {
		return slices.Contains(kinds(journalstore.Query{Client: "sensor-9"}), journal.Connect) &&
			slices.Contains(kinds(journalstore.Query{Client: "Plant broker"}), journal.Remote)
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Journal.Query(ctx, journalstore.Query{}); err == nil {
		t.Fatal("the journal is still open after Serve returned")
	}
}
