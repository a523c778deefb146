// Package window is the app's main window: it builds the panels (the
// Explorer with the inspector first, then Publish, Subscribe, Connections,
// Broker, Capture and Devices), wires them to the engine (engine/studio) and stops
// their refresh goroutines before the engine closes. What the engine does
// (the capture, the topic model, connections, the broker) lives there;
// app keeps flags, subcommands and the life of the process.
package window

import (
	"context"
	"log/slog"

	"fyne.io/fyne/v2"
	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/ui/brokerpanel"
	"github.com/iotstudio/iotstudio/ui/devices"
	"github.com/iotstudio/iotstudio/ui/journalview"
	"github.com/iotstudio/iotstudio/ui/publish"
	"github.com/iotstudio/iotstudio/ui/shell"
	"github.com/iotstudio/iotstudio/ui/subscribe"
)

// Options are what the window needs besides the engine.
type Options struct {
	DataDir string // publish history and kept subscriptions
	Logger  *slog.Logger
	// FleetCommand runs this program, for the Devices panel's fleets to
	// run in a process of their own; nil runs them in this one.
	FleetCommand FleetCommand
	// Version is what About shows, as `iotstudio version` prints it.
	Version string
}

// Window is the main window wired to an engine.
type Window struct {
	win    fyne.Window
	cancel context.CancelFunc
	// serving runs the panels' Serve until cancel; Close waits for it.
	serving *errgroup.Group
	log     *slog.Logger
	tops    *topicsView
	capt    *captureView // nil without capture
	conns   *connectionsView
	pub     *publish.Panel
	sub     *subscribe.Panel
	journal *journalview.Panel // nil without a journal
	bridges *windowBridges
	// settings opens the Settings dialog and keeps the layout (settings.go).
	settings *windowSettings
}

// New builds the main window of a on eng and serves the panels (their
// refresh and the actions their buttons start) until Close.
// eng must have been opened with Topics and Connections. Call it on the
// UI goroutine (before a.Run), then ShowAndRun, then Close, then close
// the engine.
func New(a fyne.App, eng *studio.Studio, opts Options) *Window {
	ctx, cancel := context.WithCancel(context.Background())
	serving, ctx := errgroup.WithContext(ctx)
	w := &Window{win: shell.NewMainWindow(a), cancel: cancel, serving: serving, log: opts.Logger}
	if w.log == nil {
		w.log = slog.Default()
	}
	b, log := eng.Broker, opts.Logger
	w.conns = &connectionsView{c: eng.Connections, log: log}
	w.tops = newTopicsView(eng)
	// Publish and Subscribe work on any open connection, the embedded
	// broker's included (its "Local broker" connection).
	w.pub = publish.New(eng.Connections.Manager, w.win, publish.Options{DataDir: opts.DataDir, Logger: log})
	w.sub = subscribe.New(eng.Connections.Manager, w.win, subscribe.Options{Logger: log, Kept: client.NewKeptSubscriptions(opts.DataDir)})
	eng.Connections.Tee(w.sub)
	w.tops.publishTo = func(source, topic string, payload []byte) {
		w.pub.Prefill(eng.Connections.ConnectionFor(source), topic, payload)
		shell.ShowPanel(w.win, w.pub)
	}
	w.tops.publisherFor = w.conns.publisherFor
	w.conns.publishTo = func(connection, topic string) {
		w.pub.Prefill(connection, topic, nil)
		shell.ShowPanel(w.win, w.pub)
	}
	w.tops.dataDir = opts.DataDir
	w.tops.show(ctx, serving, w.win, b) // first: the screen users live in
	shell.AddPanels(w.win, w.pub, w.sub)
	serving.Go(func() error { return w.pub.Serve(ctx) })
	serving.Go(func() error { return w.sub.Serve(ctx) })
	brokerPanel := brokerpanel.New(b, w.win, a.Preferences())
	brokerPanel.NameClients(ownConnections(eng.Connections.Manager, b))
	w.conns.show(ctx, serving, w.win, func() string { return studio.LocalBrokerAddr(b.State()) })
	shell.AddPanels(w.win, brokerPanel)
	serving.Go(func() error { return brokerPanel.Serve(ctx) })
	if eng.Capture != nil {
		w.capt = &captureView{capt: eng.Capture, do: fyne.Do, brokerURL: func() string { return studio.LoopbackURL(b.State()) }}
		if eng.Journal != nil {
			w.capt.showSessions = w.showSessions
		}
		w.capt.show(ctx, serving, w.win)
	}
	sims := newSimEngine(eng, opts.DataDir, opts.FleetCommand)
	devs := devices.New(sims, w.win, devices.Options{Logger: log})
	shell.AddPanels(w.win, devs)
	serving.Go(func() error { return devs.Serve(ctx) })
	w.journal = addJournal(ctx, serving, w.win, eng)
	if w.journal != nil {
		brokerPanel.ShowSessions(w.showSessions)
	}
	w.bridges = addBridges(ctx, serving, w.win, eng, opts.DataDir, w.log)
	w.settings = rememberLayout(a, w.win, w.tops.panel.Split())
	w.settings.log = w.log
	w.settings.metrics = startMetrics(eng, sims.runs.stats, a.Preferences(), w.log)
	w.setMainMenu(a, aboutInfo{Version: opts.Version, DataDir: opts.DataDir})
	return w
}

// ShowAndRun shows the window where it was when it last closed and runs
// the app until it quits.
func (w *Window) ShowAndRun() {
	shell.Show(w.win)
	w.settings.place()
	w.settings.app.Run()
}

// Quit closes the window as its close button does, which ends the app;
// unlike fyne.App.Quit, it keeps where the window was for the next start.
// Call it on the UI goroutine (fyne.Do).
func (w *Window) Quit() { w.win.Close() }

// Close ends every panel's Serve (their refresh and actions) and the
// capture's move aside, and waits for them, so that no panel goroutine reads an engine that is
// closing. Call it after ShowAndRun returns and before the engine closes.
func (w *Window) Close() {
	w.settings.save()
	w.settings.metrics.close()
	w.bridges.close()
	w.cancel()
	if w.capt != nil {
		w.capt.wait()
	}
	if err := w.serving.Wait(); err != nil {
		w.log.Error("a panel stopped serving with an error", "err", err) // a programming error: each Serve returns nil at close
	}
}
