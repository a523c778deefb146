package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
)

// probeScenario is a small fleet without timestamp fields, so that two
// previews with the same seed print the same bytes. Its devices publish
// fast (every 200 ms) so that a run of a few seconds has plenty to count.
const probeScenario = `profiles:
  - name: probe
    streams:
      - name: climate
        topic: plant/{{.ID}}/climate
        every: 200ms
        jitter: 50ms
        qos: 1
        fields:
          seq: {counter: {}}
          temp: {walk: {min: 10, max: 30, step: 0.5}, precision: 2}
          state: {choice: {values: [ok, warn, alarm]}}
      - name: power
        topic: plant/{{.ID}}/power
        every: 300ms
        fields:
          watts: {uniform: {min: 100, max: 900}, precision: 1}
    lifecycle:
      status: {topic: "plant/{{.ID}}/status", qos: 1}
fleets:
  - profile: probe
    count: 5
    seed: %d
`

// writeScenario writes text to name in a fresh temp dir and returns the path.
func writeScenario(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func probeFile(t *testing.T, seed int) string {
	t.Helper()
	return writeScenario(t, "probe.yaml", fmt.Sprintf(probeScenario, seed))
}

func skipSlow(t *testing.T, why string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("slow (%s); run without -short", why)
	}
}

func TestSimulateValidateGoodFiles(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"builtin", []string{"builtin:thermostat"}, "valid: 1 file(s), 1 fleet(s), 5 device(s)\n"},
		{"file", []string{probeFile(t, 7)}, "valid: 1 file(s), 1 fleet(s), 5 device(s)\n"},
		{"file using a builtin profile", []string{writeScenario(t, "plugs.yaml", "fleets:\n  - profile: smart-plug\n    count: 12\n")},
			"valid: 1 file(s), 1 fleet(s), 12 device(s)\n"},
		{"two files and a builtin", []string{probeFile(t, 1), "builtin:contact"}, "valid: 2 file(s), 2 fleet(s), "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runInProcess(append([]string{"simulate", "validate"}, tc.args...), "")
			if code != 0 || !strings.HasPrefix(stdout, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 0 and %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

// Every problem of every file comes out at once, each as
// file:line:col: message, and the exit status is 2.
func TestSimulateValidateReportsEveryError(t *testing.T) {
	badGen := writeScenario(t, "gen.yaml", `profiles:
  - name: s
    streams:
      - name: t
        topic: plant/{{.ID}}/t
        every: 1s
        fields:
          v: {sinus: {min: 1, max: 2, period: 1m}}
fleets:
  - profile: s
    count: 1
`)
	badEvery := writeScenario(t, "every.yaml", `profiles:
  - name: s
    streams:
      - name: t
        topic: plant/{{.ID}}/t
        every: 5 parsecs
        fields:
          v: {const: 1}
fleets:
  - profile: s
    count: 1
`)
	badProfile := writeScenario(t, "fleet.yaml", "fleets:\n  - profile: thermostatt\n    count: 2\n")
	otherBadProfile := writeScenario(t, "fleet2.yaml", "fleets:\n  - profile: smart-plgu\n    count: 2\n")
	sameName := writeScenario(t, "more-thermostats.yaml", "fleets:\n  - profile: thermostat\n    count: 2\n")
	sameClientIDs := writeScenario(t, "plugs.yaml", `fleets:
  - profile: smart-plug
    count: 3
    client_id: "dev-{{.Index}}"
  - name: kitchen
    profile: smart-plug
    count: 2
    client_id: "dev-{{.Index}}"
`)
	usesBrokenProfile := writeScenario(t, "more.yaml", "fleets:\n  - profile: s\n    count: 3\n")
	notYAML := writeScenario(t, "notyaml.yaml", "profiles: [\n")
	cases := []struct {
		name    string
		files   []string
		want    []string
		notWant string
	}{
		{"unknown generator", []string{badGen}, []string{badGen + ":8:15: unknown generator `sinus`; did you mean `sine`?"}, ""},
		{"bad duration", []string{badEvery}, []string{badEvery + ":6:16: `every`: expected a duration like 1s or 250ms, got `5 parsecs`"}, ""},
		{"unknown profile", []string{badProfile}, []string{badProfile + `:2:5: unknown profile "thermostatt"; did you mean "thermostat"?`}, ""},
		{"two files with parse errors", []string{badGen, badEvery}, []string{badGen + ":8:15: unknown generator", badEvery + ":6:16: `every`"}, ""},
		{"two files with unknown profiles", []string{badProfile, otherBadProfile}, []string{badProfile + ":2:5:", otherBadProfile + `:2:5: unknown profile "smart-plgu"; did you mean "smart-plug"?`}, ""},
		{"a parse error and an unknown profile", []string{badGen, badProfile}, []string{badGen + ":8:15: unknown generator", badProfile + `:2:5: unknown profile "thermostatt"`}, ""},
		// The profile is there, with an error of its own: calling it unknown would mislead.
		{"a fleet of a broken file's profile", []string{badGen, usesBrokenProfile}, []string{badGen + ":8:15: unknown generator"}, "unknown profile"},
		// Devices with one client ID take each other's session over, forever.
		{"one fleet name in two files", []string{"builtin:thermostat", sameName},
			[]string{sameName + `:2:5: fleet "thermostat" is also in builtin:thermostat: its devices would have the same client IDs; give this one a name of its own (name: ...)`}, ""},
		{"the same file twice", []string{sameName, sameName}, []string{sameName + `:2:5: fleet "thermostat" is also in ` + sameName}, ""},
		{"one client ID in two fleets", []string{sameClientIDs},
			[]string{`fleets "smart-plug" and "kitchen" both have a device with the client ID "dev-0"`}, ""},
		{"one client ID in one fleet", []string{writeScenario(t, "odd.yaml", "fleets:\n  - {profile: contact, count: 3, client_id: \"door{{if .Index}}-1{{end}}\"}\n")},
			[]string{`fleet "contact" has two devices with the client ID "door-1"`}, ""},
		{"a file that is not YAML", []string{notYAML, usesBrokenProfile}, []string{notYAML + ":"}, "unknown profile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runInProcess(append([]string{"simulate", "validate"}, tc.files...), "")
			if code != 2 || stdout != "" {
				t.Fatalf("exit %d, stdout %q; want exit 2 and nothing on stdout; stderr %q", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tc.notWant != "" && strings.Contains(stderr, tc.notWant) {
				t.Errorf("stderr says %q:\n%s", tc.notWant, stderr)
			}
		})
	}
}

func TestSimulateValidateMissingFileNamesIt(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	code, _, stderr := runInProcess([]string{"simulate", "validate", missing}, "")
	if code == 0 || !strings.Contains(stderr, missing) || !strings.Contains(stderr, "no such file") {
		t.Fatalf("exit %d, stderr %q; want a failure naming %s", code, stderr, missing)
	}
}

func TestSimulateListNewSchema(t *testing.T) {
	code, stdout, _ := runInProcess([]string{"simulate", "list"}, "")
	if code != 0 {
		t.Fatalf("list: exit %d", code)
	}
	builtins := []string{"contact", "energy-meter", "gps-tracker", "smart-plug", "sparkplug-machine", "temperature-humidity", "thermostat"}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var names []string
	for _, l := range lines {
		name, desc, _ := strings.Cut(l, " ")
		if strings.TrimSpace(desc) == "" {
			t.Errorf("list line %q has no description", l)
		}
		names = append(names, name)
	}
	if !slices.Equal(names, builtins) {
		t.Fatalf("list names %v, want %v", names, builtins)
	}

	code, stdout, stderr := runInProcess([]string{"simulate", "new", "--from", "thermostat"}, "")
	if code != 0 || !strings.HasPrefix(stdout, "# yaml-language-server: $schema=scenario.schema.json\n") {
		t.Fatalf("new: exit %d, stderr %q, output starts %q", code, stderr, stdout[:min(len(stdout), 80)])
	}
	mine := writeScenario(t, "my-thermostat.yaml", stdout)
	if code, stdout, stderr := runInProcess([]string{"simulate", "validate", mine}, ""); code != 0 || !strings.HasPrefix(stdout, "valid: 1 file(s)") {
		t.Fatalf("validate of new's file: exit %d, %q %q", code, stdout, stderr)
	}

	code, _, stderr = runInProcess([]string{"simulate", "new", "--from", "thermostap"}, "")
	if code != 2 || !strings.Contains(stderr, `"thermostap"`) || !strings.Contains(stderr, strings.Join(builtins, ", ")) {
		t.Fatalf("new --from unknown: exit %d, stderr %q; want 2 naming the built-ins", code, stderr)
	}

	// Expecting a file to be written, a user would find none and no error.
	code, stdout, stderr = runInProcess([]string{"simulate", "schema", "scenario.schema.json"}, "")
	if code != 2 || stdout != "" || !strings.Contains(stderr, `unexpected argument "scenario.schema.json"`) || !strings.Contains(stderr, "> scenario.schema.json") {
		t.Fatalf("schema FILE: exit %d, stdout %d bytes, stderr %q; want exit 2 showing the redirection", code, len(stdout), stderr)
	}
	code, stdout, _ = runInProcess([]string{"simulate", "schema"}, "")
	var schema map[string]any
	if err := json.Unmarshal([]byte(stdout), &schema); code != 0 || err != nil {
		t.Fatalf("schema: exit %d, %v", code, err)
	}
	if _, ok := schema["$schema"]; !ok {
		t.Fatalf("schema has no $schema key: %v", slices.Sorted(maps.Keys(schema)))
	}
}

func TestSimulatePreview(t *testing.T) {
	file := probeFile(t, 7)
	preview := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runInProcess(append([]string{"simulate", "preview", file}, args...), "")
		if code != 0 {
			t.Fatalf("preview %v: exit %d, %s", args, code, stderr)
		}
		return stdout
	}
	out := preview("-n", "3", "--device", "1")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("-n 3 printed %d lines:\n%s", len(lines), out)
	}
	var last time.Duration
	for _, l := range lines {
		cols := strings.Split(l, "\t")
		if len(cols) != 3 || !strings.HasPrefix(cols[1], "plant/probe-1/") {
			t.Fatalf("line %q: want +OFFSET, a topic of device probe-1, the payload", l)
		}
		at, err := time.ParseDuration(strings.TrimPrefix(cols[0], "+"))
		if err != nil || at < last {
			t.Fatalf("offsets out of order (or unreadable, %v):\n%s", err, out)
		}
		last = at
	}
	if again := preview("--device", "1", "-n", "3"); again != out {
		t.Fatalf("same file and seed, different preview:\n%s\nthen\n%s", out, again)
	}
	if other := preview("-n", "3", "--device", "2"); other == out {
		t.Fatal("devices 1 and 2 preview the same messages")
	}

	bad := []struct {
		args []string
		want string
	}{
		{[]string{"--device", "5"}, "--device 5: fleet probe has devices 0 to 4"},
		{[]string{"--device", "-1"}, "--device -1: fleet probe has devices 0 to 4"},
		{[]string{"-n", "0"}, "-n 0: give how many messages to show, at least 1"},
		{[]string{"-n", "lots"}, `invalid value "lots" for flag -n`},
		{[]string{"--fleet", "pumps"}, `--fleet "pumps": no such fleet; fleets: probe`},
	}
	for _, b := range bad {
		code, _, stderr := runInProcess(append([]string{"simulate", "preview", file}, b.args...), "")
		if code != 2 || !strings.Contains(stderr, b.want) {
			t.Errorf("preview %v: exit %d, stderr %q; want 2 saying %q", b.args, code, stderr, b.want)
		}
	}
}

// stats reads simulate run's JSON Lines.
type stats struct {
	Kind      string   `json:"kind"`
	Fleet     string   `json:"fleet"`
	Wanted    int      `json:"wanted"`
	Connected int      `json:"connected"`
	MostConn  *int     `json:"connected_max"`
	Sent      int      `json:"sent"`
	Errors    int      `json:"errors"`
	Delivered *int     `json:"delivered"`
	Lost      *int     `json:"lost"`
	LatP50    *float64 `json:"latency_p50_ms"`
	LastError string   `json:"last_error"`
}

func parseStats(t *testing.T, out string) (lines []stats, summary stats) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var s stats
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", sc.Text(), err)
		}
		switch s.Kind {
		case "stats":
			lines = append(lines, s)
		case "summary":
			summary = s
		default:
			t.Fatalf("line %q: kind %q, want stats or summary", sc.Text(), s.Kind)
		}
	}
	if summary.Kind == "" {
		t.Fatalf("no summary line in\n%s", out)
	}
	return lines, summary
}

