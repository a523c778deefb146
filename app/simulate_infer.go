package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/infer"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

func simulateInfer(args []string, e env) error {
	fs := newFlagSet("simulate infer", e)
	data := fs.String("data", "", "data `DIR` whose capture is read (default: the user config dir)")
	topic := fs.String("topic", "", "the topic `FILTER` whose devices to imitate, e.g. 'plant/#'")
	since := fs.String("since", "-1h", "read records at or after `T` (RFC 3339, or -10m, -2h, -7d)")
	until := fs.String("until", "", "read records before `T`")
	name := fs.String("name", "", "the proposed profile's `NAME` (default: inferred)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *topic == "" {
		return usagef("simulate infer: give --topic FILTER, the devices' topics, e.g. --topic 'plant/#'")
	}
	if err := message.ValidateFilter(*topic); err != nil {
		return usagef("--topic %q: %v", *topic, err)
	}
	now := time.Now()
	from, err := parseWhen("--since", *since, now)
	if err != nil {
		return err
	}
	to, err := parseWhen("--until", *until, now)
	if err != nil {
		return err
	}
	store, err := openCaptureReader(*data)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, report, err := infer.FromCapture(ctx, store, *topic, from, to, infer.Options{Name: *name})
	if err != nil {
		return err
	}
	out, err := scenario.Marshal(f)
	if err != nil {
		return fmt.Errorf("write the proposed scenario: %w", err)
	}
	for _, l := range report.Lines() {
		fmt.Fprintf(e.stdout, "# %s\n", l)
	}
	_, err = e.stdout.Write(out)
	return err
}
