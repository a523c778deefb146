package window

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"
	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/ui/capturepanel"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// captureView shows the engine's capture: its panel, or why there is none
// (offering to move a damaged store aside).
type captureView struct {
	capt      *studio.Capture
	brokerURL func() string
	do        func(func()) // fyne.Do; tests queue it
	// showSessions shows a publisher's sessions in the Journal; nil
	// without a journal.
	showSessions func(clientID string)

	moves sync.WaitGroup // until a move's result is handed to do
}

// show adds the Capture panel to w if the store is open, or else tells
// the user why it is not. Call it on the UI goroutine, once.
// The panel is served on serving until ctx ends.
func (g *captureView) show(ctx context.Context, serving *errgroup.Group, w fyne.Window) {
	if s := g.capt.Store(); s != nil {
		g.addPanel(ctx, serving, w, s, true)
		return
	}
	capturepanel.ShowOpenError(w, g.capt.Dir(), g.capt.OpenErr(), func() { g.moveAside(ctx, serving, w) })
}

func (g *captureView) addPanel(ctx context.Context, serving *errgroup.Group, w fyne.Window, s *capture.Store, search bool) {
	panel := capturepanel.New(s, w, capturepanel.Options{BrokerURL: g.brokerURL, Do: g.do, ShowSessions: g.showSessions})
	shell.AddPanels(w, panel)
	serving.Go(func() error { return panel.Serve(ctx) })
	if search {
		panel.Search() // open on the newest messages, not an empty list
	}
}

// moveAside has the engine move the damaged store aside and open a new
// one, then shows the result.
func (g *captureView) moveAside(ctx context.Context, serving *errgroup.Group, w fyne.Window) {
	g.moves.Add(1)
	g.capt.MoveAside(func(s *capture.Store, to string, err error) {
		defer g.moves.Done()
		if ctx.Err() != nil {
			return // the window is gone
		}
		g.do(func() {
			if err == nil {
				g.addPanel(ctx, serving, w, s, false)
			}
			capturepanel.ShowMoveResult(w, g.capt.Dir(), to, err)
		})
	})
}

// wait waits for a move's result, which may add the panel to serving;
// cancel their ctx first, and wait for serving after.
func (g *captureView) wait() {
	g.moves.Wait()
}
