package app

import (
	"context"
	"log/slog"

	"fyne.io/fyne/v2"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
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

	panel    *explorer.Panel
	inspDone chan struct{} // closed when the inspector's Run returns; nil before show
}

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
func (g *guiTopics) recorder(capt *guiCapture) broker.Recorder {
	if capt == nil {
		return broker.NewTee(g.model)
	}
	return broker.NewTee(&capt.rec, g.model)
}

// show adds the Explorer panel to w and starts its refresh and the
// inspector's. b is the embedded broker (deleting retained messages
// publishes to it); store is the capture the inspector pages older
// messages from, nil without one. Call it on the UI goroutine, once,
// before the other panels: the Explorer is the first and selected one.
func (g *guiTopics) show(ctx context.Context, w fyne.Window, b *broker.Broker, store *capture.Store) {
	insp := inspector.New(g.model, store, w)
	g.panel = explorer.New(g.model, w, explorer.Options{
		Publisher:       b,
		PublisherSource: broker.SourceBroker,
		Detail:          insp.Content(),
		OnSelect:        insp.Show,
	})
	shell.AddPanels(w, g.panel)
	g.panel.Run(ctx)
	g.inspDone = make(chan struct{})
	go func() {
		defer close(g.inspDone)
		insp.Run(ctx)
	}()
}

// wait waits for the panel's and the inspector's goroutines; cancel the
// ctx given to show first.
func (g *guiTopics) wait() {
	if g.panel != nil {
		g.panel.Wait()
	}
	if g.inspDone != nil {
		<-g.inspDone
	}
}

// close waits like wait, then stops the model. Call it after the broker
// has stopped, so that nothing is fed to a model that no longer applies.
func (g *guiTopics) close() {
	g.wait()
	g.stopModel()
	<-g.modelDone
}
