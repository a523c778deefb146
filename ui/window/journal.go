package window

import (
	"context"

	"fyne.io/fyne/v2"
	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/ui/journalview"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// addJournal adds the Journal panel when the engine keeps a journal, served
// on serving until ctx ends; nil without one.
func addJournal(ctx context.Context, serving *errgroup.Group, w fyne.Window, eng *studio.Studio) *journalview.Panel {
	if eng.Journal == nil {
		return nil
	}
	p := journalview.New(eng.Journal, journalview.Options{})
	shell.AddPanels(w, p)
	serving.Go(func() error { return p.Serve(ctx) })
	return p
}

// showSessions brings the Journal forward on one client's timeline: the
// Broker panel's clients and a captured message's publisher link there.
func (w *Window) showSessions(clientID string) {
	if w.journal == nil {
		return
	}
	w.journal.ShowClient(clientID)
	shell.ShowPanel(w.win, w.journal)
}
