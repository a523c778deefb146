// Package studio assembles the engine one process runs, the same way for
// `iotstudio serve` and for the window: from one Config it opens the
// capture, builds the live topic model, the connections to other brokers
// and the embedded broker (whose session store it opens), and it owns the
// one start and the one shutdown order of all of them.
//
// Data flow: the broker's tap and every remote connection feed one
// message.Tee (the capture and the topic model); what the connection to
// the embedded broker receives is not recorded again, since the tap has
// it (Connections). Retained messages the broker restores at a start
// reach the model through the broker's RetainedAtStart event; later ones,
// and their clearing, arrive through the tap like any message.
//
// Shutdown order (when Serve's ctx is done): connections first (the local one would retry
// against a stopping broker; remote ones feed the model and the capture),
// then the broker (its listeners and clients, so nothing more is
// accepted, and its session store flushed and closed), then the topic
// model, then the capture: a move aside in progress, the headless capture
// commands' service, and last the store, so that every message the broker
// accepted is written. The session journal closes last, once the broker
// and the connections can tell it nothing more. Whoever shows the engine (the window's panels)
// stops reading it before ending Serve.
package studio

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sessionstore"
	"github.com/iotstudio/iotstudio/engine/topics"
)

// Config is what one process runs. Broker.DataDir is the data dir of
// everything: sessions, capture, connection profiles.
type Config struct {
	Broker broker.Config

	// Capture records traffic in DataDir/capture, with CaptureOptions
	// (zero limits keep those saved with the capture).
	Capture        bool
	CaptureOptions capture.Options
	// CaptureMayFail opens the engine without a capture when the capture
	// cannot be opened (the window says why, and may move a damaged one
	// aside); otherwise Open fails.
	CaptureMayFail bool
	// OnCapture is called once, when a capture store is first open, with
	// a way to read the store as it is now; the function it returns is
	// called at shutdown before the store closes. The app serves the
	// headless capture commands from it.
	OnCapture func(current func() *capture.Store) (stop func())

	// Topics builds the live topic model the broker and the connections
	// feed (the window's Explorer).
	Topics bool
	// Connections builds the connections to other brokers, profiles in
	// DataDir, secrets in Keyring (nil: none can be stored).
	Connections bool
	Keyring     client.Keyring

	// Observable lets Observe add sinks to the broker's tap later (the
	// virtual devices' delivery and latency count), even when neither the
	// capture nor the topic model is on.
	Observable bool

	Logger *slog.Logger

	// Journal keeps the session journal in DataDir/journal (JournalDir)
	// with JournalOptions: the broker's sessions and the connections'
	// state changes. JournalMayFail opens the engine without it when it
	// cannot be opened (JournalErr says why); otherwise Open fails.
	Journal        bool
	JournalOptions journalstore.Options
	JournalMayFail bool
}

// Studio is the assembled engine. Its fields are set by Open and never
// change; Topics and Connections are nil unless configured.
type Studio struct {
	Broker      *broker.Broker
	Capture     *Capture
	Topics      *topics.Model
	Connections *Connections

	observers *sinkSet // nil unless Config.Observable
	log       *slog.Logger

	// Journal is the session journal, nil when off or not opened
	// (JournalErr says why).
	Journal    *journalstore.Store
	JournalErr error
}

// Observe hands r every message the broker accepts from now on, until
// the returned function is called. r.Ingest runs on the publisher's
// goroutine and must not block. It needs Config.Observable; without it
// Observe reports false and r sees nothing.
func (s *Studio) Observe(r message.Sink) (stop func(), ok bool) {
	if s.observers == nil {
		return func() {}, false
	}
	return s.observers.add(r), true
}

// ConfigError is a broker configuration broker.New refused: fixed by
// changing the command line or the settings.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// CaptureDir is where the capture lives inside the data dir.
func CaptureDir(dataDir string) string { return filepath.Join(dataDir, "capture") }

// Open builds the engine; nothing listens until Start. A capture that
// cannot be opened fails Open unless cfg.CaptureMayFail, in which case
// Capture.OpenErr says why; a broker configuration broker.New refuses is
// a *ConfigError.
func Open(cfg Config) (*Studio, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Studio{log: log}
	dir := cfg.Broker.DataDir
	if cfg.Capture {
		opts := cfg.CaptureOptions
		opts.Logger = log
		c, err := openCapture(CaptureDir(dir), opts, cfg.OnCapture, log)
		if err != nil {
			if !cfg.CaptureMayFail {
				return nil, err
			}
			// The broker still works; the window must open and say why.
			log.Error("traffic is not being captured", "error", err)
		}
		s.Capture = c
	}
	if cfg.Journal {
		if err := s.openJournal(dir, cfg); err != nil {
			s.closeCapture()
			return nil, err
		}
	}
	var sinks []message.Sink
	if s.Capture != nil {
		sinks = append(sinks, s.Capture)
	}
	if cfg.Topics {
		s.Topics = topics.New(topics.Options{Logger: log})
		sinks = append(sinks, s.Topics)
	}
	engine := message.NewTee(sinks...)
	tap := engine
	if cfg.Observable {
		s.observers = &sinkSet{}
		tap = message.NewTee(engine, s.observers)
	}
	if cfg.Connections {
		s.Connections = newConnections(dir, engine, cfg.Keyring, log, s.remoteStates())
	}
	bcfg := cfg.Broker
	bcfg.Logger = log
	if tap != nil {
		bcfg.Recorder = tap
	}
	if s.Topics != nil {
		bcfg.RetainedAtStart = func(recs []message.Message) { s.Topics.Restore(recs) }
	}
	if s.Journal != nil {
		bcfg.Journal = s.Journal
	}
	if !bcfg.NoPersistence && bcfg.Sessions == nil {
		bcfg.Sessions = sessionsIn(dir, log)
	}
	b, err := broker.New(bcfg)
	if err != nil {
		s.closeCapture()
		s.closeJournal()
		return nil, &ConfigError{err}
	}
	s.Broker = b
	return s, nil
}

// sessionsIn opens the session store in dataDir/sessions at each broker
// start.
func sessionsIn(dataDir string, log *slog.Logger) broker.SessionOpener {
	return func() (broker.SessionStore, error) {
		return sessionstore.Open(filepath.Join(dataDir, "sessions"), log)
	}
}

// Start starts the broker: its listeners, and its session store.
func (s *Studio) Start() error { return s.Broker.Start() }

// Serve runs the engine until ctx is done (the topic model applies what
// it is fed only while Serve runs), then shuts everything down in the
// order the package comment gives and returns the broker's stop error.
// Call it once; an engine whose broker failed to start is shut down by
// a Serve with a done ctx.
func (s *Studio) Serve(ctx context.Context) error {
	modelCtx, stopModel := context.WithCancel(context.Background())
	var model sync.WaitGroup
	if s.Topics != nil {
		model.Go(func() { _ = s.Topics.Serve(modelCtx) }) // nil once modelCtx is done
	}
	<-ctx.Done()
	if s.Connections != nil {
		s.Connections.close()
	}
	err := s.Broker.Stop()
	stopModel()
	model.Wait()
	s.closeCapture()
	s.closeJournal() // after the capture: its socket serves the journal commands too
	return err
}

// closeCapture closes the capture, once nothing feeds it.
func (s *Studio) closeCapture() {
	if s.Capture != nil {
		s.Capture.close()
	}
}
