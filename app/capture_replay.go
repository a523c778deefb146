package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/iotstudio/iotstudio/engine/replay"
)

// replayPasswordEnv holds the broker password for capture replay, so that
// it shows neither in the process list nor in the shell history.
const replayPasswordEnv = "IOTSTUDIO_MQTT_PASSWORD"

// replayProgressEvery is the least time between two progress lines of a
// replay (tests shorten it).
var replayProgressEvery = time.Second

func captureReplay(args []string, e env) error {
	fs := newFlagSet("capture replay", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	to := fs.String("to", "", "broker `URL`: mqtt://HOST:PORT, mqtts://HOST:PORT or ws://HOST:PORT/mqtt")
	speed := fs.String("speed", "1", "replay `X` times as fast as captured (0.5, 1, 10), or max for no waiting")
	var remaps listFlag
	fs.Var(&remaps, "remap", "rewrite the topic prefix OLD to NEW, given as `OLD=NEW` (whole levels; repeatable; the longest OLD wins)")
	qos := fs.String("qos", "", "publish every message at QoS `N` (0, 1 or 2) instead of its captured QoS")
	noRetain := fs.Bool("no-retain", false, "clear the retain flag of every message")
	user := fs.String("user", "", "log in as `NAME`; the password is read from $"+replayPasswordEnv)
	ca := fs.String("ca", "", "trust the CA certificates in `FILE` (PEM) for mqtts:// and wss://")
	query := queryFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usagef("capture replay: --to URL is required, e.g. --to mqtt://127.0.0.1:1883")
	}
	target, err := replay.ParseURL(*to)
	if err != nil {
		return usagef("--to: %v", err)
	}
	opts := replay.Options{ClearRetain: *noRetain, ProgressEvery: replayProgressEvery}
	if opts.Speed, err = parseSpeed(*speed); err != nil {
		return err
	}
	for _, r := range remaps {
		rm, err := replay.ParseRemap(r)
		if err != nil {
			return usagef("--remap: %v", err)
		}
		opts.Remap = append(opts.Remap, rm)
	}
	if *qos != "" {
		n, err := strconv.Atoi(*qos)
		if err != nil || n < 0 || n > 2 {
			return usagef("--qos %q: give 0, 1 or 2", *qos)
		}
		q := byte(n)
		opts.QoS = &q
	}
	if *ca != "" {
		if !target.TLS() {
			return usagef("--ca applies to mqtts:// and wss:// brokers; %s is not one", target)
		}
		if _, err := os.Stat(*ca); err != nil {
			return usagef("--ca: %v", err)
		}
	}
	q, err := query(time.Now())
	if err != nil {
		return err
	}
	if err := opts.Validate(); err != nil {
		return usagef("--remap: %v", err) // the other options are checked above
	}

	store, err := openCaptureReader(*data)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client, err := replay.Dial(ctx, replay.ClientOptions{
		URL: *to, Username: *user, Password: []byte(os.Getenv(replayPasswordEnv)), CAFile: *ca,
	})
	if err != nil {
		if errors.Is(err, replay.ErrBadURL) {
			return usageError{err}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("capture replay interrupted while connecting to %s", target)
		}
		return fmt.Errorf("capture replay: %w", err)
	}
	defer client.Close()

	var damage damageSeen
	q.OnDamage = damage.add
	res, err := replay.Run(ctx, store, q, client, opts, replayProgress(e.stderr))
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("capture replay interrupted after %d of %s", res.Published, records(res.Total))
	case err != nil:
		return fmt.Errorf("capture replay to %s stopped after %d of %s: %w", target, res.Published, records(res.Total), err)
	case res.Total == 0:
		fmt.Fprintln(e.stdout, "no records match; nothing replayed")
		return damage.report(e.stderr, "nothing was replayed")
	}
	fmt.Fprintf(e.stdout, "replayed %s to %s in %s (captured over %s, %s)\n",
		records(res.Published), target, roundDuration(res.Elapsed), roundDuration(res.Span), speedText(opts.Speed))
	if res.Skipped > 0 {
		fmt.Fprintf(e.stdout, "skipped %s whose topic --remap left empty\n", records(res.Skipped))
	}
	return damage.report(e.stderr, fmt.Sprintf("the %s replayed were all intact", records(res.Published)))
}

// parseSpeed reads --speed: a positive factor (a trailing x is allowed) or
// max, which is 0 for replay.Options.
func parseSpeed(s string) (float64, error) {
	if strings.EqualFold(s, "max") {
		return 0, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.ToLower(s), "x"), 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, usagef("--speed %q: give a factor such as 0.5, 1 or 10 (times the captured pace), or max to send without waiting", s)
	}
	return f, nil
}

func speedText(speed float64) string {
	if speed <= 0 {
		return "as fast as possible"
	}
	return "speed " + strconv.FormatFloat(speed, 'g', -1, 64) + "x"
}

// replayProgress prints a line per progress call while the replay runs
// (Options.ProgressEvery spaces them); the summary goes to stdout.
func replayProgress(w io.Writer) func(replay.Progress) {
	return func(p replay.Progress) {
		if p.Done || p.Elapsed == 0 {
			return
		}
		fmt.Fprintf(w, "replayed %d of %s; at %s of %s captured, %s elapsed\n",
			p.Published, records(p.Total), roundDuration(p.Position), roundDuration(p.Span), roundDuration(p.Elapsed))
	}
}

// roundDuration keeps a duration readable: ms below a second, else 0.1 s.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