// record is one line of capture query --format jsonl.
type record struct {
	Time     string `json:"time"`
	ClientID string `json:"client_id"`
	Topic    string `json:"topic"`
	Payload  string `json:"payload"`
	Retain   bool   `json:"retain"`
}

func captured(t *testing.T, data, filter string) []record {
	t.Helper()
	code, stdout, stderr := runInProcess([]string{"capture", "query", "--data", data, "--topic", filter, "--format", "jsonl", "--limit", "0", "--oldest-first"}, "")
	if code != 0 {
		t.Fatalf("capture query: exit %d, %s", code, stderr)
	}
	var out []record
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("capture line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// One command gives a broker full of devices: every wanted device
// connects, the broker delivers all that was sent, the capture shows the
// devices as publishers, and a graceful stop leaves every status offline
// (published once, by the device, not as a will).
func TestSimulateRunEmbedded(t *testing.T) {
	skipSlow(t, "runs a fleet for 3 s")
	t.Parallel()
	file := probeFile(t, 7)
	data := t.TempDir()
	start := time.Now()
	// Flags after the file; --count and --seed override the file's 5 and 7.
	code, stdout, stderr := runInProcess([]string{"simulate", "run", file, "--count", "3", "--seed", "99", "--embedded", "--mqtt", "127.0.0.1:0",
		"--data", data, "--duration", "3s", "--stats", "1s", "--format", "jsonl"}, "")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("--duration 3s took %s", took)
	}
	lines, sum := parseStats(t, stdout)
	if len(lines) < 2 {
		t.Errorf("--stats 1s over 3s printed %d stats lines:\n%s", len(lines), stdout)
	}
	maxConnected := 0
	for _, l := range lines {
		maxConnected = max(maxConnected, l.Connected)
	}
	if maxConnected != 3 || sum.Wanted != 3 {
		t.Errorf("connected at most %d of wanted %d; want 3 of 3 (--count 3)\n%s", maxConnected, sum.Wanted, stdout)
	}
	// After the stop none is connected; the summary says how many were.
	if sum.MostConn == nil || *sum.MostConn != 3 {
		t.Errorf("summary connected_max %v, want 3:\n%s", sum.MostConn, stdout)
	}
	if sum.Sent < 3*10 || sum.Errors != 0 || sum.Delivered == nil || *sum.Delivered != sum.Sent || sum.Lost == nil || *sum.Lost != 0 || sum.LatP50 == nil {
		t.Errorf("summary %+v: want sent ≥ 30, no errors, delivered == sent, lost 0, a latency\n%s", sum, stdout)
	}

	recs := captured(t, data, "plant/#")
	publishers := map[string]int{}
	offline := map[string]int{}
	lastStatus := map[string]record{}
	for _, r := range recs {
		dev := strings.Split(r.Topic, "/")[1]
		if r.ClientID != dev {
			t.Fatalf("record on %s published by %q, want the device's client ID %q", r.Topic, r.ClientID, dev)
		}
		publishers[r.ClientID]++
		if strings.HasSuffix(r.Topic, "/status") {
			lastStatus[dev] = r
			if r.Payload == "offline" {
				offline[dev]++
			}
		}
	}
	wantDevices := []string{"probe-0", "probe-1", "probe-2"}
	if got := slices.Sorted(maps.Keys(publishers)); !slices.Equal(got, wantDevices) {
		t.Fatalf("capture publishers %v, want %v", got, wantDevices)
	}
	for _, dev := range wantDevices {
		if st := lastStatus[dev]; st.Payload != "offline" || !st.Retain || offline[dev] != 1 {
			t.Errorf("%s: last status %+v, %d offline records; want one retained offline; status records:\n%v", dev, st, offline[dev], captured(t, data, "plant/+/status"))
		}
	}

	// --seed 99 overrides the file's seed 7: the devices sent what a file
	// with seed 99 previews, not what the file itself previews.
	var sent []string
	for _, r := range recs {
		if r.Topic == "plant/probe-0/climate" && len(sent) < 3 {
			sent = append(sent, r.Payload)
		}
	}
	seed99, seed7 := previewedClimate(t, probeFile(t, 99)), previewedClimate(t, file)
	if !slices.Equal(sent, seed99) || slices.Equal(sent, seed7) {
		t.Errorf("probe-0's first climate payloads %q; seed 99 previews %q, the file's seed 7 %q", sent, seed99, seed7)
	}

	// The fleet's capture is something to infer devices from: as many as ran.
	code, inferred, stderr := runInProcess([]string{"simulate", "infer", "--topic", "plant/#", "--data", data}, "")
	if code != 0 {
		t.Fatalf("infer: exit %d, %s", code, stderr)
	}
	code, valid, stderr := runInProcess([]string{"simulate", "validate", writeScenario(t, "inferred.yaml", inferred)}, "")
	if code != 0 || !strings.HasPrefix(valid, "valid: 1 file(s), 1 fleet(s), 3 device(s)") {
		t.Errorf("validate of the inferred file: exit %d, %q %q; the file:\n%s", code, valid, stderr, inferred)
	}
}

// previewedClimate is the payloads of device 0's first 3 climate messages.
func previewedClimate(t *testing.T, file string) []string {
	t.Helper()
	code, stdout, stderr := runInProcess([]string{"simulate", "preview", file, "-n", "6"}, "")
	if code != 0 {
		t.Fatalf("preview: %s", stderr)
	}
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		if cols := strings.Split(l, "\t"); len(cols) == 3 && cols[1] == "plant/probe-0/climate" {
			out = append(out, cols[2])
		}
	}
	if len(out) < 3 {
		t.Fatalf("fewer than 3 climate messages in preview:\n%s", stdout)
	}
	return out[:3]
}

