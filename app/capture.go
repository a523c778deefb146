package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/kvstore"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/studio"
)

const captureUsage = `usage: iotstudio capture stats [--data DIR]
       iotstudio capture query [--data DIR] [--topic FILTER] [--since T] [--until T] [--contains TEXT] [--where EXPR]
                               [--limit N] [--oldest-first] [--format jsonl|csv|table]
       iotstudio capture export [--data DIR] [--format jsonl|csv] --out FILE [--topic FILTER] [--since T] [--until T]
                                [--contains TEXT] [--where EXPR]
       iotstudio capture import [--data DIR] [--capture-max-age AGE] [--capture-max-size SIZE] FILE
       iotstudio capture replay [--data DIR] --to URL [--speed X|max] [--remap OLD=NEW] [--qos 0|1|2] [--no-retain]
                                [--user NAME] [--ca FILE] [--topic FILTER] [--since T] [--until T] [--contains TEXT] [--where EXPR]
       iotstudio capture clear [--data DIR] --yes
export writes every matching record, oldest first, to FILE (replaced only when the export completes).
import adds the records of a JSONL export to the capture; it imports nothing if a line is bad, or if the
retention limits (--capture-max-age/--capture-max-size, as for serve) would delete records right away.
replay publishes matching records, oldest first, to the broker at URL (mqtt://, mqtts://, ws://) at
--speed times their captured pace (default 1; max sends without waiting); the password for --user
is read from $IOTSTUDIO_MQTT_PASSWORD.
clear deletes every captured record; without --yes it only says how many it would delete.
Times are RFC 3339 (2026-11-22T10:00:00Z) or relative to now (-10m, -2h, -7d).
--where is a condition on a JSON payload's fields: 'temp > 30', 'status == "alarm"',
'battery.level < 10 && !charging'; a bare number payload is 'payload'.
While serve or the app runs on the same data dir, stats, query, export and
replay read the capture through it; import and clear need it closed.
query, export and replay skip records the capture cannot read back (a damaged
block file), write every intact one, name the damaged records on stderr and
exit with status 3: the results are incomplete.`

// brokerSource names a broker dialled by URL where the capture records
// the source: its host and port, which tell brokers apart, as connect's
// help promises (scheme and path add nothing). A URL that does not parse
// is returned as is; the profile built from it reports why.
func brokerSource(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return rawURL
	}
	return u.Host
}

// records counts records: "1 record", "2 records".
func records[N ~int | ~int64 | ~uint64](n N) string { return plural(n, "record", "records") }

