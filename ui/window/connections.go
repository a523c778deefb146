package window

import (
	"context"
	"log/slog"

	"fyne.io/fyne/v2"
	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/ui/connections"
	"github.com/iotstudio/iotstudio/ui/explorer"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// connectionsView shows the engine's connections: the Connections panel.
type connectionsView struct {
	c   *studio.Connections
	log *slog.Logger
	// publishTo opens the Publish panel on a connection and topic (a
	// profile's publish templates).
	publishTo func(connection, topic string)
}

// show adds the Connections panel and serves it on serving until ctx
// ends (which connects the local broker's profile when the broker runs). localAddr returns the
// embedded broker's MQTT listener, HOST:PORT, or "". On the UI goroutine.
func (g *connectionsView) show(ctx context.Context, serving *errgroup.Group, w fyne.Window, localAddr func() string) {
	panel := connections.New(w, connections.Options{Manager: g.c.Manager, Store: g.c.Store, Secrets: g.c.Secrets, LocalAddr: localAddr, Logger: g.log, PublishTo: g.publishTo})
	shell.AddPanels(w, panel)
	serving.Go(func() error { return panel.Serve(ctx) })
}

// publisherFor is the Explorer's way to publish into a connection's
// tree, or nil while that connection is not connected.
func (g *connectionsView) publisherFor(source string) explorer.Publisher {
	if p := g.c.PublisherFor(source); p != nil {
		return p
	}
	return nil
}