// --ramp overrides the file's ramp (the default 100/s would connect all 5
// at once): at 1/s, 1.5 s see one or two devices connect, never more.
// --no-capture leaves the data dir without a capture, and delivery is
// still measured.
func TestSimulateRunRampNoCapture(t *testing.T) {
	skipSlow(t, "runs a fleet for 1.5 s")
	t.Parallel()
	data := t.TempDir()
	code, stdout, stderr := runInProcess([]string{"simulate", "run", probeFile(t, 7), "--ramp", "1/s", "--embedded", "--mqtt", "127.0.0.1:0",
		"--no-capture", "--data", data, "--duration", "1500ms", "--stats", "0", "--format", "jsonl"}, "")
	if code != 0 {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	_, sum := parseStats(t, stdout)
	if sum.MostConn == nil || *sum.MostConn < 1 || *sum.MostConn > 2 || sum.Wanted != 5 {
		t.Errorf("summary %s: want 1 or 2 of 5 connected at most", stdout)
	}
	if sum.Delivered == nil || *sum.Delivered != sum.Sent || sum.Sent == 0 {
		t.Errorf("summary %s: want delivered == sent > 0", stdout)
	}
	if _, err := os.Stat(filepath.Join(data, "capture")); !os.IsNotExist(err) {
		t.Errorf("--no-capture: %s/capture exists (%v)", data, err)
	}
}

func TestSimulateRunNothingListens(t *testing.T) {
	skipSlow(t, "tries to connect for 3 s")
	t.Parallel()
	url := "mqtt://" + refusingAddr(t)
	start := time.Now()
	code, stdout, stderr := runInProcess([]string{"simulate", "run", probeFile(t, 7), "--url", url, "--duration", "3s", "--stats", "0"}, "")
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("took %s with --duration 3s", took)
	}
	if code == 0 || !strings.Contains(stderr, "no device could connect to "+url) || !strings.Contains(stderr, "connection refused") {
		t.Fatalf("exit %d, stderr %q; want a failure saying no device could connect and why", code, stderr)
	}
	if strings.Count(stderr, url) != 1 {
		t.Errorf("stderr %q names %s %d times; once is clear", stderr, url, strings.Count(stderr, url))
	}
	if !strings.Contains(stdout, "summary probe: 0/5 connected at most, sent 0") {
		t.Errorf("summary %q: want 0/5 connected at most, sent 0", stdout)
	}
}

