package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/builtin"
	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/recorded"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

const simulateUsage = `usage: iotstudio simulate run FILE... [--embedded [--mqtt HOST:PORT] | --url URL | --profile NAME] [--count N]
                                  [--ramp 200/s|30s] [--duration 10m] [--seed 42] [--stats 5s] [--format text|jsonl]
       iotstudio simulate validate FILE...
       iotstudio simulate preview FILE [--fleet NAME] [--device 0] [-n 5]
       iotstudio simulate infer --topic FILTER [--since -1h] [--until T] [--data DIR] > plant.yaml
       iotstudio simulate list
       iotstudio simulate new --from NAME > my-device.yaml
       iotstudio simulate schema > scenario.schema.json
simulate runs fleets of virtual devices described in YAML scenario files, each device a real MQTT client.
A FILE may also be builtin:NAME (see simulate list). validate exits 2 with file:line:col messages.
While run runs it reads ` + runCommandsHelp + ` from stdin, one per line.`

func runSimulate(args []string, e env) error {
	if len(args) == 0 {
		return usagef("%s", simulateUsage)
	}
	switch args[0] {
	case "run":
		return simulateRun(args[1:], e)
	case "validate":
		return simulateValidate(args[1:], e)
	case "preview":
		return simulatePreview(args[1:], e)
	case "infer":
		return simulateInfer(args[1:], e)
	case "list":
		return simulateList(args[1:], e)
	case "new":
		return simulateNew(args[1:], e)
	case "schema":
		return simulateSchema(args[1:], e)
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, simulateUsage)
		return nil
	}
	return usagef("unknown simulate command %q\n%s", args[0], simulateUsage)
}

// loadScenarios reads and compiles every file, all of them, so that one
// command reports every error at once; fleets in one file may use the
// profiles of another. Nothing is returned unless all are valid.
func loadScenarios(paths []string, protocol byte, replay *lazyCapture) (*device.Scenario, error) {
	if len(paths) == 0 {
		return nil, usagef("give at least one scenario FILE (or builtin:NAME; see iotstudio simulate list)")
	}
	files, broken, errs := parseScenarioFiles(paths)
	if broken == nil {
		// A file unreadable even as plain YAML may define any profile: the
		// others' fleets cannot be checked without misleading "unknown
		// profile" errors.
		return nil, scenarioErrors(errs)
	}
	known, err := builtin.Profiles()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		known = append(known, f.Profiles...)
	}
	var all device.Scenario
	inFile := map[string]string{} // fleet name → the file that has it
	for _, f := range files {
		f = withoutFleetsOf(f, broken)
		s, err := device.Compile(f, known, device.Options{Protocol: protocol, Replay: recorded.Replay(replay)})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Compile keeps the file's order when it succeeds.
		for i, fl := range s.Fleets {
			if other, dup := inFile[fl.Name]; dup {
				errs = append(errs, &scenario.Error{Path: f.Path, Pos: f.Fleets[i].At, Msg: fmt.Sprintf(
					"fleet %q is also in %s: its devices would have the same client IDs; give this one a name of its own (name: ...)", fl.Name, other)})
			}
			inFile[fl.Name] = f.Path
		}
		all.Fleets = append(all.Fleets, s.Fleets...)
	}
	if len(errs) > 0 {
		return nil, scenarioErrors(errs)
	}
	return &all, nil
}

// checkClientIDs refuses two devices with one client ID: the broker keeps
// one connection per client ID, so each would take the other's session
// over, again and again.
func checkClientIDs(s *device.Scenario) error {
	owner := map[string]string{}
	for _, f := range s.Fleets {
		for i := range f.Count {
			_, id := f.Identity(i)
			if other, dup := owner[id]; dup {
				if other == f.Name {
					return usagef("fleet %q has two devices with the client ID %q: put {{.Index}} in its client_id", f.Name, id)
				}
				return usagef("fleets %q and %q both have a device with the client ID %q: the broker keeps one connection per client ID, so they would take each other's session over; give one fleet a client_id of its own", other, f.Name, id)
			}
			owner[id] = f.Name
		}
	}
	return nil
}

// parseScenarioFiles parses every file. broken holds the names of the
// profiles defined in the files that failed (their fleets elsewhere are
// not checked, the profile's own errors are reported); it is nil when a
// failed file's profile names cannot be read.
func parseScenarioFiles(paths []string) (files []*scenario.File, broken map[string]bool, errs []error) {
	broken = map[string]bool{}
	for _, p := range paths {
		data, err := readScenario(p)
		if err != nil {
			errs = append(errs, err)
			broken = nil
			continue
		}
		f, err := scenario.Parse(p, data)
		if err != nil {
			errs = append(errs, err)
			names, ok := profileNames(data)
			if !ok {
				broken = nil
			}
			if broken != nil {
				for _, n := range names {
					broken[n] = true
				}
			}
			continue
		}
		files = append(files, f)
	}
	return files, broken, errs
}

// profileNames reads only the profile names of a file that failed to
// parse, when it is YAML at all.
func profileNames(data []byte) ([]string, bool) {
	var names struct {
		Profiles []struct {
			Name string `yaml:"name"`
		} `yaml:"profiles"`
	}
	if err := yaml.Unmarshal(data, &names); err != nil {
		return nil, false
	}
	out := make([]string, len(names.Profiles))
	for i, p := range names.Profiles {
		out[i] = p.Name
	}
	return out, true
}

// withoutFleetsOf is f without the fleets of the broken profiles.
func withoutFleetsOf(f *scenario.File, broken map[string]bool) *scenario.File {
	if len(broken) == 0 {
		return f
	}
	out := *f
	out.Fleets = nil
	for _, fl := range f.Fleets {
		if !broken[fl.Profile] {
			out.Fleets = append(out.Fleets, fl)
		}
	}
	return &out
}

