package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/engine/studio"
)

const journalUsage = `usage: iotstudio journal query [--data DIR] [--client ID] [--user NAME] [--event KINDS] [--since T] [--until T]
                               [--limit N] [--format table|jsonl|csv]
       iotstudio journal stats [--data DIR]
query prints the broker's session events in time order: the most recent --limit of them (default 100; 0: all).
Event kinds (--event, comma-separated): connect, refused, disconnect, subscribe, unsubscribe, acl-denied,
remote-state (the connections to other brokers, by connection name in --client).
A disconnect's cause is client-disconnect (with its reason code), keepalive-timeout, network-error,
session-taken-over, kicked, server-shutdown, malformed-packet or protocol-error.
Times are RFC 3339 (2026-11-22T10:00:00Z) or relative to now (-10m, -2h, -7d).
While serve or the app runs on the same data dir, both read the journal through it.`

func runJournal(args []string, e env) error {
	if len(args) == 0 {
		return usagef("%s", journalUsage)
	}
	switch args[0] {
	case "query":
		return journalQuery(args[1:], e)
	case "stats":
		return journalStats(args[1:], e)
	}
	return usagef("unknown journal command %q\n%s", args[0], journalUsage)
}

// journalReader is the journal, or the process that holds it.
type journalReader interface {
	Query(context.Context, journalstore.Query) ([]journal.Event, error)
	Stats() (journalstore.Stats, error)
	Close() error
}

// openJournalReader opens the journal, or reaches it through serve or the
// app when one of them holds it.
func openJournalReader(data string) (journalReader, error) {
	dir, err := dataDir(data)
	if err != nil {
		return nil, err
	}
	store, err := journalstore.Open(studio.JournalDir(dir), journalstore.Options{})
	if err == nil {
		return store, nil
	}
	if !errors.Is(err, journalstore.ErrLocked) {
		return nil, err
	}
	rj, _ := dialJournal(dir)
	if _, rerr := rj.Stats(); rerr != nil {
		rj.Close()
		return nil, fmt.Errorf("%w; and the process holding it does not answer: %w", err, rerr)
	}
	return rj, nil
}

func journalStats(args []string, e env) error {
	fs := newFlagSet("journal stats", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	j, err := openJournalReader(*data)
	if err != nil {
		return err
	}
	defer j.Close()
	st, err := j.Stats()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "events\t%d\n", st.Events)
	fmt.Fprintf(w, "event bytes\t%d\n", st.Bytes)
	fmt.Fprintf(w, "disk bytes\t%d\n", st.DiskBytes)
	fmt.Fprintf(w, "oldest\t%s\n", formatTime(st.Oldest))
	fmt.Fprintf(w, "newest\t%s\n", formatTime(st.Newest))
	fmt.Fprintf(w, "dropped\t%d (queue full %d, disk full %d) since it was opened\n", st.Dropped(), st.DroppedQueueFull, st.DroppedDiskFull)
	fmt.Fprintf(w, "retention\t%s, %s\n", capture.FormatAge(st.MaxAge), capture.FormatSize(st.MaxBytes))
	writing := "ok"
	if st.DiskFull {
		writing = "stopped: disk full; events are dropped until space is freed"
	}
	fmt.Fprintf(w, "writing\t%s\n", writing)
	return w.Flush()
}