// topicWatcher subscribes to # on a broker and collects the topics it is sent.
type topicWatcher struct {
	mu     sync.Mutex
	topics map[string]int
	last   map[string]string // topic → last payload
}

func watchTopics(t *testing.T, addr string) *topicWatcher {
	t.Helper()
	w := &topicWatcher{topics: map[string]int{}, last: map[string]string{}}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) {
			w.mu.Lock()
			w.topics[pr.Packet.Topic]++
			w.last[pr.Packet.Topic] = string(pr.Packet.Payload)
			w.mu.Unlock()
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "simulate-test-watcher", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// awaitStatus waits up to 10 s until every device's status topic last
// said want.
func (w *topicWatcher) awaitStatus(t *testing.T, devices []string, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		var wrong []string
		for _, d := range devices {
			if got := w.last["plant/"+d+"/status"]; got != want {
				wrong = append(wrong, d+"="+got)
			}
		}
		w.mu.Unlock()
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("statuses not %q: %v", want, wrong)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// devices are the device IDs (second topic level) seen on topics ending in suffix.
func (w *topicWatcher) devices(suffix string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for topic := range w.topics {
		if strings.HasSuffix(topic, suffix) {
			out = append(out, strings.Split(topic, "/")[1])
		}
	}
	slices.Sort(out)
	return out
}

// watchProtocols notes the MQTT versions of the probe devices connected to
// b until the returned func is called, which gives them.
func watchProtocols(b *brokertest.Server) (stop func() []byte) {
	done := make(chan struct{})
	seen := make(chan []byte, 1)
	go func() {
		var versions []byte
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				seen <- versions
				return
			case <-tick.C:
				for _, c := range b.Clients() {
					if c.Connected && strings.HasPrefix(c.ID, "probe-") && !slices.Contains(versions, c.ProtocolVersion) {
						versions = append(versions, c.ProtocolVersion)
					}
				}
			}
		}
	}()
	return func() []byte { close(done); return <-seen }
}

