package window

import (
	"context"
	"log/slog"

	"fyne.io/fyne/v2"

	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/ui/connections"
	"github.com/iotstudio/iotstudio/ui/explorer"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// connectionsView shows the engine's connections: the Connections panel.
type connectionsView struct {
	c     *studio.Connections
	log   *slog.Logger
	panel *connections.Panel // set by show
}

// show adds the Connections panel and starts it (which connects the
// local broker's profile when the broker runs). localAddr returns the
// embedded broker's MQTT listener, HOST:PORT, or "". On the UI goroutine.
func (g *connectionsView) show(ctx context.Context, w fyne.Window, localAddr func() string) {
	g.panel = connections.New(w, connections.Options{Manager: g.c.Manager, Store: g.c.Store, Secrets: g.c.Secrets, LocalAddr: localAddr, Logger: g.log})
	shell.AddPanels(w, g.panel)
	g.panel.Run(ctx)
}

// wait waits for the panel's goroutines; cancel the ctx given to show
// first.
func (g *connectionsView) wait() {
	if g.panel != nil {
		g.panel.Wait()
	}
}

// publisherFor is the Explorer's way to publish into a connection's
// tree, or nil while that connection is not connected.
func (g *connectionsView) publisherFor(source string) explorer.Publisher {
	if p := g.c.PublisherFor(source); p != nil {
		return p
	}
	return nil
}