// plural counts things in plain digits, as the rest of the commands'
// output (and scripts reading it) has them.
func plural[N ~int | ~int64 | ~uint64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// captureDir is where the capture store lives inside the data dir.
func captureDir(data string) string { return studio.CaptureDir(data) }

func runCapture(args []string, e env) error {
	if len(args) == 0 {
		return usagef("%s", captureUsage)
	}
	switch args[0] {
	case "stats":
		return captureStats(args[1:], e)
	case "query":
		return captureQuery(args[1:], e)
	case "export":
		return captureExport(args[1:], e)
	case "replay":
		return captureReplay(args[1:], e)
	case "import":
		return captureImport(args[1:], e)
	case "clear":
		return captureClear(args[1:], e)
	}
	return usagef("unknown capture command %q\n%s", args[0], captureUsage)
}

func openCapture(data string) (*capture.Store, error) {
	dir, err := dataDir(data)
	if err != nil {
		return nil, err
	}
	return capture.Open(captureDir(dir), capture.Options{})
}

// captureReader is what the read-only capture commands need: the store,
// or the process that holds it (capture_service.go).
type captureReader interface {
	capture.Querier
	Stats() (capture.Stats, error)
	Flush(ctx context.Context) error
	Close() error
}

// openCaptureReader opens the capture, or reaches it through serve or the
// app when one of them holds it; otherwise it returns Open's error.
func openCaptureReader(data string) (captureReader, error) {
	store, err := openCapture(data)
	if err == nil {
		return store, nil
	}
	if !errors.Is(err, capture.ErrLocked) {
		return nil, err
	}
	dir, derr := dataDir(data)
	if derr != nil {
		return nil, err
	}
	rc, rerr := dialCapture(dir)
	if rerr != nil {
		return nil, err
	}
	return rc, nil
}

func captureStats(args []string, e env) error {
	fs := newFlagSet("capture stats", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := openCaptureReader(*data)
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := store.Stats()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "records\t%d\n", st.Records)
	fmt.Fprintf(w, "record bytes\t%d\n", st.Bytes)
	fmt.Fprintf(w, "disk bytes\t%d\n", st.DiskBytes)
	fmt.Fprintf(w, "oldest\t%s\n", formatTime(st.Oldest))
	fmt.Fprintf(w, "newest\t%s\n", formatTime(st.Newest))
	fmt.Fprintf(w, "dropped\t%d\n", st.DroppedTotal)
	fmt.Fprintf(w, "too large\t%d\n", st.TooLargeTotal)
	fmt.Fprintf(w, "writing\t%s\n", writingState(st))
	if len(st.Damaged) > 0 {
		places := plural(len(st.Damaged), "place", "places")
		if len(st.Damaged) == 1 {
			places = "one place"
		}
		fmt.Fprintf(w, "damaged\t%s in %s (found by reads since the capture was opened):\n", records(st.DamagedRecords), places)
	}
	for _, l := range st.Lost {
		fmt.Fprintf(w, "lost\tseq %d..%d in %s: %s\n", l.First, l.Last, l.File, l.Reason)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, d := range st.Damaged {
		fmt.Fprintf(e.stdout, "  %s\n", d)
	}
	return nil
}

// writingState says whether the capture is writing, and if a full disk
// stopped it, what to do.
func writingState(st capture.Stats) string {
	if !st.DiskFull {
		return "ok"
	}
	return fmt.Sprintf("stopped: disk full (%s free, writing needs %s free); messages are dropped until space is freed",
		kvstore.MB(st.DiskFree), kvstore.MB(st.DiskNeeded))
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339Nano)
}

func captureQuery(args []string, e env) error {
	fs := newFlagSet("capture query", e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	query := queryFlags(fs)
	limit := fs.Int("limit", 100, "at most `N` records (0: no limit)")
	oldest := fs.Bool("oldest-first", false, "oldest records first (default newest first)")
	format := fs.String("format", "table", "output `FORMAT`: jsonl, csv or table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q, err := query(time.Now())
	if err != nil {
		return err
	}
	q.Newest = !*oldest
	if *limit < 0 {
		return usagef("--limit %d: give a number of records, or 0 for all", *limit)
	}
	out, err := newRecordWriter(*format, e.stdout)
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
	var damage damageSeen
	q.OnDamage = damage.add
	if err := queryAll(ctx, store, q, *limit, out); err != nil {
		return err
	}
	return damage.report(e.stderr, "the records written are all intact")
}

// damageSeen collects the damaged records a command's queries skipped,
// once per block.
type damageSeen struct {
	list []capture.Damage
	seen map[string]bool
}

func (d *damageSeen) add(x capture.Damage) {
	key := fmt.Sprintf("%s|%d", x.File, x.First)
	if d.seen[key] {
		return
	}
	if d.seen == nil {
		d.seen = make(map[string]bool)
	}
	d.seen[key] = true
	d.list = append(d.list, x)
}

// report warns on w about the damage seen, saying what was still done
// (done), and returns an error for exit status 3; nil if there was none.
// A script must not take a partial result for a whole one, and yet the
// intact records are worth keeping: hence a status of its own.
func (d *damageSeen) report(w io.Writer, done string) error {
	if len(d.list) == 0 {
		return nil
	}
	var n int64
	for _, x := range d.list {
		n += x.Records()
	}
	fmt.Fprintf(w, "warning: the capture is damaged: %s could not be read and are missing from the results (%s):\n", records(n), done)
	for _, x := range d.list {
		fmt.Fprintf(w, "  %s\n", x)
	}
	return incompleteError{fmt.Errorf("results incomplete: %d damaged records skipped (exit status 3)", n)}
}

// newQuery checks the selection flags shared by query and export and
// turns them into a Query (oldest first).
// queryFlags registers the flags that select records (shared by query and
// export) and returns a function building the Query once they are parsed.
func queryFlags(fs *flag.FlagSet) func(now time.Time) (capture.Query, error) {
	topic := fs.String("topic", "", "MQTT topic `FILTER` (+ and # wildcards); empty matches all")
	since := fs.String("since", "", "only records at or after `T`")
	until := fs.String("until", "", "only records before `T`")
	contains := fs.String("contains", "", "only records whose payload contains `TEXT`")
	where := fs.String("where", "", "only JSON payloads for which `EXPR` holds, e.g. 'temp > 30' or 'status == \"alarm\"'")
	return func(now time.Time) (capture.Query, error) {
		return newQuery(*topic, *since, *until, *contains, *where, now)
	}
}

func newQuery(topic, since, until, contains, where string, now time.Time) (capture.Query, error) {
	q := capture.Query{Filter: topic, Contains: contains}
	if err := message.ValidateFilter(topic); topic != "" && err != nil {
		return q, usageError{err}
	}
	if where != "" {
		cond, err := capture.CompileCondition(where)
		if err != nil {
			return q, usageError{fmt.Errorf("--where: %w", err)}
		}
		q.Where = cond
	}
	var err error
	if q.Since, err = parseWhen("--since", since, now); err != nil {
		return q, err
	}
	if q.Until, err = parseWhen("--until", until, now); err != nil {
		return q, err
	}
	return q, nil
}

// queryAll pages through the store so that any number of records streams
// out in bounded memory.
func queryAll(ctx context.Context, store capture.Querier, q capture.Query, limit int, out recordWriter) error {
	const page = 1000
	written := 0
	for {
		q.Limit = page
		if limit > 0 && limit-written < page {
			q.Limit = limit - written
		}
		recs, next, err := store.Query(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := out.Write(r); err != nil {
				return err
			}
		}
		written += len(recs)
		if next == "" || (limit > 0 && written >= limit) {
			return out.Flush()
		}
		q.Cursor = next
	}
}

// parseWhen reads an RFC 3339 time or a negative duration relative to now
// (-10m, -2h, -7d).
func parseWhen(flagName, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if strings.HasPrefix(v, "-") {
		s := v[1:]
		mult := time.Duration(1)
		if strings.HasSuffix(s, "d") {
			s, mult = strings.TrimSuffix(s, "d")+"h", 24
		}
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return now.Add(-d * mult), nil
		}
	}
	return time.Time{}, usagef("%s %q: give an RFC 3339 time (2026-11-22T10:00:00Z) or a time ago (-10m, -2h, -7d)", flagName, v)
}

var errUnknownFormat = errors.New("unknown format")

type recordWriter interface {
	Write(message.Message) error
	Flush() error
}

func newRecordWriter(format string, w io.Writer) (recordWriter, error) {
	switch format {
	case "jsonl":
		return capture.NewJSONLWriter(w), nil
	case "csv":
		return capture.NewCSVWriter(w), nil
	case "table":
		return newTableWriter(w), nil
	}
	return nil, usageError{fmt.Errorf("--format %q: %w; use jsonl, csv or table", format, errUnknownFormat)}
}

// tableWriter prints one aligned line per record for people; payloads are
// shortened to one line (jsonl and csv keep them whole).
type tableWriter struct{ tw *tabwriter.Writer }

func newTableWriter(w io.Writer) *tableWriter {
	t := &tableWriter{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	fmt.Fprintln(t.tw, "TIME\tSOURCE\tTOPIC\tQOS\tRETAIN\tCLIENT\tPAYLOAD")
	return t
}

func (t *tableWriter) Write(r message.Message) error {
	_, err := fmt.Fprintf(t.tw, "%s\t%s\t%s\t%d\t%v\t%s\t%s\n", r.Time.Format(time.RFC3339Nano), r.Source, r.Topic, r.QoS, r.Retain, r.ClientID, preview(r.Payload, 60))
	return err
}

func (t *tableWriter) Flush() error { return t.tw.Flush() }

// preview shows a payload on one line: text as is (newlines escaped),
// binary as hex, cut at max characters with an ellipsis and the full size.
func preview(p []byte, max int) string {
	s := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(string(p))
	if !utf8.Valid(p) {
		s = fmt.Sprintf("%x", p)
	}
	if r := []rune(s); len(r) > max {
		return fmt.Sprintf("%s… (%d bytes)", string(r[:max]), len(p))
	}
	return s
}