func journalQuery(args []string, e env) error {
	fs := newFlagSet("journal query", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	clientID := fs.String("client", "", "only the events of client `ID` (or, for remote-state, the connection's name)")
	user := fs.String("user", "", "only the events of user `NAME`")
	kinds := fs.String("event", "", "only events of these `KINDS`, comma-separated: "+kindNames())
	since := fs.String("since", "", "only events at or after `T`")
	until := fs.String("until", "", "only events at or before `T`")
	limit := fs.Int("limit", 100, "the most recent `N` events (0: all)")
	format := fs.String("format", "table", "output `FORMAT`: table, jsonl or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q := journalstore.Query{Client: *clientID, User: *user, Newest: true, Limit: *limit}
	var err error
	if q.Kinds, err = journal.ParseKinds(*kinds); err != nil {
		return usagef("--event: %v", err)
	}
	now := time.Now()
	if q.Since, err = parseWhen("--since", *since, now); err != nil {
		return err
	}
	if q.Until, err = parseWhen("--until", *until, now); err != nil {
		return err
	}
	switch {
	case *limit < 0:
		return usagef("--limit %d: give a number of events, or 0 for all", *limit)
	case *limit == 0:
		q.Limit = -1
	}
	write, err := journalWriter(*format, e)
	if err != nil {
		return err
	}
	j, err := openJournalReader(*data)
	if err != nil {
		return err
	}
	defer j.Close()
	evs, err := j.Query(context.Background(), q)
	if err != nil {
		return err
	}
	slices.Reverse(evs) // newest Limit, printed oldest first
	return write(evs)
}

func kindNames() string {
	s := ""
	for i, k := range journal.Kinds {
		if i > 0 {
			s += ", "
		}
		s += string(k)
	}
	return s
}

// journalWriter returns what prints events in format.
func journalWriter(format string, e env) (func([]journal.Event) error, error) {
	switch format {
	case "table":
		return func(evs []journal.Event) error {
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TIME\tKIND\tCLIENT\tUSER\tREMOTE\tDETAILS")
			for _, ev := range evs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.Local().Format("2006-01-02 15:04:05.000"),
					ev.Kind, dash(ev.Client), dash(ev.User), dash(ev.Remote), ev.Summary())
			}
			return w.Flush()
		}, nil
	case "jsonl":
		return func(evs []journal.Event) error {
			enc := json.NewEncoder(e.stdout)
			for _, ev := range evs {
				if err := enc.Encode(ev); err != nil {
					return err
				}
			}
			return nil
		}, nil
	case "csv":
		return func(evs []journal.Event) error {
			w := csv.NewWriter(e.stdout)
			_ = w.Write([]string{"time", "kind", "client", "user", "remote", "listener", "cause", "code", "reason", "details"})
			for _, ev := range evs {
				code := ""
				if ev.Code != 0 || ev.Kind == journal.Refused || ev.Kind == journal.Disconnect {
					code = fmt.Sprintf("0x%02X", ev.Code)
				}
				_ = w.Write([]string{ev.Time.Format(time.RFC3339Nano), string(ev.Kind), ev.Client, ev.User, ev.Remote,
					ev.Listener, string(ev.Cause), code, ev.Reason, ev.Summary()})
			}
			w.Flush()
			return w.Error()
		}, nil
	}
	return nil, usagef("--format %q: give table, jsonl or csv", format)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// journalFlags registers serve's session journal flags (issue 16).
func journalFlags(fs *flag.FlagSet) func() (on bool, opts journalstore.Options, err error) {
	state := fs.String("journal", "on", "keep the session journal in DATA/journal (connects, refusals, disconnects and why, subscriptions, ACL denials): `on` or off")
	maxAge := fs.String("journal-retention", capture.FormatAge(journalstore.DefaultMaxAge),
		"keep journal events for `AGE` (36h, 30d, unlimited)")
	maxSize := fs.String("journal-max-size", capture.FormatSize(journalstore.DefaultMaxBytes),
		"keep at most `SIZE` of journal events (64MB, 1GiB, unlimited), the oldest going first")
	return func() (bool, journalstore.Options, error) {
		var opts journalstore.Options
		var on bool
		switch strings.ToLower(*state) {
		case "on":
			on = true
		case "off":
		default:
			return false, opts, usagef("--journal %q: give on or off", *state)
		}
		var err error
		if opts.MaxAge, err = capture.ParseAge(*maxAge); err != nil {
			return false, opts, usagef("--journal-retention: %v", err)
		}
		if opts.MaxBytes, err = capture.ParseSize(*maxSize); err != nil || opts.MaxBytes == 0 {
			return false, opts, usagef("--journal-max-size %q: give a size such as 64MB or 1GiB, or %q", *maxSize, capture.Unlimited)
		}
		return on, opts, nil
	}
}