func TestSimulateRunAgainstURL(t *testing.T) {
	skipSlow(t, "runs fleets for 2 s each")
	t.Parallel()
	for _, tc := range []struct {
		protocol string
		level    byte
	}{{"5", 5}, {"3.1.1", 4}} {
		t.Run("MQTT "+tc.protocol, func(t *testing.T) {
			t.Parallel()
			b := brokertest.Start(t)
			w := watchTopics(t, b.Addr)
			protocols := watchProtocols(b)
			code, stdout, stderr := runInProcess([]string{"simulate", "run", probeFile(t, 7), "--url", "mqtt://" + b.Addr, "--protocol", tc.protocol,
				"--count", "2", "--duration", "2s", "--stats", "0", "--format", "jsonl"}, "")
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if got := protocols(); !slices.Equal(got, []byte{tc.level}) {
				t.Errorf("the devices connected with protocol levels %v, want only %d", got, tc.level)
			}
			_, sum := parseStats(t, stdout)
			if sum.Wanted != 2 || sum.Sent == 0 || sum.Errors != 0 || sum.Delivered != nil {
				t.Errorf("summary %+v: want 2 wanted, messages sent, no errors, no delivery count (not observed)", sum)
			}
			want := []string{"probe-0", "probe-1"}
			if got := w.devices("/climate"); !slices.Equal(got, want) {
				t.Errorf("a subscriber saw telemetry of %v, want %v", got, want)
			}
		})
	}
}

