// Package infer proposes a device profile from captured traffic: given
// the messages of a topic filter and time range, it finds which topic
// level is the device ID (many values with the same sibling topics,
// preferably one publisher client each; not a device's measurement
// topics, which one client publishes in one burst), groups topics into
// streams, measures their interval, jitter, QoS and retain flag, and
// picks a generator for each payload field within what was observed:
// walk or sine for numbers, counter for integers rising by a constant
// step, timestamp for Unix times near the receive times and RFC 3339
// strings, uuid, choice of the observed values with their weights, bool
// with the observed probability. Text payloads become a template, binary
// ones the most common payload as raw bytes.
//
// The result is a scenario.File with one profile and one fleet, for the
// user to edit and run, and a Report of what was seen, which the CLI
// prints as YAML comments above it (Report.Lines).
//
// Inference never widens a range beyond the observed one: a walk or sine
// stays within the observed minimum and maximum (at the observed
// precision), a choice holds observed values only, a counter starts at
// the lowest observed start. That is what lets a test generate values
// from the result and check them against the Report's observed ranges
// (Report.Field).
package infer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// DefaultMaxMessages is how many messages FromCapture reads at most (the
// newest ones) when Options.MaxMessages is not set: enough for every
// stream of a large fleet to show its interval and ranges, small enough
// to hold in memory (100,000 messages of 1 KB are 100 MB at worst).
const DefaultMaxMessages = 100_000

// DefaultMaxBytes bounds the payload bytes FromCapture reads when
// Options.MaxBytes is not set: captures of camera frames or firmware
// images would otherwise fill memory long before DefaultMaxMessages.
const DefaultMaxBytes = 64 << 20

// DefaultMaxStreams is how many streams a profile gets at most by default.
const DefaultMaxStreams = 20

// Options steer an inference; the zero value is usable.
type Options struct {
	// Name is the profile's (and fleet's) name; default "inferred".
	Name string
	// MaxStreams bounds the streams (topic shapes) in the profile, the
	// busiest first; default DefaultMaxStreams.
	MaxStreams int
	// MaxChoices bounds the values of an inferred choice, the most common
	// first; default 20.
	MaxChoices int
	// MaxMessages and MaxBytes (of payloads) bound what FromCapture reads,
	// the newest messages first; defaults DefaultMaxMessages and
	// DefaultMaxBytes.
	MaxMessages int
	MaxBytes    int
	// IDLevel forces the topic level (1-based) that holds the device ID;
	// -1 makes the publisher client ID the device ID; 0 detects it.
	IDLevel int
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "inferred"
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.MaxChoices <= 0 {
		o.MaxChoices = maxChoices
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultMaxMessages
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return o
}

// Report is what an inference observed and decided, for people: the CLI
// prints Lines as comments, and tests compare generated values with the
// observed ranges in Fields.
type Report struct {
	Messages int       // messages looked at
	From, To time.Time // receive times of the oldest and newest
	Topics   int       // distinct topics
	// Truncated is set when FromCapture stopped at Options.MaxMessages or
	// MaxBytes: older matching messages were not read.
	Truncated bool
	// IDSource says where device IDs came from: "topic level 2",
	// "publisher client ID" or "none (one device)".
	IDSource string
	Devices  []string // the device IDs seen, sorted
	ClientID string   // the fleet's client_id template, "" for the default
	Streams  []StreamReport
	// Skipped lists topics left out of the profile, with why.
	Skipped []string
	Notes   []string
}

// StreamReport is one stream's observations.
type StreamReport struct {
	Name     string
	Topic    string // the template
	Messages int
	Devices  int
	Every    time.Duration
	Jitter   time.Duration
	QoS      byte
	Retain   bool
	Payload  string // "json", "text" or "binary"
	Fields   []FieldReport
	Notes    []string
}

// FieldReport is one payload field: its path (nested names joined with
// dots), the JSON type(s) seen, the generator chosen and what it was
// chosen from.
type FieldReport struct {
	Path     string
	Type     string
	Kind     string // the generator: walk, sine, counter, timestamp, choice, const, bool, uuid, expr, object, or "left out"
	Count    int    // messages that had it
	Min, Max *float64
	Decimals int
	Distinct int       // distinct values (choice)
	Values   []any     // a choice's values (the kept ones)
	Weights  []float64 // their observed counts
	Notes    []string
}

// Infer proposes a one-profile, one-fleet scenario from msgs (in any
// order). It fails only when there is nothing to infer from.
func Infer(msgs []message.Message, opt Options) (*scenario.File, Report, error) {
	opt = opt.withDefaults()
	var rep Report
	if len(msgs) == 0 {
		return nil, rep, errors.New("infer: no messages to infer from: widen the topic filter or the time range, or capture some traffic first")
	}
	msgs = append([]message.Message(nil), msgs...)
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].Time.Before(msgs[j].Time) })
	rep.Messages, rep.From, rep.To = len(msgs), msgs[0].Time, msgs[len(msgs)-1].Time

	src := detectIDSource(msgs, opt.IDLevel)
	rep.IDSource = src.describe()
	groups, topics := groupStreams(msgs, src)
	rep.Topics = topics

	kept := pickStreams(groups, src, opt, &rep)
	if len(kept) == 0 {
		return nil, rep, fmt.Errorf("infer: no topic has a device ID at %s (%s): give another ID level, or 0 to detect it", rep.IDSource, strings.Join(rep.Skipped, "; "))
	}
	prof := scenario.Profile{Name: opt.Name}
	devices := map[string]bool{}
	clients := map[string]map[string]bool{}
	names := map[string]bool{}
	for _, g := range kept {
		if st, ok := g.status(); ok && prof.Lifecycle == nil {
			prof.Lifecycle = &scenario.Lifecycle{Status: st}
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: retained %s/%s, made the devices' lifecycle status (%s on connect, %s on a graceful stop and as the will), not a stream",
				g.topic, st.Online, st.Offline, st.Online, st.Offline))
			g.addDevices(src, devices, clients)
			continue
		}
		st, sr, v := g.stream(uniqueName(g.topic, names), opt)
		prof.Streams = append(prof.Streams, st)
		if v != nil {
			prof.Vars = append(prof.Vars, *v)
		}
		rep.Streams = append(rep.Streams, sr)
		g.addDevices(src, devices, clients)
	}
	prof.Description = describe(rep, len(prof.Streams))
	if len(prof.Streams) == 0 {
		return nil, rep, errors.New("infer: the topics hold only the devices' status, nothing they send on a schedule: widen the topic filter to their telemetry")
	}
	rep.Devices = slices.Sorted(maps.Keys(devices))
	if src.level < 0 && !src.client {
		rep.Notes = append(rep.Notes, "one device, and no topic level holds its ID: put {{.ID}} where it belongs in the topics before raising the count, or every device publishes the same topics")
	}
	fleet := scenario.Fleet{Name: opt.Name, Profile: opt.Name, Count: max(1, len(devices))}
	if src.level >= 0 || src.client {
		var note string
		fleet.ID, note = idTemplate(rep.Devices)
		if note != "" {
			rep.Notes = append(rep.Notes, note)
		}
	}
	if src.level >= 0 {
		if tmpl, ok := clientIDTemplate(clients); ok {
			fleet.ClientID, rep.ClientID = tmpl, tmpl
		} else {
			rep.Notes = append(rep.Notes, "client IDs do not map one to one onto devices: the fleet uses the device ID as client ID")
		}
	}
	return &scenario.File{Profiles: []scenario.Profile{prof}, Fleets: []scenario.Fleet{fleet}}, rep, nil
}

