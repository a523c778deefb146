package window

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/builtin"
	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
	"github.com/iotstudio/iotstudio/engine/sim/infer"
	"github.com/iotstudio/iotstudio/engine/sim/recorded"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/ui/devices"
	"github.com/iotstudio/iotstudio/ui/localname"
)

// embeddedTarget is how the Devices panel names the window's own broker:
// as the Local broker connection is named (and shown translated).
const embeddedTarget = localname.Profile

// simEngine adapts engine/sim to the Devices panel: profiles from the
// built-ins and DataDir/devices, validation and preview by compiling the
// editor's text, fleets run against the embedded broker (observed through
// its tap, so delivery and latency are known) or a saved connection. With
// a FleetCommand, fleets run in a process of their own (childRun);
// without one (tests), in this process (simRun).
type simEngine struct {
	eng  *studio.Studio
	data string
	dir  string // the user's profiles
	cmd  FleetCommand
	runs runningFleets // for the window's metrics
}

func newSimEngine(eng *studio.Studio, dataDir string, cmd FleetCommand) *simEngine {
	return &simEngine{eng: eng, data: dataDir, dir: filepath.Join(dataDir, "devices"), cmd: cmd}
}

func (s *simEngine) Profiles() []devices.ProfileEntry {
	var out []devices.ProfileEntry
	for _, b := range builtin.List() {
		out = append(out, devices.ProfileEntry{Name: b.Name, Source: lang.L("built-in"), BuiltIn: true, YAML: string(b.YAML)})
	}
	files, _ := filepath.Glob(filepath.Join(s.dir, "*.yaml"))
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		out = append(out, devices.ProfileEntry{Name: strings.TrimSuffix(filepath.Base(f), ".yaml"), Source: f, YAML: string(b)})
	}
	return out
}

// compile compiles the editor's text for the protocol the devices will
// speak; replay fields read the window's capture.
func (s *simEngine) compile(text string, protocol byte) (*device.Scenario, error) {
	return builtin.Compile("editor", []byte(text), device.Options{Protocol: protocol, Replay: recorded.Replay(s.capture())})
}

// capture is what replay fields read: the window's capture store, or an
// error saying there is none.
func (s *simEngine) capture() capture.Querier {
	if s.eng.Capture != nil {
		if st := s.eng.Capture.Store(); st != nil {
			return st
		}
	}
	return noCapture{}
}

type noCapture struct{}

func (noCapture) Query(context.Context, capture.Query) ([]message.Message, string, error) {
	return nil, "", errors.New(lang.L("the capture is off or could not be opened (see the Capture panel), so there is nothing to replay"))
}

func (s *simEngine) Validate(text string) []devices.Problem {
	_, err := s.compile(text, 5)
	return problems(err)
}

func problems(err error) []devices.Problem {
	if err == nil {
		return nil
	}
	es, ok := scenario.AsErrors(err)
	if !ok {
		return []devices.Problem{{Msg: err.Error()}}
	}
	out := make([]devices.Problem, len(es))
	for i, e := range es {
		out[i] = devices.Problem{Line: e.Pos.Line, Col: e.Pos.Column, Msg: e.Msg}
	}
	return out
}

func (s *simEngine) Preview(text string, index, n int) ([]devices.PreviewMsg, error) {
	sc, err := s.compile(text, 5)
	if err != nil {
		return nil, err
	}
	if len(sc.Fleets) == 0 {
		return nil, errors.New(lang.L("no fleet to preview: add one under fleets: (profile and count)"))
	}
	f := sc.Fleets[0]
	if index >= f.Count {
		index = 0
	}
	start := time.Now()
	var out []devices.PreviewMsg
	for _, m := range device.Preview(f, index, n, start) {
		out = append(out, previewMsg(m, start))
	}
	return out, nil
}

func previewMsg(m message.Message, start time.Time) devices.PreviewMsg {
	return devices.PreviewMsg{Topic: m.Topic, Payload: payloadText(m.Payload), At: m.Time.Sub(start)}
}

// payloadText shows text as it is and anything else (a Sparkplug B
// payload) as hex, which the Explorer's inspector decodes properly.
func payloadText(b []byte) string {
	if decode.IsText(b) {
		return string(b)
	}
	return "hex " + hex.EncodeToString(b)
}

func (s *simEngine) Targets() []string {
	out := []string{embeddedTarget}
	if s.eng.Connections == nil {
		return out
	}
	ps, err := s.eng.Connections.Store.Load()
	if err != nil {
		return out
	}
	for _, p := range ps {
		if p.Name != embeddedTarget { // the built-in profile, once saved: the same broker, listed once
			out = append(out, p.Name)
		}
	}
	return out
}

