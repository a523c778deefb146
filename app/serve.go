package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/engine/studio"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// brokerFlags registers the flags that describe the broker and returns a
// function building the Config once they are parsed.
func brokerFlags(fs *flag.FlagSet) func() (cfg broker.Config, capturing bool, err error) {
	mqttAddr := fs.String("mqtt", broker.DefaultMQTTAddr, "MQTT over TCP listener `HOST:PORT` (port 0 picks a free port; \"off\" disables)")
	wsAddr := fs.String("ws", broker.DefaultWSAddr, "MQTT over WebSocket listener `HOST:PORT` (path "+broker.WSPath+"), or \"off\"")
	tlsAddr := fs.String("tls", "", "MQTT over TLS listener `HOST:PORT` (needs --cert/--key or --dev-ca)")
	cert := fs.String("cert", "", "TLS certificate `FILE` (PEM)")
	key := fs.String("key", "", "TLS private key `FILE` (PEM)")
	devCA := fs.Bool("dev-ca", false, "serve TLS with a development CA generated in the data dir")
	data := fs.String("data", "", "data `DIR` for sessions, retained messages, users and the dev CA (default: the user config dir)")
	users := fs.String("users", "", "users `FILE` (default DATA/users.yaml)")
	noPersist := fs.Bool("no-persist", false, "keep sessions and retained messages in memory only")
	noCapture := fs.Bool("no-capture", false, "do not record traffic in DATA/capture")
	var origins listFlag
	fs.Var(&origins, "allow-origin", "browser `ORIGIN` allowed on the WebSocket listener besides localhost (repeatable)")
	limits := limitFlags(fs)
	queueBudgets := queueBudgetFlags(fs)
	return func() (cfg broker.Config, capturing bool, err error) {
		dir, err := dataDir(*data)
		if err != nil {
			return broker.Config{}, false, err
		}
		cfg = broker.DefaultConfig(dir)
		cfg.MQTTAddr, cfg.WSAddr, cfg.TLSAddr = offToEmpty(*mqttAddr), offToEmpty(*wsAddr), offToEmpty(*tlsAddr)
		cfg.CertFile, cfg.KeyFile, cfg.DevCA = *cert, *key, *devCA
		cfg.UsersFile, cfg.NoPersistence, cfg.AllowedOrigins = *users, *noPersist, origins
		if err := limits(&cfg); err != nil {
			return broker.Config{}, false, err
		}
		if cfg.MaxQueuedBytesPerClient, cfg.MaxQueuedBytes, err = queueBudgets(); err != nil {
			return broker.Config{}, false, err
		}
		return cfg, !*noCapture, nil
	}
}

// limitFlags registers the broker's connection limits (issue 11). Ranges
// are checked by broker.New, so the window and serve agree.
func limitFlags(fs *flag.FlagSet) func(*broker.Config) error {
	keepAlive := fs.Int("max-keepalive", broker.DefaultKeepAliveCap,
		"longest keep alive in `SECONDS` granted to MQTT 5 clients, announced as Server Keep Alive (0: no cap)")
	packetSize := fs.String("max-packet-size", capture.FormatSize(broker.DefaultMaxPacketSize),
		"largest packet in `SIZE` accepted after CONNECT (16MiB, 256kB, unlimited = MQTT's 256MiB); told to MQTT 5 clients")
	connectTimeout := fs.Duration("connect-timeout", broker.DefaultConnectTimeout,
		"close connections that have not sent CONNECT after `DURATION` (TLS handshake and WebSocket upgrade included)")
	maxConns := fs.Int("max-connections", 0,
		"refuse clients beyond `N` connected at once with CONNACK \"server unavailable\" (default from ulimit -n, at most 10000)")
	return func(cfg *broker.Config) error {
		if *keepAlive < 0 || *keepAlive > 65535 {
			return usagef("--max-keepalive %d: give seconds from 0 (no cap) to 65535", *keepAlive)
		}
		size, err := capture.ParseSize(*packetSize)
		if err != nil {
			return usagef("--max-packet-size: %v", err)
		}
		switch {
		case size < 0:
			size = broker.MaxPacketSizeLimit
		case size > broker.MaxPacketSizeLimit:
			return usagef("--max-packet-size %s: MQTT packets are at most 256MiB; give a smaller size or %q", *packetSize, capture.Unlimited)
		}
		if *connectTimeout <= 0 {
			return usagef("--connect-timeout %v: give a positive duration such as 10s", *connectTimeout)
		}
		cfg.KeepAliveCap = uint16(*keepAlive)
		cfg.MaxPacketSize = uint32(size)
		cfg.ConnectTimeout = *connectTimeout
		cfg.MaxConnections = *maxConns
		return nil
	}
}