func readScenario(p string) ([]byte, error) {
	if name, ok := strings.CutPrefix(p, "builtin:"); ok {
		e, err := builtin.Lookup(name)
		return e.YAML, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return b, nil
}

// scenarioErrors is a usage error (exit 2) listing every problem, one
// file:line:col message per line.
func scenarioErrors(errs []error) error {
	return usageError{errors.Join(errs...)}
}

func simulateValidate(args []string, e env) error {
	fs := newFlagSet("simulate validate", e)
	replay := replayFlag(fs)
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	defer replay.Close()
	s, err := loadScenarios(paths, 5, replay)
	if err != nil {
		return err
	}
	if err := checkClientIDs(s); err != nil {
		return err
	}
	devices := 0
	for _, f := range s.Fleets {
		devices += f.Count
	}
	fmt.Fprintf(e.stdout, "valid: %d file(s), %d fleet(s), %d device(s)\n", len(paths), len(s.Fleets), devices)
	return nil
}

func simulatePreview(args []string, e env) error {
	fs := newFlagSet("simulate preview", e)
	fleetName := fs.String("fleet", "", "preview the fleet `NAME` (default: the first)")
	index := fs.Int("device", 0, "preview device `N` (0-based)")
	n := fs.Int("n", 5, "show the next `N` messages")
	replay := replayFlag(fs)
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	defer replay.Close()
	s, err := loadScenarios(paths, 5, replay)
	if err != nil {
		return err
	}
	f, err := pickFleet(s, *fleetName)
	if err != nil {
		return err
	}
	if *index < 0 || *index >= f.Count {
		return usagef("--device %d: fleet %s has devices 0 to %d", *index, f.Name, f.Count-1)
	}
	if *n < 1 {
		return usagef("-n %d: give how many messages to show, at least 1", *n)
	}
	start := time.Now()
	for _, m := range device.Preview(f, *index, *n, start) {
		fmt.Fprintf(e.stdout, "+%s\t%s\t%s\n", m.Time.Sub(start).Round(time.Millisecond), m.Topic, previewPayload(m))
	}
	return nil
}

// previewPayload is the payload on one line: text as it is, a binary
// format the inspector decodes (Sparkplug B, CBOR, MessagePack) as its
// decoded view with "; " between the lines, else quoted bytes.
func previewPayload(m message.Message) string {
	if decode.IsText(m.Payload) {
		return printablePayload(m.Payload)
	}
	r := decode.Decode(decode.Auto, m.Topic, m.Payload, m.ContentType)
	if r.Err != nil || r.HexView() || r.Text == "" {
		return printablePayload(m.Payload)
	}
	var parts []string
	for _, l := range strings.Split(strings.TrimSpace(r.Text), "\n") {
		parts = append(parts, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(parts, "; ")
}

func pickFleet(s *device.Scenario, name string) (*device.Fleet, error) {
	var names []string
	for _, f := range s.Fleets {
		if name == "" || f.Name == name {
			return f, nil
		}
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		return nil, usagef("the scenario has no fleets: add one under fleets: (profile and count)")
	}
	return nil, usagef("--fleet %q: no such fleet; fleets: %s", name, strings.Join(names, ", "))
}

func simulateList(args []string, e env) error {
	fs := newFlagSet("simulate list", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, b := range builtin.List() {
		fmt.Fprintf(e.stdout, "%-22s %s\n", b.Name, b.Description)
	}
	return nil
}

func simulateNew(args []string, e env) error {
	fs := newFlagSet("simulate new", e)
	from := fs.String("from", "", "start from the built-in profile `NAME` (see simulate list)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return usagef("simulate new: give --from NAME, one of the built-in profiles (see iotstudio simulate list)")
	}
	b, err := builtin.Lookup(*from)
	if err != nil {
		return usageError{err}
	}
	// Editors that read this modeline (VS Code's YAML extension and
	// others using yaml-language-server) validate and complete the file.
	fmt.Fprintf(e.stdout, "# yaml-language-server: $schema=%s\n# (write the schema there with: iotstudio simulate schema > %s)\n", schemaFile, schemaFile)
	_, err = e.stdout.Write(b.YAML)
	return err
}

// simulateSchema writes the JSON Schema to stdout; it takes no FILE, and
// says so, rather than leave a user looking for a file it never wrote.
func simulateSchema(args []string, e env) error {
	fs := newFlagSet("simulate schema", e)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("simulate schema: unexpected argument %q; it writes to stdout: iotstudio simulate schema > %s", pos[0], pos[0])
	}
	_, err = e.stdout.Write(scenario.Schema())
	return err
}

// schemaFile is where `simulate new` tells editors to find the schema.
const schemaFile = "scenario.schema.json"

// lazyCapture is the capture replay fields read, in the data dir, opened
// on first use (most files have no replay field) directly or through
// serve or the app when one of them holds it.
type lazyCapture struct {
	data *string
	once sync.Once
	r    captureReader
	err  error
}

// replayFlag registers --data for the capture replay fields read.
func replayFlag(fs *flag.FlagSet) *lazyCapture {
	return &lazyCapture{data: fs.String("data", "", "data `DIR` whose capture replay fields read (default: the user config dir)")}
}

func (l *lazyCapture) Query(ctx context.Context, q capture.Query) ([]message.Message, string, error) {
	l.once.Do(func() { l.r, l.err = openCaptureReader(*l.data) })
	if l.err != nil {
		return nil, "", l.err
	}
	return l.r.Query(ctx, q)
}

// Close closes the capture if it was opened.
func (l *lazyCapture) Close() {
	l.once.Do(func() { l.err = errors.New("closed") })
	if l.r != nil {
		_ = l.r.Close()
	}
}
