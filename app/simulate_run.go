package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/metrics"
	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
	"github.com/iotstudio/iotstudio/engine/sim/remote"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
	"github.com/iotstudio/iotstudio/engine/studio"
)

// runFlags are simulate run's flags.
type runFlags struct {
	embedded, noCapture, control *bool
	mqtt, data, savedConn, ramp  *string
	format, logLevel             *string
	count                        *int
	seed                         *int64
	duration, stats              *time.Duration
	dial                         dialFlags
	metrics                      *string
	fs                           *flag.FlagSet
	replay                       *lazyCapture // its --data is data
}

func addRunFlags(fs *flag.FlagSet) runFlags {
	replay := replayFlag(fs)
	return runFlags{
		replay:    replay,
		data:      replay.data,
		fs:        fs,
		embedded:  fs.Bool("embedded", false, "start the broker in this process (as serve does, capture on) and run the devices against it"),
		mqtt:      fs.String("mqtt", broker.DefaultMQTTAddr, "with --embedded: the broker's MQTT listener `HOST:PORT` (port 0 picks a free port)"),
		noCapture: fs.Bool("no-capture", false, "with --embedded: do not record the traffic in DATA/capture"),
		savedConn: fs.String("profile", "", "run the devices against the saved connection `NAME` (see iotstudio connections)"),
		count:     fs.Int("count", 0, "`N` devices per fleet (default: each fleet's count in the file)"),
		ramp:      fs.String("ramp", "", "how fast devices connect: `RATE` per second (200/s) or a duration to spread them over (30s)"),
		seed:      fs.Int64("seed", 0, "`SEED` of every fleet's values (default: each fleet's seed in the file)"),
		duration:  fs.Duration("duration", 0, "stop after `DURATION` (default: run until Ctrl-C)"),
		stats:     fs.Duration("stats", 5*time.Second, "print the fleets' stats every `INTERVAL` (0: only the summary)"),
		format:    fs.String("format", "text", "stats `FORMAT`: text or jsonl"),
		logLevel:  fs.String("log-level", "warn", "log `LEVEL` of the embedded broker: debug, info, warn, error"),
		control:   fs.Bool("control", false, "for programs that drive the run (the window): read JSON requests on stdin, answer and print stats as JSON Lines; stdin's end stops the run"),
		dial:      addDialFlags(fs, "5"), // MQTT 5: the simulated devices speak one protocol, chosen up front
		metrics: fs.String("metrics", "", "serve the fleets' Prometheus metrics (devices connected, messages sent, errors; with --embedded the broker's too) on `HOST:PORT`"+
			metrics.Path+"; beyond loopback it is refused"),
	}
}

// given reports whether the flag name was on the command line.
func (f runFlags) given(name string) bool {
	seen := false
	f.fs.Visit(func(fl *flag.Flag) { seen = seen || fl.Name == name })
	return seen
}

// check refuses combinations that cannot mean what the user wants.
func (f runFlags) check() error {
	targets := 0
	for _, on := range []bool{*f.embedded, *f.dial.url != "", *f.savedConn != ""} {
		if on {
			targets++
		}
	}
	if targets != 1 {
		return usagef("simulate run: give one target: --embedded, --url URL or --profile NAME\n%s", simulateUsage)
	}
	if *f.savedConn != "" {
		if c := profileConflict(f.fs); c != "" {
			return usagef("--%s: the saved connection --profile %s decides it; leave it out", c, *f.savedConn)
		}
	}
	if f.given("client-id") {
		return usagef("--client-id: each device takes its client ID from the scenario (client_id in its fleet)")
	}
	if !*f.embedded && (f.given("mqtt") || f.given("no-capture")) {
		return usagef("--mqtt and --no-capture apply to --embedded only")
	}
	if *f.count < 0 || f.given("count") && *f.count == 0 {
		return usagef("--count %d: give a number of devices, at least 1", *f.count)
	}
	if *f.control && f.given("format") && *f.format != "jsonl" {
		return usagef("--control speaks JSON Lines; leave --format out")
	}
	if *f.format != "text" && *f.format != "jsonl" {
		return usagef("--format %q: use text or jsonl", *f.format)
	}
	if *f.stats < 0 || *f.duration < 0 {
		return usagef("--stats and --duration take positive durations")
	}
	return nil
}

// protocol is the MQTT version the devices speak: the target's.
func (f runFlags) protocol() (byte, error) {
	if *f.savedConn != "" {
		p, _, err := savedProfile(*f.data, *f.savedConn)
		if err != nil {
			return 0, err
		}
		return p.Protocol.Level(), nil
	}
	switch *f.dial.protocol {
	case "5":
		return 5, nil
	case "3.1.1", "4", "311":
		return 4, nil
	}
	return 0, usagef("--protocol %q: use 5 or 3.1.1", *f.dial.protocol)
}