// target resolves a target name to a broker and the protocol its devices
// speak.
func (s *simEngine) target(name string) (fleet.Target, error) {
	if name == embeddedTarget {
		url := studio.LoopbackURL(s.eng.Broker.State())
		if url == "" {
			return fleet.Target{}, errors.New(lang.L("the embedded broker is not running: start it in the Broker panel, or pick a saved connection"))
		}
		return fleet.Target{URL: url, Protocol: 5}, nil
	}
	ps, err := s.eng.Connections.Store.Load()
	if err != nil {
		return fleet.Target{}, fmt.Errorf(lang.L("read saved connections: %w"), err)
	}
	for _, p := range ps {
		if p.Name == name {
			return fleet.TargetFromProfile(p, s.eng.Connections.Secrets)
		}
	}
	return fleet.Target{}, fmt.Errorf(lang.L("no saved connection named %q any more; pick another target"), name)
}

func (s *simEngine) Start(ctx context.Context, text string, count int, targetName string) (devices.Run, error) {
	t, err := s.target(targetName)
	if err != nil {
		return nil, err
	}
	sc, err := s.compile(text, t.Protocol)
	if err != nil {
		return nil, err
	}
	if len(sc.Fleets) == 0 {
		return nil, errors.New(lang.L("the file has no fleets: add one under fleets: (profile and count)"))
	}
	if count > 0 {
		for i, f := range sc.Fleets {
			sc.Fleets[i] = f.WithCount(count)
		}
	}
	embedded := targetName == embeddedTarget
	if s.cmd == nil {
		r := startSimRun(ctx, s.eng, sc, t, embedded)
		s.runs.add(r)
		return r, nil
	}
	args := []string{"--profile", targetName}
	if embedded {
		args = []string{"--url", t.URL}
	}
	r, err := startChildRun(ctx, s.eng, s.cmd, text, sc, count, args, embedded, s.data)
	if err != nil {
		return nil, err
	}
	s.runs.add(r)
	return r, nil
}