// retentionFlags registers the capture's retention limits. Unset, they
// leave the limits saved in the capture as they are (the defaults for a new
// capture); set, they change and save them.
func retentionFlags(fs *flag.FlagSet) func() (capture.Options, error) {
	maxSize := fs.String("capture-max-size", "",
		"keep at most `SIZE` of captured records (500MB, 20GiB, unlimited), the oldest going first; saved with the capture (initially "+
			capture.FormatSize(capture.DefaultMaxBytes)+")")
	maxAge := fs.String("capture-max-age", "",
		"keep captured records for `AGE` (36h, 30d, unlimited); saved with the capture (initially "+capture.FormatAge(capture.DefaultMaxAge)+")")
	return func() (opts capture.Options, err error) {
		if *maxSize != "" {
			if opts.MaxBytes, err = capture.ParseSize(*maxSize); err != nil {
				return capture.Options{}, usagef("--capture-max-size: %v", err)
			}
		}
		if *maxAge != "" {
			if opts.MaxAge, err = capture.ParseAge(*maxAge); err != nil {
				return capture.Options{}, usagef("--capture-max-age: %v", err)
			}
		}
		return opts, nil
	}
}

func offToEmpty(addr string) string {
	if strings.EqualFold(addr, "off") {
		return ""
	}
	return addr
}

func dataDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return broker.DefaultDataDir()
}

func runServe(args []string, e env) error {
	fs := newFlagSet("serve", e)
	config := brokerFlags(fs)
	retention := retentionFlags(fs)
	logLevel := fs.String("log-level", "info", "log `LEVEL`: debug, info, warn, error")
	metricsAddr := metricsFlag(fs)
	journaling := journalFlags(fs)

	// --bridge (issue 16): last, in its own block.
	bridgeFile := bridgeFlag(fs)

	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(e.stderr, *logLevel)
	if err != nil {
		return err
	}
	cfg, capturing, err := config()
	if err != nil {
		return err
	}
	cfg.Logger = log
	// The journal shares the capture's socket; it is known once the engine is open.
	var heldJournal atomic.Pointer[journalstore.Store]
	scfg := studio.Config{Broker: cfg, Capture: capturing, OnCapture: captureQueriesWhile(cfg.DataDir, "serve", heldJournal.Load, log), Logger: log}
	bridgePlans, err := planBridges(*bridgeFile, cfg.DataDir)
	if err != nil {
		return err
	}
	scfg.Observable = len(bridgePlans) > 0 // the bridges feed on the tap
	if capturing {
		if scfg.CaptureOptions, err = retention(); err != nil {
			return err
		}
	}
	if scfg.Journal, scfg.JournalOptions, err = journaling(); err != nil {
		return err
	}
	eng, err := openEngine(scfg)
	if err != nil {
		return err
	}
	heldJournal.Store(eng.Journal)
	if eng.Journal != nil && eng.Capture == nil {
		// No capture, so nothing serves the socket yet.
		if stop := captureQueriesWhile(cfg.DataDir, "serve", heldJournal.Load, log)(func() *capture.Store { return nil }); stop != nil {
			defer stop()
		}
	}
	// Listen for signals before announcing the listeners: a supervisor may
	// send SIGTERM as soon as it sees them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// --metrics (issue 16): a refused or busy address is a start error.
	metricsServed, err := serveMetrics(ctx, *metricsAddr, cfg, eng, log)
	if err != nil {
		stop()
		_ = eng.Serve(ctx)
		return startError(err)
	}
	defer metricsServed.stop()
	if err := eng.Start(); err != nil {
		stop() // nothing to serve: shut the engine down at once
		_ = eng.Serve(ctx)
		return startError(err)
	}
	// Before the listeners are announced, so that the bridges see what
	// the first clients publish.
	bridges, err := eng.OpenBridges(bridgePlans, client.NewSecrets(client.OSKeyring{}))
	if err != nil {
		stop()
		_ = eng.Serve(ctx)
		return startError(err)
	}
	b := eng.Broker
	for _, l := range b.State().Listeners {
		fmt.Fprintf(e.stdout, "%s listening on %s\n", l.Name, l.Address)
	}
	metricsServed.announce(e.stdout)
	if ca := b.DevCA(); ca != nil {
		log.Info("TLS uses the development CA; give devices its certificate", "ca", ca.Dir()+string(os.PathSeparator)+"ca.pem")
	}
	// Until a signal; then the engine's one shutdown order: the broker
	// before the capture, so every message it accepted is written.
	return eng.Serve(bridges.ClosedBefore(shutdownLogged(ctx, log)))
}