// overrides applies --count, --seed and --ramp to every fleet.
func (f runFlags) overrides(s *device.Scenario) error {
	var ramp scenario.Ramp
	if *f.ramp != "" {
		r, err := scenario.ParseRamp(*f.ramp)
		if err != nil {
			return usagef("--ramp %q: %v", *f.ramp, err)
		}
		ramp = r
	}
	for i, fl := range s.Fleets {
		if *f.count > 0 {
			fl = fl.WithCount(*f.count)
		}
		if f.given("seed") {
			fl = fl.WithSeed(*f.seed)
		}
		if *f.ramp != "" {
			fl = fl.WithRamp(ramp)
		}
		s.Fleets[i] = fl
	}
	return nil
}

func simulateRun(args []string, e env) error {
	fs := newFlagSet("simulate run", e)
	f := addRunFlags(fs)
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	proto, err := f.protocol()
	if err != nil {
		return err
	}
	defer f.replay.Close()
	s, err := loadScenarios(paths, proto, f.replay)
	if err != nil {
		return err
	}
	if err := f.overrides(s); err != nil {
		return err
	}
	if err := checkClientIDs(s); err != nil {
		return err
	}
	log, err := newLogger(e.stderr, *f.logLevel)
	if err != nil {
		return err
	}
	if *f.control {
		yieldToWindow(log)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *f.duration)
		defer cancel()
	}
	if *f.embedded {
		return runEmbedded(ctx, f, s, proto, log, e)
	}
	target, err := f.target()
	if err != nil {
		return err
	}
	return runFleets(ctx, s, target, nil, f, log, e)
}

// target is the broker --url or --profile names.
func (f runFlags) target() (fleet.Target, error) {
	if *f.savedConn != "" {
		p, creds, err := savedProfile(*f.data, *f.savedConn)
		if err != nil {
			return fleet.Target{}, err
		}
		return fleet.TargetFor(p, creds)
	}
	p, creds, err := f.dial.profile()
	if err != nil {
		return fleet.Target{}, err
	}
	return fleet.TargetFor(p, creds)
}

// runEmbedded starts the engine as serve does, observable so the fleets
// count what the broker delivered, runs the fleets against it, and shuts
// it down after them.
func runEmbedded(ctx context.Context, f runFlags, s *device.Scenario, proto byte, log *slog.Logger, e env) error {
	dir, err := dataDir(*f.data)
	if err != nil {
		return err
	}
	cfg := broker.DefaultConfig(dir)
	cfg.MQTTAddr, cfg.WSAddr, cfg.Logger = offToEmpty(*f.mqtt), "", log
	scfg := studio.Config{Broker: cfg, Capture: !*f.noCapture, Observable: true, Logger: log,
		OnCapture: captureQueriesWhile(dir, "simulate run", noJournal, log)}
	eng, err := openEngine(scfg)
	if err != nil {
		return err
	}
	engCtx, stopEngine := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- eng.Serve(engCtx) }()
	defer func() {
		stopEngine()
		if err := <-served; err != nil {
			log.Error("stopping the embedded broker", "error", err)
		}
	}()
	if err := eng.Start(); err != nil {
		return startError(err)
	}
	url := studio.LoopbackURL(eng.Broker.State())
	fmt.Fprintf(e.stderr, "embedded broker at %s\n", url)
	err = runFleets(ctx, s, fleet.Target{URL: url, Protocol: proto}, eng, f, log, e)
	awaitDisconnects(eng.Broker, s, 2*time.Second)
	return err
}

// awaitDisconnects waits, up to limit, until the broker has read every
// device's DISCONNECT (broker.AwaitGone says why).
func awaitDisconnects(b *broker.Broker, s *device.Scenario, limit time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	b.AwaitGone(ctx, s.ClientIDs())
}

