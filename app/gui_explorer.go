package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/explorer"
	"github.com/iotstudio/iotstudio/ui/inspector"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// guiTopics owns the window's live topic model and what shows it: the
// Explorer panel with the inspector beside it. The model runs from
// creation until close; the panel and inspector until the ctx given to
// show ends.
type guiTopics struct {
	model     *topics.Model
	stopModel context.CancelFunc
	modelDone chan struct{}

	// store reads the capture store the inspector pages older messages
	// from, as the capture holds it now (nil: capture is off); set by
	// recorder.
	store func() *capture.Store

	// publishTo opens the publish form for a topic, pre-filled with a
	// payload; nil hides the inspector's Publish… button. Set it before
	// show.
	publishTo func(source, topic string, payload []byte)

	// publisherFor publishes into a source other than the embedded
	// broker's (a connection's tree), or is nil; set it before show.
	publisherFor func(source string) explorer.Publisher

	panel *explorer.Panel
	work  sync.WaitGroup // the inspector's Run and the retained follower, started by show
}

// retainedEvery is how often the window looks for a broker (re)start
// whose restored retained messages the tree does not have yet; the
// Broker panel follows the broker's state at the same pace.
const retainedEvery = 500 * time.Millisecond

// newGUITopics creates the topic model and starts applying what it is fed.
func newGUITopics(log *slog.Logger) *guiTopics {
	ctx, cancel := context.WithCancel(context.Background())
	g := &guiTopics{model: topics.New(topics.Options{Logger: log}), stopModel: cancel, modelDone: make(chan struct{})}
	go func() {
		defer close(g.modelDone)
		_ = g.model.Run(ctx) // returns nil once ctx is done
	}()
	return g
}

// recorder is what the broker records into: the capture (through its
// late-opening indirection, so a store opened after a damaged one was
// moved aside is fed too) and the topic model. capt is nil when capture
// is off.
func (g *guiTopics) recorder(capt *guiCapture) message.Sink {
	if capt == nil {
		return message.NewTee(g.model)
	}
	// The inspector reads the store through the same indirection.
	g.store = capt.rec.store.Load
	return message.NewTee(&capt.rec, g.model)
}

// show adds the Explorer panel to w and starts its refresh, the
// inspector's, and the feeding of the broker's restored retained messages
// into the tree (followRetained). b is the embedded broker (deleting
// retained messages publishes to it). The inspector pages older messages
// from the capture recorder was given, read at each use. Call it on the
// UI goroutine, once, before the other panels: the Explorer is the first
// and selected one.
func (g *guiTopics) show(ctx context.Context, w fyne.Window, b *broker.Broker) {
	insp := inspector.New(g.model, g.store, w, inspector.Options{OnPublishTo: g.publishTo})
	g.panel = explorer.New(g.model, w, explorer.Options{
		Publisher:       b,
		PublisherSource: broker.SourceBroker,
		PublisherFor:    g.publisherFor,
		Detail:          insp.Content(),
		OnSelect:        insp.Show,
	})
	shell.AddPanels(w, g.panel)
	g.panel.Run(ctx)
	g.work.Go(func() { insp.Run(ctx) })
	g.work.Go(func() { followRetained(ctx, b, g.model, retainedEvery) })
}

// retainedHolder is what followRetained needs of the broker.
type retainedHolder interface {
	State() broker.State
	RetainedMessages() []message.Message
}

// followRetained gives the model the retained messages the broker holds
// each time it starts (State.Since changes), until ctx is done. Those it
// restored from its data dir were published in an earlier run, so the tap
// never saw them; without this the tree would not show them until they
// were published again. Restore leaves topics the model already has alone.
func followRetained(ctx context.Context, b retainedHolder, m *topics.Model, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var since time.Time
	for {
		if st := b.State(); st.Status == broker.Running && !st.Since.Equal(since) {
			since = st.Since
			m.Restore(b.RetainedMessages())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// wait waits for the panel's, the inspector's and the retained
// follower's goroutines; cancel the ctx given to show first.
func (g *guiTopics) wait() {
	if g.panel != nil {
		g.panel.Wait()
	}
	g.work.Wait()
}

// close waits like wait, then stops the model. Call it after the broker
// has stopped, so that nothing is fed to a model that no longer applies.
func (g *guiTopics) close() {
	g.wait()
	g.stopModel()
	<-g.modelDone
}