// shutdownLogged is ctx, done once "shutting down" is logged.
func shutdownLogged(ctx context.Context, log *slog.Logger) context.Context {
	logged, done := context.WithCancel(context.Background())
	context.AfterFunc(ctx, func() {
		log.Info("shutting down")
		done()
	})
	return logged
}

// openEngine opens the engine; a broker configuration it refuses is a
// usage error (exit status 2), fixed on the command line or in the
// settings.
func openEngine(cfg studio.Config) (*studio.Studio, error) {
	eng, err := studio.Open(cfg)
	var bad *studio.ConfigError
	if errors.As(err, &bad) {
		return nil, usageError{bad.Err}
	}
	return eng, err
}

// captureQueriesWhile lets the headless capture commands read the store
// the engine holds while who ("serve", "the app") runs
// (capture_service.go); failing to only costs that.
func captureQueriesWhile(dataDir, who string, journal func() *journalstore.Store, log *slog.Logger) func(func() *capture.Store) func() {
	return func(current func() *capture.Store) func() {
		stop, err := serveCaptureQueries(dataDir, current, journal, log)
		if err != nil {
			log.Warn("headless capture commands cannot read the capture while "+who+" runs", "error", err)
			return nil
		}
		return stop
	}
}

func closeCapture(store *capture.Store, log *slog.Logger) {
	if err := store.Close(); err != nil {
		log.Error("closing the capture", "error", err)
	}
}

// startError marks start failures as exit status 2: each one (a busy port,
// an unreadable certificate, a bad users file, an unwritable data dir) is
// fixed by changing the command line or the files it names. A listener's
// error says what to pass instead (the error itself is worded for the
// window too, which has no flags).
func startError(err error) error {
	var le *broker.ListenError
	if errors.As(err, &le) {
		err = fmt.Errorf("%w On the command line, %s.", err, le.CommandLineHint())
	}
	return usageError{err}
}

// queueBudgetFlags registers the broker's queue byte budgets.
func queueBudgetFlags(fs *flag.FlagSet) func() (perClient, total int64, err error) {
	perClient := fs.String("max-queued-bytes-per-client", capture.FormatSize(broker.DefaultMaxQueuedBytesPerClient),
		"most `SIZE` of messages queued or in flight for one client (e.g. 256MiB, or unlimited); QoS 0 beyond three quarters of it is dropped")
	total := fs.String("max-queued-bytes", capture.FormatSize(broker.DefaultMaxQueuedBytes),
		"most `SIZE` of messages queued or in flight for all clients together (e.g. 2GiB, or unlimited)")
	return func() (int64, int64, error) {
		p, err := capture.ParseSize(*perClient)
		if err != nil || p == 0 {
			return 0, 0, usagef("--max-queued-bytes-per-client %q: want a size such as 64MiB, or unlimited", *perClient)
		}
		t, err := capture.ParseSize(*total)
		if err != nil || t == 0 {
			return 0, 0, usagef("--max-queued-bytes %q: want a size such as 512MiB, or unlimited", *total)
		}
		return p, t, nil
	}
}
