package window

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/brokerpanel"
	"github.com/iotstudio/iotstudio/ui/explorer"
	"github.com/iotstudio/iotstudio/ui/inspector"
	"github.com/iotstudio/iotstudio/ui/shell"
	"github.com/iotstudio/iotstudio/ui/welcome"
)

// topicsView shows the engine's live topic model: the Explorer panel with
// the inspector beside it, until the ctx given to show ends.
type topicsView struct {
	model *topics.Model

	// store reads the capture store the inspector pages older messages
	// from, as the engine holds it now (nil: capture is off).
	store func() *capture.Store

	// publishTo opens the publish form for a topic, pre-filled with a
	// payload; nil hides the inspector's Publish… button. Set it before
	// show.
	publishTo func(source, topic string, payload []byte)

	// publisherFor publishes into a source other than the embedded
	// broker's (a connection's tree), or is nil; set it before show.
	publisherFor func(source string) explorer.Publisher

	// dataDir is where the app keeps its data, which the first screen
	// names.
	dataDir string

	// panel is the Explorer, once shown: the window's Ctrl/Cmd+F focuses
	// its filter.
	panel *explorer.Panel
}

func newTopicsView(eng *studio.Studio) *topicsView {
	g := &topicsView{model: eng.Topics}
	if eng.Capture != nil {
		g.store = eng.Capture.Store
	}
	return g
}

// show adds the Explorer panel to w and serves it and the inspector on
// serving until ctx ends. b is the embedded broker (deleting retained messages
// publishes to it). The inspector pages older messages from the engine's
// capture, read at each use. Call it on the
// UI goroutine, once, before the other panels: the Explorer is the first
// and selected one.
func (g *topicsView) show(ctx context.Context, serving *errgroup.Group, w fyne.Window, b *broker.Broker) {
	card := welcome.New(w, welcome.Options{
		Info: func() welcome.Info { return welcomeInfo(b.State(), g.dataDir) },
		SendTest: func() error {
			msg := fmt.Sprintf(`{"hello":"from IoT Studio","at":%q}`, time.Now().Format(time.RFC3339))
			return b.Publish(welcome.TestTopic, []byte(msg), false, 0)
		},
	})
	insp := inspector.New(g.model, g.store, w, inspector.Options{OnPublishTo: g.publishTo, Welcome: card.Content()})
	panel := explorer.New(g.model, w, explorer.Options{
		Publisher:       b,
		PublisherSource: broker.SourceBroker,
		PublisherFor:    g.publisherFor,
		Detail:          insp.Content(),
		OnSelect:        insp.Show,
	})
	g.panel = panel
	shell.AddPanels(w, panel)
	serving.Go(func() error { return panel.Serve(ctx) })
	serving.Go(func() error { return insp.Serve(ctx) })
	serving.Go(func() error { return card.Serve(ctx) })
}

// welcomeInfo is what the first screen says of the broker in state st.
func welcomeInfo(st broker.State, dataDir string) welcome.Info {
	info := welcome.Info{Running: st.Status == broker.Running, DataDir: dataDir}
	if st.Err != nil {
		info.Problem = brokerpanel.ErrorText(st.Err) // in the window's language
	}
	if u, ok := strings.CutPrefix(studio.LoopbackURL(st), "mqtt://"); ok {
		info.MQTT = u
	}
	for _, l := range st.Listeners {
		if l.Name == "ws" {
			info.WS = l.URL
		}
	}
	return info
}