// runFleets runs every fleet until ctx ends, printing stats every
// --stats and a summary at the end. It fails when no device of any fleet
// ever connected.
func runFleets(ctx context.Context, s *device.Scenario, target fleet.Target, eng *studio.Studio, f runFlags, log *slog.Logger, e env) error {
	runners := make([]*fleet.Runner, len(s.Fleets))
	served := make([]remote.Fleet, len(s.Fleets))
	for i, fl := range s.Fleets {
		var src fleet.Devices = fl.Source()
		if *f.control {
			served[i].Devices = device.Track(fl)
			src = served[i].Devices
		}
		runners[i] = fleet.New(src, target, fleet.Options{Seed: uint64(fl.Seed), Logger: log})
		served[i].Runner = runners[i]
		if eng != nil {
			if stopObserving, ok := eng.Observe(runners[i]); ok {
				defer stopObserving()
			}
		}
	}
	format := *f.format
	if *f.control {
		format = "jsonl"
	}
	if *f.metrics != "" {
		stop, err := serveFleetMetrics(ctx, *f.metrics, runners, eng, format, log, e)
		if err != nil {
			return err
		}
		defer stop()
	}
	report := newStatsReport(format, e.stdout)
	ctx, giveUp := context.WithCancel(ctx)
	defer giveUp()
	timer := time.AfterFunc(firstRound(s), func() {
		if noneConnected(runners) {
			giveUp() // every device's first attempts failed: say why and exit
		}
	})
	defer timer.Stop()
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range runners {
		g.Go(func() error { return r.Run(gctx) })
	}
	mostConnected := watchStats(gctx, runners, *f.stats, report)
	var stopCommands func()
	if *f.control {
		stopCommands = serveControl(gctx, e, served, report, giveUp)
	} else {
		stopCommands = readRunCommands(gctx, e, runners, report)
	}
	err := g.Wait()
	stopCommands()
	most := mostConnected()
	final := make([]fleet.Stats, len(runners))
	for i, r := range runners {
		final[i] = r.Stats()
	}
	report.summary(final, most)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if !anyConnected(final, most) {
		last := ""
		for _, st := range final {
			if st.LastError != "" {
				last = st.LastError
			}
		}
		// The devices' errors name the URL already.
		return fmt.Errorf("no device could connect to %s: %s", target.URL, strings.TrimPrefix(last, target.URL+": "))
	}
	return nil
}

// watchStats prints stats every interval and samples, every quarter
// second, how many devices of each fleet are connected: after the stop
// none is, and the summary says how many were. The returned func waits
// for ctx to end and gives the most connected at once, per fleet.
// firstRound is how long the devices' first connect attempts may take:
// the slowest fleet's ramp and two connect timeouts. A run in which no
// device has connected by then ends, naming the error, rather than retry
// a wrong URL or password until Ctrl-C.
func firstRound(s *device.Scenario) time.Duration {
	longest := time.Duration(0)
	for _, fl := range s.Fleets {
		ramp := fl.Ramp.Over
		if fl.Ramp.PerSecond > 0 {
			ramp = time.Duration(float64(fl.Count) / fl.Ramp.PerSecond * float64(time.Second))
		}
		longest = max(longest, ramp)
	}
	return longest + firstRoundSlack
}

// firstRoundSlack is two of fleet.Options' default ConnectTimeout (a
// target that never answers); tests shorten it.
var firstRoundSlack = 20 * time.Second

func noneConnected(runners []*fleet.Runner) bool {
	for _, r := range runners {
		if st := r.Stats(); st.Connected > 0 || st.Sent > 0 || st.Reconnects > 0 {
			return false
		}
	}
	return true
}

func watchStats(ctx context.Context, runners []*fleet.Runner, every time.Duration, report *statsReport) (mostConnected func() []int) {
	done := make(chan []int, 1)
	go func() {
		most := make([]int, len(runners))
		sample := func() {
			for i, r := range runners {
				most[i] = max(most[i], r.Stats().Connected)
			}
		}
		poll := time.NewTicker(250 * time.Millisecond)
		defer poll.Stop()
		var printAt <-chan time.Time
		if every > 0 {
			t := time.NewTicker(every)
			defer t.Stop()
			printAt = t.C
		}
		for {
			select {
			case <-ctx.Done():
				sample()
				done <- most
				return
			case <-poll.C:
				sample()
			case <-printAt:
				for i, r := range runners {
					st := r.Stats()
					most[i] = max(most[i], st.Connected)
					report.line(st)
				}
			}
		}
	}()
	return func() []int { return <-done }
}

// anyConnected reports whether any device was ever connected (or sent,
// for a connection shorter than a sample).
func anyConnected(final []fleet.Stats, most []int) bool {
	for i, st := range final {
		if most[i] > 0 || st.Sent > 0 {
			return true
		}
	}
	return false
}

// statsReport prints fleet stats as text lines or JSON Lines.
type statsReport struct {
	jsonl bool
	mu    sync.Mutex // the stats ticker and the stats command both write
	w     io.Writer
}

func newStatsReport(format string, w io.Writer) *statsReport {
	return &statsReport{jsonl: format == "jsonl", w: w}
}

func (r *statsReport) line(st fleet.Stats) { r.write(remote.KindStats, st, -1) }

// json writes v as one JSON line (a reply to the driver of --control).
func (r *statsReport) json(v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writeJSON(v)
}

// writeJSON writes v as one line; r.mu is held.
func (r *statsReport) writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"kind": "error", "error": err.Error()})
	}
	fmt.Fprintf(r.w, "%s\n", b)
}

