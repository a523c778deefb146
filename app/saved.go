package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/saved"
)

const savedUsage = `usage: iotstudio saved list [--data DIR]
       iotstudio saved publish COLLECTION/NAME --url URL [--protocol 5|3.1.1] [--client-id ID] [--user NAME]
                               [--ca FILE] [--cert FILE --key FILE] [--insecure] [--wait DURATION] [--data DIR]
saved lists the messages saved in the Publish panel (DATA/` + saved.SavedFile + `), or publishes one of them to any
broker, with its payload, QoS, retain and MQTT 5 properties, and adds it to the panel's history. The password
for --user is read from $` + replayPasswordEnv + `.`

func runSaved(args []string, e env) error {
	if len(args) == 0 {
		return usagef("saved: list or publish?\n%s", savedUsage)
	}
	switch args[0] {
	case "list":
		return runSavedList(args[1:], e)
	case "publish":
		return runSavedPublish(args[1:], e)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(e.stdout, savedUsage)
		return nil
	}
	return usagef("saved %q: use list or publish\n%s", args[0], savedUsage)
}

func runSavedList(args []string, e env) error {
	fs := newFlagSet("saved list", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := openSaved(*data)
	if err != nil {
		return err
	}
	cols := store.Collections()
	if len(cols) == 0 {
		fmt.Fprintf(e.stderr, "no saved messages in %s; save some in the Publish panel\n", store.Path())
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tTOPIC\tQOS\tRETAIN\tPAYLOAD")
	for _, c := range cols {
		for _, m := range c.Messages {
			fmt.Fprintf(tw, "%s/%s\t%s\t%d\t%v\t%s\n", c.Name, m.Name, m.Topic, m.QoS, m.Retain, payloadSummary(m.Payload))
		}
	}
	return tw.Flush()
}

// payloadSummary is a one-line preview: the start of text, or the size of
// binary.
func payloadSummary(b []byte) string {
	const max = 40
	if !utf8.Valid(b) {
		return "(" + plural(len(b), "byte", "bytes") + " of binary)"
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

func runSavedPublish(args []string, e env) error {
	fs := newFlagSet("saved publish", e)
	dial := addDialFlags(fs, client.ProtocolAuto)
	wait := fs.Duration("wait", 30*time.Second, "give up if not connected and published within `DURATION`")
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	refs, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(refs) > 1 {
		return usagef("saved publish: unexpected argument %q", refs[1])
	}
	if len(refs) == 0 {
		return usagef("saved publish: which message? give COLLECTION/NAME (see iotstudio saved list)\n%s", savedUsage)
	}
	col, name, err := saved.SplitRef(refs[0])
	if err != nil {
		return usageError{err}
	}
	p, creds, err := dial.profile()
	if err != nil {
		return err
	}
	store, err := openSaved(*data)
	if err != nil {
		return err
	}
	m, ok := store.Find(col, name)
	if !ok {
		return usagef("saved publish: no saved message %s/%s in %s (see iotstudio saved list)", col, name, store.Path())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	started := time.Now()
	if err := publishOnce(ctx, p, creds, m.ClientMessage(), e.stderr); err != nil {
		return fmt.Errorf("saved publish %s/%s: %w", col, name, err)
	}
	fmt.Fprintf(e.stderr, "published %s/%s: %s to %s on %s\n", col, name, plural(len(m.Payload), "byte", "bytes"), m.Topic, p.URL)
	addToHistory(*data, saved.Entry{Time: started, Connection: p.URL, Count: 1, Message: m}, e.stderr)
	return nil
}

// publishOnce connects p, publishes m and disconnects.
func publishOnce(ctx context.Context, p client.Profile, creds client.Credentials, m client.Message, stderr io.Writer) error {
	mgr := client.NewManager(nil, client.Options{Logger: slog.New(slog.DiscardHandler)})
	defer mgr.CloseAll(context.Background())
	conn, err := mgr.Open(p, creds)
	if err != nil {
		return usageError{err}
	}
	if err := awaitConnected(ctx, mgr, conn, stderr); err != nil {
		return err
	}
	return conn.Publish(ctx, m)
}

// addToHistory records a publish for the panel's history; a history that
// cannot be written costs only a warning, as the message is sent.
func addToHistory(dataFlag string, e saved.Entry, stderr io.Writer) {
	dir, err := dataDir(dataFlag)
	var h *saved.History
	if err == nil {
		h, err = saved.OpenHistory(dir, 0)
	}
	if err == nil {
		err = h.Add(e)
	}
	if err != nil {
		fmt.Fprintf(stderr, "warning: not added to the publish history: %v\n", err)
	}
}

func openSaved(dataFlag string) (*saved.Store, error) {
	dir, err := dataDir(dataFlag)
	if err != nil {
		return nil, err
	}
	return saved.Open(dir)
}
