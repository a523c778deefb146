package studio

import (
	"context"
	"log/slog"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
)

// connectionsCloseTimeout bounds closing every connection at shutdown.
const connectionsCloseTimeout = 5 * time.Second

// Connections are the engine's connections to brokers: the Manager (the
// Publish and Subscribe panels use it too), the saved profiles and
// secrets, and the routing of what they receive (Ingest).
type Connections struct {
	Manager *client.Manager
	Store   *client.Store
	Secrets *client.Secrets

	engine message.Sink // the capture and the topic model; nil when neither is on
	log    *slog.Logger

	extra sinkSet // what Tee added
}

// newConnections makes the Manager; engine is what remote traffic is
// recorded into. Profiles live in dir.
func newConnections(dir string, engine message.Sink, keyring client.Keyring, log *slog.Logger, onState func(client.Status)) *Connections {
	if engine != nil {
		// A reconnect's renewed subscriptions bring every retained
		// message again; the capture and the model hold them already.
		engine = client.NewRepeatFilter(engine)
	}
	c := &Connections{Store: client.NewStore(dir), Secrets: client.NewSecrets(keyring), engine: engine, log: log}
	c.Manager = client.NewManager(c, client.Options{Logger: log, OnState: onState})
	return c
}

// Tee adds r to what every connection's messages are handed to, the
// local broker's included (e.g. the Subscribe panel's message list), until
// the returned function is called. Safe at any time; r.Ingest must not
// block.
func (c *Connections) Tee(r message.Sink) (remove func()) { return c.extra.add(r) }

// Ingest routes what connections receive by the record's Source (the
// connection's name). Remote traffic goes to the capture and the topic
// model; a connection to the embedded broker (made from the local preset)
// gets what the broker's own tap records already, so its messages go only
// to the teed sinks. Like message.Tee, it reports false if any sink
// dropped the record and still offers it to the rest.
func (c *Connections) Ingest(rec message.Message) bool {
	ok := true
	if c.engine != nil && !c.fromLocalBroker(rec.Source) {
		ok = c.engine.Ingest(rec)
	}
	if !c.extra.Ingest(rec) {
		ok = false
	}
	return ok
}

func (c *Connections) fromLocalBroker(source string) bool {
	conn := c.Manager.Get(source)
	return conn != nil && conn.Profile().Preset == client.PresetLocal
}

// close closes every connection; the engine does it before the broker
// stops and before the model and the capture close.
func (c *Connections) close() {
	ctx, cancel := context.WithTimeout(context.Background(), connectionsCloseTimeout)
	defer cancel()
	if err := c.Manager.CloseAll(ctx); err != nil {
		c.log.Warn("connections not closed cleanly", "error", err)
	}
}

// ConnectionFor names the connection that publishes into a topic-model
// source: the embedded broker's tree is reached through the local
// preset's connection (open or, failing that, saved); any other source is
// the connection of that name.
func (c *Connections) ConnectionFor(source string) string {
	if source != broker.SourceBroker {
		return source
	}
	for _, st := range c.Manager.Snapshot() {
		if conn := c.Manager.Get(st.Name); conn != nil && conn.Profile().Preset == client.PresetLocal {
			return st.Name
		}
	}
	if ps, err := c.Store.Load(); err == nil {
		for _, p := range ps {
			if p.Preset == client.PresetLocal {
				return p.Name
			}
		}
	}
	return ""
}

// Publisher publishes into one tree: what the Explorer deletes retained
// messages through.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
}

// PublisherFor publishes into the tree of the connection named source,
// or is nil while that connection is not connected.
func (c *Connections) PublisherFor(source string) Publisher {
	conn := c.Manager.Get(source)
	if conn == nil || conn.Status().State != client.StateConnected {
		return nil
	}
	return connectionPublisher{conn}
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