// summary writes each fleet's final stats with the most devices it had
// connected at once.
func (r *statsReport) summary(all []fleet.Stats, mostConnected []int) {
	for i, st := range all {
		r.write(remote.KindSummary, st, mostConnected[i])
	}
}

// write prints one line; mostConnected < 0 means a stats line (then the
// devices connected now are what matters).
func (r *statsReport) write(kind string, st fleet.Stats, mostConnected int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.jsonl {
		r.writeJSON(remote.StatsLine(kind, st, mostConnected))
		return
	}
	connected := fmt.Sprintf("%d/%d connected", st.Connected, st.Wanted)
	if mostConnected >= 0 {
		connected = fmt.Sprintf("%d/%d connected at most", mostConnected, st.Wanted)
	}
	fmt.Fprintf(r.w, "%s %s %s: %s, %s\n", time.Now().Format("15:04:05"), kind, st.Fleet, connected, statsText(st))
}

// statsText is one fleet's stats in words after its connected count; loss
// and latency appear only when measured, never as a made-up zero.
func statsText(st fleet.Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sent %d (%.1f/s), errors %d, reconnects %d, lag p50 %s p99 %s max %s",
		st.Sent, st.SentPerSec, st.Errors, st.Reconnects,
		roundLag(st.LagP50), roundLag(st.LagP99), roundLag(st.LagMax))
	if st.Dropped > 0 || st.ChaosDisconnects > 0 {
		fmt.Fprintf(&b, ", chaos dropped %d and disconnected %d", st.Dropped, st.ChaosDisconnects)
	}
	if st.Observed {
		fmt.Fprintf(&b, ", delivered %d, lost %d, latency p50 %s p99 %s", st.Delivered, st.Lost, roundLag(st.LatencyP50), roundLag(st.LatencyP99))
	}
	if st.NotStopped > 0 {
		fmt.Fprintf(&b, ", %d not stopped cleanly", st.NotStopped)
	}
	if st.LastError != "" {
		fmt.Fprintf(&b, "; last error: %s", st.LastError)
	}
	return b.String()
}

func roundLag(d time.Duration) time.Duration {
	if d > 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

// serveControl answers the driver's requests (--control) until ctx ends;
// the end of stdin stops the run. The returned function waits for it.
func serveControl(ctx context.Context, e env, fleets []remote.Fleet, report *statsReport, stop func()) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		remote.Serve(ctx, e.stdin, report.json, fleets, stop)
	}()
	return func() { <-done }
}

const runCommandsHelp = "commands: kill ID (drop a device without DISCONNECT: the broker publishes its will), pause, resume, stats"

// readRunCommands reads commands from stdin, one per line, while the
// fleets run: a person (or a script) kills a device to test its will,
// pauses or resumes the streams, or asks for the stats now. It stops at
// EOF or when ctx ends; the returned function waits for that.
func readRunCommands(ctx context.Context, e env, runners []*fleet.Runner, report *statsReport) (wait func()) {
	lines := make(chan string)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(e.stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	// A terminal or pipe read blocks until a line comes: unblock it when
	// the run ends (a plain file or a test's reader just reaches EOF).
	if d, ok := e.stdin.(interface{ SetReadDeadline(time.Time) error }); ok {
		context.AfterFunc(ctx, func() { _ = d.SetReadDeadline(time.Now()) })
	}
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case line := <-lines:
				runCommand(strings.Fields(line), e, runners, report)
			}
		}
	}()
	return func() {
		<-handled
		select {
		case <-done:
		case <-time.After(time.Second): // stdin that cannot be interrupted: left to the process's end
		}
	}
}

func runCommand(words []string, e env, runners []*fleet.Runner, report *statsReport) {
	if len(words) == 0 {
		return
	}
	switch {
	case words[0] == "kill" && len(words) == 2:
		var err error
		for _, r := range runners {
			if err = r.Kill(words[1]); err == nil {
				fmt.Fprintf(e.stderr, "killed %s: the broker publishes its will; it reconnects after its back-off\n", words[1])
				return
			}
		}
		fmt.Fprintf(e.stderr, "kill %s: %v\n", words[1], err)
	case words[0] == "pause" || words[0] == "resume":
		for _, r := range runners {
			if words[0] == "pause" {
				r.Pause()
			} else {
				r.Resume()
			}
		}
		fmt.Fprintf(e.stderr, "%sd\n", words[0])
	case words[0] == "stats":
		for _, r := range runners {
			report.line(r.Stats())
		}
	default:
		fmt.Fprintf(e.stderr, "unknown command %q; %s\n", strings.Join(words, " "), runCommandsHelp)
	}
}
