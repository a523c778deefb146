package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/iotstudio/iotstudio/assets"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/ui/brokerpanel"
	"github.com/iotstudio/iotstudio/ui/settings"
	"github.com/iotstudio/iotstudio/ui/window"
)

// AppID names the app for Fyne preferences and desktop integration; it must
// match FyneApp.toml.
const AppID = "io.iotstudio.app"

type windowFlags struct {
	data, mqttAddr, wsAddr, logLevel *string
	noCapture                        *bool
}

// guiFlags registers the window's flags; `iotstudio --help` lists them too.
func guiFlags(fs *flag.FlagSet) windowFlags {
	return windowFlags{
		data:      fs.String("data", "", "data `DIR` (default: the user config dir)"),
		mqttAddr:  fs.String("mqtt", "", "MQTT listener `HOST:PORT` for this run (overrides the saved setting)"),
		wsAddr:    fs.String("ws", "", "WebSocket listener `HOST:PORT` or \"off\" for this run (overrides the saved setting)"),
		logLevel:  fs.String("log-level", "info", "log `LEVEL`: debug, info, warn, error"),
		noCapture: fs.Bool("no-capture", false, "do not record traffic in DATA/capture"),
	}
}

func runGUI(args []string, e env) error {
	fs := newFlagSet("gui", e)
	f := guiFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(e.stderr, *f.logLevel)
	if err != nil {
		return err
	}
	dir, err := dataDir(*f.data)
	if err != nil {
		return err
	}
	inst, err := claimWindow(dir, windowAnswerWait, log)
	if errors.Is(err, errShownOther) {
		fmt.Fprintf(e.stdout, "IoT Studio is already running with the data dir %s: brought its window forward.\n", dir)
		return nil
	}
	if err != nil {
		return err
	}
	defer inst.close()
	// From here on a signal quits cleanly: the engine opens and the broker
	// starts seconds before the window exists (a first start builds the
	// stores), and a Ctrl-C or logout then killed the process with the
	// capture and the broker open. A signal that comes early waits in sig
	// until the window can quit.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	mqttAddr, wsAddr, noCapture := f.mqttAddr, f.wsAddr, f.noCapture

	a := fyneapp.NewWithID(AppID)
	if a.Metadata().Icon == nil {
		// Built without the packaging tool (go run, go build): the window
		// still shows the app's own icon, not Fyne's.
		a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	}
	keepPreferences(a, preferencesPath(a), log)

	// Settings (ui/settings): the theme, text size and tree density the
	// user chose, applied before the window is built so that it opens in
	// them.
	settings.Restore(a)

	prefs := a.Preferences()
	cfg := brokerpanel.ConfigFromPreferences(prefs, dir)
	if *mqttAddr != "" {
		cfg.MQTTAddr = offToEmpty(*mqttAddr)
	}
	if *wsAddr != "" {
		cfg.WSAddr = offToEmpty(*wsAddr)
	}
	cfg.Logger = log
	// The journal shares the capture's socket; it is known once the engine is open.
	var heldJournal atomic.Pointer[journalstore.Store]
	eng, err := openEngine(studio.Config{
		Broker: cfg,
		// Without a capture the broker still works; the window must open
		// and say why (ui/window's captureView.show).
		Capture: !*noCapture, CaptureMayFail: true,
		OnCapture:   captureQueriesWhile(dir, "the app", heldJournal.Load, log),
		Topics:      true,
		Observable:  true, // the Devices panel's delivery and latency
		Connections: true, Keyring: client.OSKeyring{},
		Logger: log,
		// Session journal (issue 16): on; without it the window still opens.
		Journal: true, JournalMayFail: true,
	})
	var bad usageError
	if errors.As(err, &bad) {
		return usageError{fmt.Errorf("broker settings: %w", bad.err)}
	}
	if err != nil {
		return err
	}
	heldJournal.Store(eng.Journal)
	if eng.Journal != nil && eng.Capture == nil {
		// No capture, so nothing serves the socket the journal commands use.
		if stop := captureQueriesWhile(dir, "the app", heldJournal.Load, log)(func() *capture.Store { return nil }); stop != nil {
			defer stop()
		}
	}
	if brokerpanel.AutoStart(prefs) {
		// A failure is shown in the panel (with a way to change the port),
		// not fatal: the window is where the user fixes it.
		if err := eng.Start(); err != nil {
			log.Warn("broker did not start", "error", err)
		}
	}

	engCtx, stopEngine := context.WithCancel(context.Background())
	engDone := make(chan error, 1)
	go func() { engDone <- eng.Serve(engCtx) }()
	w := window.New(a, eng, window.Options{DataDir: dir, Logger: log, FleetCommand: thisProgram(log), Version: Version()})
	inst.onShow(w.Raise)
	ctx, cancel := context.WithCancel(context.Background())
	memTick := time.NewTicker(releaseEvery)
	defer memTick.Stop()
	memDone := make(chan struct{})
	go func() {
		defer close(memDone)
		releaseAfterBursts(ctx, log, memTick.C)
	}()
	select {
	case <-sig:
		// Quit before the window shows: closed during its first frames, it
		// crashed Fyne's GLFW driver (a mouse event for a destroyed window).
		log.Info("quitting on a signal that came while the window was built")
	default:
		quitOnSignal(ctx, sig, w.Quit)
		w.ShowAndRun()
	}

	// Stop the UI refresh loops and the capture's actions first, so no
	// panel goroutine reads an engine that is closing; then the engine
	// in its one shutdown order (engine/studio).
	cancel()
	<-memDone
	w.Close()
	stopEngine()
	return <-engDone
}

// quitOnSignal makes SIGINT/SIGTERM (Ctrl-C, logout, kill), caught on sig,
// quit the app like its window's close button, so the broker and capture
// shut down cleanly instead of dying mid-write. Fyne's driver quits on them
// too, without closing the window; whichever runs first, the window's
// position is kept (ui/window's settings.go). The goroutine ends with ctx.
func quitOnSignal(ctx context.Context, sig <-chan os.Signal, quit func()) {
	go func() {
		select {
		case <-sig:
			fyne.Do(quit)
		case <-ctx.Done():
		}
	}()
}

// thisProgram runs this executable with other arguments: the Devices
// panel's fleets run as `simulate run --control` in a process of their
// own. Without a path to it they run in the window's process.
func thisProgram(log *slog.Logger) window.FleetCommand {
	exe, err := os.Executable()
	if err != nil {
		log.Warn("fleets of virtual devices will run in the window's process", "error", err)
		return nil
	}
	return func(args ...string) *exec.Cmd { return exec.Command(exe, args...) }
}
