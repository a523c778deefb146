package app

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/connections"
	"github.com/iotstudio/iotstudio/ui/explorer"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// connectionsCloseTimeout bounds closing every connection at shutdown.
const connectionsCloseTimeout = 5 * time.Second

// guiConnections owns the window's connections to brokers: the Manager
// (the publish and subscribe panels use it too), what it records into,
// and the Connections panel.
type guiConnections struct {
	mgr     *client.Manager
	rec     *connectionRecorder
	store   *client.Store
	secrets *client.Secrets
	log     *slog.Logger
	panel   *connections.Panel // set by show
}

// newGUIConnections makes the Manager; engine is what remote traffic is
// recorded into (the capture and the topic model, see guiTopics.recorder).
// Profiles live in dir.
func newGUIConnections(dir string, engine message.Sink, keyring client.Keyring, log *slog.Logger) *guiConnections {
	rec := &connectionRecorder{engine: engine}
	mgr := client.NewManager(rec, client.Options{Logger: log})
	rec.mgr = mgr
	return &guiConnections{mgr: mgr, rec: rec, store: client.NewStore(dir), secrets: client.NewSecrets(keyring), log: log}
}

// tee adds r to what every connection's messages are handed to, the
// local broker's included (e.g. the Subscribe panel's message list). Safe
// at any time; r.Ingest must not block.
func (g *guiConnections) tee(r message.Sink) { g.rec.tee(r) }

// show adds the Connections panel and starts it (which connects the
// local broker's profile when the broker runs). localAddr returns the
// embedded broker's MQTT listener, HOST:PORT, or "". On the UI goroutine.
func (g *guiConnections) show(ctx context.Context, w fyne.Window, localAddr func() string) {
	g.panel = connections.New(w, connections.Options{Manager: g.mgr, Store: g.store, Secrets: g.secrets, LocalAddr: localAddr, Logger: g.log})
	shell.AddPanels(w, g.panel)
	g.panel.Run(ctx)
}

// wait waits for the panel's goroutines; cancel the ctx given to show
// first.
func (g *guiConnections) wait() {
	if g.panel != nil {
		g.panel.Wait()
	}
}

// close closes every connection. Call it after wait and before the
// broker stops (the local connection would retry against it) and before
// the topic model and capture close (remote connections feed them).
func (g *guiConnections) close() {
	ctx, cancel := context.WithTimeout(context.Background(), connectionsCloseTimeout)
	defer cancel()
	if err := g.mgr.CloseAll(ctx); err != nil {
		g.log.Warn("connections not closed cleanly", "error", err)
	}
}

// localBrokerAddr is the embedded broker's MQTT listener as a loopback
// HOST:PORT, or "" when it is not running or has no MQTT listener.
func localBrokerAddr(st broker.State) string {
	u := loopbackURL(st)
	if !strings.HasPrefix(u, "mqtt://") {
		return ""
	}
	return strings.TrimPrefix(u, "mqtt://")
}

// connectionRecorder routes what connections receive by the record's
// Source (the connection's name). Remote traffic goes to the capture and
// the topic model; a connection to the embedded broker (made from the
// local preset) gets what the broker's own tap records already, so its
// messages go only to the teed recorders.
type connectionRecorder struct {
	engine message.Sink // nil without capture and model (tests)
	mgr    *client.Manager

	mu    sync.Mutex                     // serialises tee
	extra atomic.Pointer[[]message.Sink] // copied on tee, read per message
}

func (r *connectionRecorder) tee(rec message.Sink) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next []message.Sink
	if cur := r.extra.Load(); cur != nil {
		next = slices.Clone(*cur)
	}
	next = append(next, rec)
	r.extra.Store(&next)
}

// Ingest implements message.Sink; like message.Tee, it reports false if
// any recorder dropped the record and still offers it to the rest.
func (r *connectionRecorder) Ingest(rec message.Message) bool {
	ok := true
	if r.engine != nil && !r.fromLocalBroker(rec.Source) {
		ok = r.engine.Ingest(rec)
	}
	if extra := r.extra.Load(); extra != nil {
		for _, x := range *extra {
			if !x.Ingest(rec) {
				ok = false
			}
		}
	}
	return ok
}

func (r *connectionRecorder) fromLocalBroker(source string) bool {
	c := r.mgr.Get(source)
	return c != nil && c.Profile().Preset == client.PresetLocal
}

// connectionFor names the connection that publishes into a topic-model
// source: the embedded broker's tree is reached through the local
// preset's connection (open or, failing that, saved); any other source is
// the connection of that name.
func (g *guiConnections) connectionFor(source string) string {
	if source != broker.SourceBroker {
		return source
	}
	for _, st := range g.mgr.Snapshot() {
		if c := g.mgr.Get(st.Name); c != nil && c.Profile().Preset == client.PresetLocal {
			return st.Name
		}
	}
	if ps, err := g.store.Load(); err == nil {
		for _, p := range ps {
			if p.Preset == client.PresetLocal {
				return p.Name
			}
		}
	}
	return ""
}

// publisherFor publishes into the tree of the connection named source
// (the Explorer deletes retained messages through it), or is nil while
// that connection is not connected.
func (g *guiConnections) publisherFor(source string) explorer.Publisher {
	c := g.mgr.Get(source)
	if c == nil || c.Status().State != client.StateConnected {
		return nil
	}
	return connectionPublisher{c}
}

// connectionPublisher is a connection as the Explorer publishes.
type connectionPublisher struct{ c *client.Connection }

// connectionPublishTimeout bounds one publish from the Explorer.
const connectionPublishTimeout = 10 * time.Second

func (p connectionPublisher) Publish(topic string, payload []byte, retain bool, qos byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), connectionPublishTimeout)
	defer cancel()
	return p.c.Publish(ctx, client.Message{Topic: topic, Payload: payload, Retain: retain, QoS: qos})
}
