package window

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"

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

	moves sync.WaitGroup // until a move's result is handed to do
	// Set on the UI goroutine; read by wait after the UI has ended.
	panel *capturepanel.Panel
}

// show adds the Capture panel to w if the store is open, or else tells
// the user why it is not. Call it on the UI goroutine, once.
func (g *captureView) show(ctx context.Context, w fyne.Window) {
	if s := g.capt.Store(); s != nil {
		g.addPanel(ctx, w, s, true)
		return
	}
	capturepanel.ShowOpenError(w, g.capt.Dir(), g.capt.OpenErr(), func() { g.moveAside(ctx, w) })
}

func (g *captureView) addPanel(ctx context.Context, w fyne.Window, s *capture.Store, search bool) {
	g.panel = capturepanel.New(s, w, capturepanel.Options{BrokerURL: g.brokerURL, Do: g.do})
	shell.AddPanels(w, g.panel)
	g.panel.Run(ctx)
	if search {
		g.panel.Search() // open on the newest messages, not an empty list
	}
}

// moveAside has the engine move the damaged store aside and open a new
// one, then shows the result.
func (g *captureView) moveAside(ctx context.Context, w fyne.Window) {
	g.moves.Add(1)
	g.capt.MoveAside(func(s *capture.Store, to string, err error) {
		defer g.moves.Done()
		if ctx.Err() != nil {
			return // the window is gone
		}
		g.do(func() {
			if err == nil {
				g.addPanel(ctx, w, s, false)
			}
			capturepanel.ShowMoveResult(w, g.capt.Dir(), to, err)
		})
	})
}

// wait waits for a move's result and the panel's goroutines; cancel
// their ctx first.
func (g *captureView) wait() {
	g.moves.Wait()
	if g.panel != nil {
		g.panel.Wait()
	}
}