// addDevices notes the devices of g's messages and their client IDs.
func (g *group) addDevices(src idSource, devices map[string]bool, clients map[string]map[string]bool) {
	for _, m := range g.msgs {
		dev, _ := src.deviceOf(m)
		devices[dev] = true
		if clients[dev] == nil {
			clients[dev] = map[string]bool{}
		}
		clients[dev][m.ClientID] = true
	}
}

func describe(rep Report, streams int) string {
	return fmt.Sprintf("Inferred from %s on %s (%s .. %s): %s, device IDs from %s.",
		count(rep.Messages, "message"), count(rep.Topics, "topic"), rep.From.UTC().Format(time.RFC3339), rep.To.UTC().Format(time.RFC3339),
		count(streams, "stream"), rep.IDSource)
}

// count writes n things, in the plural unless there is one.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// FromCapture infers from the newest opt.MaxMessages messages (and at
// most about opt.MaxBytes of payloads) in the capture that match filter (an MQTT topic filter, "" for all) and were
// received in [since, until) (zero: unbounded), as `capture query` reads
// them. q is a *capture.Store, or a store another process holds open.
func FromCapture(ctx context.Context, q capture.Querier, filter string, since, until time.Time, opt Options) (*scenario.File, Report, error) {
	opt = opt.withDefaults()
	msgs, truncated, err := readCapture(ctx, q, filter, since, until, opt.MaxMessages, opt.MaxBytes)
	if err != nil {
		return nil, Report{}, err
	}
	if len(msgs) == 0 {
		return nil, Report{}, fmt.Errorf("infer: the capture has no messages on %q in the time range: widen the topic filter or the time range (capture query shows what there is)", filter)
	}
	f, rep, err := Infer(msgs, opt)
	rep.Truncated = truncated
	if truncated {
		rep.Notes = append(rep.Notes, fmt.Sprintf("read the newest %d matching messages only (at most %d, %d MB of payloads); narrow the time range to infer from others",
			len(msgs), opt.MaxMessages, opt.MaxBytes>>20))
	}
	return f, rep, err
}

// readCapture pages through a newest-first query up to limit messages or
// until the payloads pass maxBytes; truncated says more matched.
func readCapture(ctx context.Context, q capture.Querier, filter string, since, until time.Time, limit, maxBytes int) (msgs []message.Message, truncated bool, err error) {
	const page = 1000
	query := capture.Query{Filter: filter, Since: since, Until: until, Newest: true}
	size := 0
	for {
		query.Limit = min(page, limit-len(msgs))
		recs, next, err := q.Query(ctx, query)
		if err != nil {
			return nil, false, fmt.Errorf("infer: read the capture: %w", err)
		}
		for i, r := range recs {
			if size += len(r.Payload); size > maxBytes && len(msgs) > 0 {
				return msgs, true, nil
			}
			msgs = append(msgs, recs[i])
		}
		if next == "" {
			return msgs, false, nil
		}
		if len(msgs) >= limit {
			return msgs, true, nil
		}
		query.Cursor = next
	}
}

// uniqueName names a stream after its topic's literal levels below the
// device ("plant/{{.ID}}/telemetry" → telemetry), made unique in names.
func uniqueName(topic string, names map[string]bool) string {
	levels := strings.Split(strings.ReplaceAll(topic, `{{"{{"}}`, "{{"), "/")
	var lits []string
	for i := len(levels) - 1; i >= 0; i-- {
		if levels[i] == "{{.ID}}" {
			break
		}
		lits = append([]string{sanitize(levels[i])}, lits...)
	}
	base := strings.Join(lits, "_")
	if base == "" {
		base = "stream"
	}
	name := base
	for i := 2; names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	names[name] = true
	return name
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}