// --profile runs the devices against a saved connection, speaking its
// protocol; its flags cannot be overridden on the command line.
func TestSimulateRunAgainstSavedConnection(t *testing.T) {
	skipSlow(t, "runs a fleet for 2 s")
	t.Parallel()
	b := brokertest.Start(t)
	w := watchTopics(t, b.Addr)
	data := t.TempDir()
	if code, _, stderr := runInProcess([]string{"connections", "add", "--data", data, "--preset", "custom", "--name", "lab",
		"--url", "mqtt://" + b.Addr, "--protocol", "3.1.1", "--subscribe", ""}, ""); code != 0 {
		t.Fatalf("connections add: %s", stderr)
	}
	protocols := watchProtocols(b)
	code, stdout, stderr := runInProcess([]string{"simulate", "run", probeFile(t, 7), "--profile", "lab", "--data", data, "--count", "2", "--duration", "2s", "--stats", "0"}, "")
	if code != 0 || !strings.Contains(stdout, "summary probe: 2/2 connected at most") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := protocols(); !slices.Equal(got, []byte{4}) {
		t.Errorf("the devices connected with protocol levels %v, want the saved connection's 3.1.1 (4) only", got)
	}
	if got := w.devices("/climate"); !slices.Equal(got, []string{"probe-0", "probe-1"}) {
		t.Errorf("a subscriber saw telemetry of %v, want probe-0 and probe-1", got)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "nope"}, `no saved connection named "nope"`},
		{[]string{"--profile", "lab", "--protocol", "5"}, "--protocol: the saved connection --profile lab decides it"},
	} {
		code, _, stderr := runInProcess(append([]string{"simulate", "run", probeFile(t, 7), "--data", data, "--duration", "1s"}, bad.args...), "")
		if code != 2 || !strings.Contains(stderr, bad.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 saying %q", bad.args, code, stderr, bad.want)
		}
	}
}

// Debian's mosquitto as the target: a broker that is not ours.
func TestSimulateRunAgainstMosquitto(t *testing.T) {
	skipSlow(t, "runs a fleet for 2 s against mosquitto")
	t.Parallel()
	addr := mosquittopeer.Start(t, "").Addr()
	w := watchTopics(t, addr)
	code, stdout, stderr := runInProcess([]string{"simulate", "run", probeFile(t, 7), "--url", "mqtt://" + addr, "--duration", "2s", "--stats", "0"}, "")
	if code != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "summary probe: 5/5 connected at most, sent ") {
		t.Errorf("summary %q: want it to say 5/5 connected at most", stdout)
	}
	want := []string{"probe-0", "probe-1", "probe-2", "probe-3", "probe-4"}
	if got := w.devices("/climate"); !slices.Equal(got, want) {
		t.Errorf("a subscriber to mosquitto saw telemetry of %v, want %v", got, want)
	}
	if got := w.devices("/status"); !slices.Equal(got, want) {
		t.Errorf("a subscriber to mosquitto saw the status of %v, want %v", got, want)
	}
	w.awaitStatus(t, want, "offline")
}