func (s *simEngine) Infer(filter string, since time.Duration) (string, string, error) {
	if s.eng.Capture == nil || s.eng.Capture.Store() == nil {
		return "", "", errors.New(lang.L("no capture to infer from: the capture is off or could not be opened (see the Capture panel)"))
	}
	if err := message.ValidateFilter(filter); err != nil {
		return "", "", fmt.Errorf(lang.L("topic filter %q: %w"), filter, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now()
	f, report, err := infer.FromCapture(ctx, s.eng.Capture.Store(), filter, now.Add(-since), now, infer.Options{})
	if err != nil {
		return "", "", err
	}
	out, err := scenario.Marshal(f)
	if err != nil {
		return "", "", fmt.Errorf(lang.L("write the proposed scenario: %w"), err)
	}
	return string(out), strings.Join(report.Lines(), "\n"), nil
}

func (s *simEngine) SaveProfile(name, text string) error {
	if name == "" || strings.ContainsAny(name, `/\:`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf(lang.L("profile name %q: use letters, digits, - and _ (it becomes a file name)"), name)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf(lang.L("save profile: %w"), err)
	}
	path := filepath.Join(s.dir, name+".yaml")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return fmt.Errorf(lang.L("save profile %s: %w"), path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf(lang.L("save profile %s: %w"), path, err)
	}
	return nil
}

// simRun is the fleets of one file running as one run in the panel.
type simRun struct {
	runners []*fleet.Runner
	sources []*device.Tracked
	cancel  context.CancelFunc
	done    chan struct{}
	err     error // set before done closes
}

// observe feeds the runner what the studio sees of its devices: the
// broker's tap for the embedded broker; for another broker, what the
// connections receive (a connection subscribed to the devices' topics,
// "#" by default). Never both: the local connection's copy of a broker
// message would count twice.
func observe(eng *studio.Studio, sink message.Sink, embedded bool) (stop func(), ok bool) {
	if embedded {
		return eng.Observe(sink)
	}
	if eng.Connections == nil {
		return nil, false
	}
	return eng.Connections.Tee(sink), true
}

// startSimRun runs sc's fleets (their counts as the panel asked) in this
// process.
func startSimRun(ctx context.Context, eng *studio.Studio, sc *device.Scenario, t fleet.Target, embedded bool) *simRun {
	ctx, cancel := context.WithCancel(ctx)
	r := &simRun{cancel: cancel, done: make(chan struct{})}
	var stops []func()
	for _, f := range sc.Fleets {
		src := device.Track(f)
		runner := fleet.New(src, t, fleet.Options{Seed: uint64(f.Seed)})
		if stop, ok := observe(eng, runner, embedded); ok {
			stops = append(stops, stop)
		}
		r.runners, r.sources = append(r.runners, runner), append(r.sources, src)
	}
	go func() {
		defer close(r.done)
		defer func() {
			for _, stop := range stops {
				stop()
			}
		}()
		errs := make(chan error, len(r.runners))
		for _, runner := range r.runners {
			go func() { errs <- runner.Run(ctx) }()
		}
		var all []error
		for range r.runners {
			if err := <-errs; err != nil && !errors.Is(err, context.Canceled) {
				all = append(all, err)
			}
		}
		if embedded {
			awaitGone(eng, sc)
		}
		r.err = errors.Join(all...)
	}()
	return r
}

// awaitGone waits, up to two seconds, until the embedded broker has read
// the DISCONNECT of every device of a run that ended: the window may be
// closing, and a broker stopped first would publish their wills.
func awaitGone(eng *studio.Studio, sc *device.Scenario) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	eng.Broker.AwaitGone(ctx, sc.ClientIDs())
}

func (r *simRun) Stats() devices.FleetStats {
	all := make([]fleet.Stats, len(r.runners))
	for i, runner := range r.runners {
		all[i] = runner.Stats()
	}
	out := sumFleets(all)
	out.Ramping = out.Connected < out.Wanted && r.running()
	return out
}

// sumFleets is the panel's view of a run's fleets: counts summed, the
// worst fleet's percentiles.
func sumFleets(all []fleet.Stats) devices.FleetStats {
	var out devices.FleetStats
	for _, st := range all {
		out.Wanted += st.Wanted
		out.Connected += st.Connected
		out.Sent += st.Sent
		out.Rate += st.SentPerSec
		out.Errors += st.Errors
		out.Reconnects += st.Reconnects
		if st.LastError != "" {
			out.LastError = st.LastError
		}
		out.LagP50, out.LagP99 = max(out.LagP50, st.LagP50), max(out.LagP99, st.LagP99)
		if st.Observed {
			out.LatencyKnown = true
			out.Delivered += st.Delivered
			out.Lost += st.Lost
			out.LatencyP50, out.LatencyP99 = max(out.LatencyP50, st.LatencyP50), max(out.LatencyP99, st.LatencyP99)
		}
	}
	return out
}

func (r *simRun) running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

func (r *simRun) Devices() []devices.DeviceRow {
	var out []devices.DeviceRow
	for _, runner := range r.runners {
		for _, d := range runner.Devices() {
			out = append(out, devices.DeviceRow{ID: d.ID, ClientID: d.ClientID, State: stateWord(d.State), Sent: d.Sent, LastError: d.LastError})
		}
	}
	return out
}

func stateWord(s fleet.State) string {
	switch s {
	case fleet.Online:
		return devices.StateOnline
	case fleet.Reconnecting, fleet.Connecting:
		return devices.StateReconnecting
	}
	return devices.StateOffline
}

func (r *simRun) Pause() {
	for _, runner := range r.runners {
		runner.Pause()
	}
}

func (r *simRun) Resume() {
	for _, runner := range r.runners {
		runner.Resume()
	}
}

func (r *simRun) Stop()                 { r.cancel() }
func (r *simRun) Done() <-chan struct{} { return r.done }

func (r *simRun) Err() error {
	select {
	case <-r.done:
		return r.err
	default:
		return nil
	}
}

// owner is the runner and source of device id.
func (r *simRun) owner(id string) (*fleet.Runner, *device.Tracked, error) {
	for i, src := range r.sources {
		if src.Has(id) {
			return r.runners[i], src, nil
		}
	}
	return nil, nil, fmt.Errorf(lang.L("no device %q in this run"), id)
}

func (r *simRun) Kill(id string) error {
	runner, _, err := r.owner(id)
	if err != nil {
		return err
	}
	return runner.Kill(id)
}

func (r *simRun) Command(id, topic, payload string) error {
	runner, _, err := r.owner(id)
	if err != nil {
		return err
	}
	if _, err := message.ValidateTopicName(topic); err != nil {
		return fmt.Errorf(lang.L("command topic %q: %w"), topic, err)
	}
	return runner.Command(id, message.Message{Topic: topic, Payload: []byte(payload), Time: time.Now()})
}

func (r *simRun) DeviceState(id string) (map[string]any, []devices.PreviewMsg) {
	_, src, err := r.owner(id)
	if err != nil {
		return nil, nil
	}
	state, last, _ := src.Detail(id)
	return state, sentMessages(last)
}

func sentMessages(last []device.SentMessage) []devices.PreviewMsg {
	out := make([]devices.PreviewMsg, len(last))
	for i, m := range last {
		out[i] = devices.PreviewMsg{Topic: m.Topic, Payload: payloadText(m.Payload), At: m.At}
	}
	return out
}