func TestSimulateRunWrongCombinations(t *testing.T) {
	file := probeFile(t, 7)
	data := t.TempDir()
	embedded := []string{"--embedded", "--mqtt", "127.0.0.1:0", "--data", data, "--duration", "1s"}
	invalid := writeScenario(t, "invalid.yaml", "fleets:\n  - count: 0\n    profile: thermostat\n")
	sameClientIDs := writeScenario(t, "plugs.yaml", "fleets:\n  - {profile: smart-plug, count: 2, client_id: \"dev-{{.Index}}\"}\n  - {name: b, profile: smart-plug, count: 2, client_id: \"dev-{{.Index}}\"}\n")
	// Apart as written (dev-0 and dev-10), not with --count 11.
	clientIDs2 := writeScenario(t, "plugs2.yaml", "fleets:\n  - {profile: smart-plug, count: 1, client_id: \"dev-{{.Index}}\"}\n  - {name: b, profile: smart-plug, count: 1, client_id: \"dev-1{{.Index}}\"}\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{file, "--duration", "1s"}, "give one target: --embedded, --url URL or --profile NAME"},
		{"two targets", append([]string{file, "--url", "mqtt://127.0.0.1:1"}, embedded...), "give one target"},
		{"client id", []string{file, "--url", "mqtt://127.0.0.1:1", "--client-id", "me"}, "--client-id: each device takes its client ID from the scenario"},
		{"mqtt without embedded", []string{file, "--url", "mqtt://127.0.0.1:1", "--mqtt", "127.0.0.1:0"}, "--mqtt and --no-capture apply to --embedded only"},
		{"bad ramp", append([]string{file, "--ramp", "fast"}, embedded...), `--ramp "fast": expected connections per second like 200/s or a duration like 30s`},
		{"zero ramp", append([]string{file, "--ramp", "0/s"}, embedded...), `--ramp "0/s": the rate must be above 0/s`},
		{"bad format", append([]string{file, "--format", "xml"}, embedded...), `--format "xml": use text or jsonl`},
		{"bad protocol", []string{file, "--url", "mqtt://127.0.0.1:1", "--protocol", "4.0"}, `--protocol "4.0": use 5 or 3.1.1`},
		{"negative count", append([]string{file, "--count", "-1"}, embedded...), "--count -1: give a number of devices"},
		{"zero count", append([]string{file, "--count", "0"}, embedded...), "--count 0: give a number of devices, at least 1"},
		// A scenario that fails validation never half-starts: no broker, no capture.
		{"invalid file", append([]string{invalid}, embedded...), invalid + ":2:12: `count` must be at least 1, got 0"},
		{"no file", embedded, "give at least one scenario FILE"},
		{"missing builtin", append([]string{"builtin:thermostap"}, embedded...), `no built-in profile "thermostap"`},
		{"one fleet twice", append([]string{"builtin:contact", "builtin:contact"}, embedded...), `fleet "contact" is also in builtin:contact`},
		{"one client ID in two fleets", append([]string{sameClientIDs}, embedded...), `both have a device with the client ID "dev-0"`},
		{"one client ID after --count", append([]string{clientIDs2, "--count", "11"}, embedded...), `both have a device with the client ID "dev-10"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runInProcess(append([]string{"simulate", "run"}, tc.args...), "")
			if strings.Contains(stderr, "embedded broker at") {
				t.Errorf("the broker was started: %s", stderr)
			}
			if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 saying %q", code, stdout, stderr, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(data, "capture")); err == nil {
		t.Error("a refused run created a capture in the data dir")
	}
}

// importDevices writes JSON Lines of 5 devices, 10 records each, over the
// last minute, and imports them into data's capture.
func importDevices(t *testing.T, data string) {
	t.Helper()
	var b strings.Builder
	base := time.Now().Add(-time.Minute)
	for i := range 10 {
		for d := range 5 {
			at := base.Add(time.Duration(i)*5*time.Second + time.Duration(d)*time.Millisecond)
			payload := fmt.Sprintf(`{"seq":%d,"temp":%.1f,"state":"%s"}`, i, 18+float64((i*7+d)%10)/2, []string{"ok", "warn"}[(i+d)%2])
			line, _ := json.Marshal(map[string]any{"time": at.UTC().Format(time.RFC3339Nano), "source": "broker", "client_id": fmt.Sprintf("dev-%d", d),
				"protocol": 5, "topic": fmt.Sprintf("plant/dev-%d/climate", d), "payload": payload, "qos": 0, "retain": false})
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	// Traffic outside the filter that inference must leave out.
	line, _ := json.Marshal(map[string]any{"time": base.UTC().Format(time.RFC3339Nano), "source": "broker", "client_id": "x",
		"protocol": 5, "topic": "office/door", "payload": "open", "qos": 0, "retain": false})
	b.Write(line)
	b.WriteByte('\n')
	file := writeScenario(t, "records.jsonl", b.String())
	if code, _, stderr := runInProcess([]string{"capture", "import", "--data", data, file}, ""); code != 0 {
		t.Fatalf("capture import: exit %d, %s", code, stderr)
	}
}

func TestSimulateInfer(t *testing.T) {
	data := t.TempDir()
	importDevices(t, data)
	code, stdout, stderr := runInProcess([]string{"simulate", "infer", "--topic", "plant/#", "--data", data}, "")
	if code != 0 {
		t.Fatalf("infer: exit %d, %s", code, stderr)
	}
	inferred := writeScenario(t, "plant.yaml", stdout)
	code, valid, stderr := runInProcess([]string{"simulate", "validate", inferred}, "")
	if code != 0 || !strings.HasPrefix(valid, "valid: 1 file(s), 1 fleet(s), 5 device(s)") {
		t.Fatalf("validate of the inferred file: exit %d, %q, %q; the file:\n%s", code, valid, stderr, stdout)
	}
	_, preview, _ := runInProcess([]string{"simulate", "preview", inferred, "-n", "2"}, "")
	if !strings.Contains(preview, "\tplant/") || strings.Contains(preview, "office") {
		t.Errorf("the inferred devices preview as\n%s\nwant plant/ topics only", preview)
	}

	bad := []struct {
		name, data string
		args       []string
		code       int
		want       string
	}{
		{"invalid filter", data, []string{"--topic", "plant/#/x"}, 2, "'#' must be the last level"},
		{"no topic", data, nil, 2, "give --topic FILTER"},
		{"empty capture", t.TempDir(), []string{"--topic", "plant/#"}, 1, `the capture has no messages on "plant/#"`},
		{"filter matching nothing", data, []string{"--topic", "factory/#"}, 1, `the capture has no messages on "factory/#"`},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			code, stdout, stderr := runInProcess(append([]string{"simulate", "infer", "--data", b.data}, b.args...), "")
			if code != b.code || stdout != "" || !strings.Contains(stderr, b.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d saying %q", code, stdout, stderr, b.code, b.want)
			}
		})
	}
}

// Ctrl-C ends a run cleanly, as a user stops it: exit 0, a summary, and
// every device's status goes offline once (published by the device, not
// as its will).
func TestSimulateRunStopsOnInterrupt(t *testing.T) {
	skipSlow(t, "runs a fleet in a child process")
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data := t.TempDir()
	cmd := command(ctx, "simulate", "run", probeFile(t, 7), "--embedded", "--mqtt", "127.0.0.1:0", "--data", data, "--stats", "250ms", "--format", "jsonl")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var out strings.Builder
	running := false
	for !running && lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		var s stats
		running = json.Unmarshal(lines.Bytes(), &s) == nil && s.Connected == 5 && s.Sent > 0
	}
	if !running {
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // stderr is complete, and no longer written, after Wait
		t.Fatalf("the fleet never ran with 5 devices connected; stdout:\n%s\nstderr: %s", out.String(), stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after Ctrl-C: %v (want exit 0); stdout:\n%s\nstderr: %s", err, out.String(), stderr.String())
	}
	if _, sum := parseStats(t, out.String()); sum.MostConn == nil || *sum.MostConn != 5 || sum.Lost == nil || *sum.Lost != 0 {
		t.Errorf("summary %+v: want 5 connected at most, none lost", sum)
	}
	offline := map[string]int{}
	for _, r := range captured(t, data, "plant/+/status") {
		if r.Payload == "offline" {
			offline[r.ClientID]++
		}
	}
	for i := range 5 {
		if dev := fmt.Sprintf("probe-%d", i); offline[dev] != 1 {
			t.Errorf("%s went offline %d times, want once (a second is its will)", dev, offline[dev])
		}
	}
}

// Every built-in previews; binary payloads (the Sparkplug B machine's
// protobuf) are shown decoded, one message a line, not as escaped bytes.
func TestSimulatePreviewBuiltins(t *testing.T) {
	for _, name := range []string{"contact", "energy-meter", "gps-tracker", "smart-plug", "sparkplug-machine", "temperature-humidity", "thermostat"} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runInProcess([]string{"simulate", "preview", "builtin:" + name, "-n", "4"}, "")
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if code != 0 || len(lines) != 4 {
				t.Fatalf("exit %d, %d lines, stderr %q:\n%s", code, len(lines), stderr, stdout)
			}
			for _, l := range lines {
				if cols := strings.Split(l, "\t"); len(cols) != 3 || strings.Contains(cols[2], `\x`) {
					t.Errorf("line %q: want +OFFSET, topic and a readable payload", l)
				}
			}
		})
	}
	_, stdout, _ := runInProcess([]string{"simulate", "preview", "builtin:sparkplug-machine", "-n", "2"}, "")
	for _, want := range []string{"Sparkplug B NDATA", "seq: ", "uptime_s: ", "Sparkplug B DDATA", "rpm: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the Sparkplug preview lacks %q:\n%s", want, stdout)
		}
	}
}
