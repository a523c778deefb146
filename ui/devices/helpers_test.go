package devices

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/uitest"
)

// goodYAML is a scenario the fake engine accepts; it previews
// "temperature" payloads.
const goodYAML = `fleets:
  - name: greenhouse
    profile: sensor
    count: 10
profiles:
  sensor:
    streams:
      - topic: plant/{{.ID}}/temp
        payload:
          temp: {sine: {min: 18, max: 24, period: 1h}}
`

// badYAML misspells a generator on line 10, column 18.
var badYAML = strings.Replace(goodYAML, "{sine:", "{sinus:", 1)

// fakeEngine plays the simulator: it rejects any line with "sinus" at
// that word's position, previews one message per stream line, and
// records starts, saves and inferences.
type fakeEngine struct {
	mu            sync.Mutex
	profiles      []ProfileEntry
	targets       []string
	starts        []startCall
	runs          []*fakeRun
	startErr      error
	validated     []string
	saved         map[string]string
	inferYAML     string
	inferredSince time.Duration // of the last Infer
	// gate, when set, holds Start until it is closed: a slow connect.
	gate chan struct{}
}

type startCall struct {
	yaml   string
	count  int
	target string
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{
		profiles: []ProfileEntry{
			{Name: "temperature-sensor", Source: "built-in", BuiltIn: true, YAML: goodYAML},
			{Name: "my-plug", Source: "/home/me/.config/iotstudio/devices/my-plug.yaml", YAML: strings.Replace(goodYAML, "greenhouse", "plugs", 1)},
		},
		targets: []string{"Embedded broker", "Plant broker"},
		saved:   map[string]string{},
	}
}

func (e *fakeEngine) Profiles() []ProfileEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ProfileEntry(nil), e.profiles...)
}

func (e *fakeEngine) Validate(yaml string) []Problem {
	e.mu.Lock()
	e.validated = append(e.validated, yaml)
	e.mu.Unlock()
	var out []Problem
	for i, line := range strings.Split(yaml, "\n") {
		if c := strings.Index(line, "sinus"); c >= 0 {
			out = append(out, Problem{Line: i + 1, Col: c + 1, Msg: "unknown generator `sinus`; did you mean `sine`?"})
		}
	}
	return out
}

func (e *fakeEngine) Preview(yaml string, device, n int) ([]PreviewMsg, error) {
	var out []PreviewMsg
	for i := range n {
		out = append(out, PreviewMsg{
			Topic:   fmt.Sprintf("plant/dev-%d/temp", device),
			Payload: fmt.Sprintf(`{"temp":%d.5}`, 20+i),
			At:      time.Duration(i) * 1500 * time.Millisecond,
		})
	}
	return out, nil
}

func (e *fakeEngine) Targets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.targets...)
}

func (e *fakeEngine) Start(ctx context.Context, yaml string, count int, target string) (Run, error) {
	e.mu.Lock()
	gate := e.gate
	e.mu.Unlock()
	if gate != nil {
		<-gate
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.starts = append(e.starts, startCall{yaml, count, target})
	if e.startErr != nil {
		return nil, e.startErr
	}
	r := newFakeRun(count)
	context.AfterFunc(ctx, r.Stop)
	e.runs = append(e.runs, r)
	return r, nil
}

func (e *fakeEngine) Infer(filter string, since time.Duration) (string, string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inferredSince = since
	return e.inferYAML, fmt.Sprintf("inferred from %s over %s", filter, since), nil
}

func (e *fakeEngine) SaveProfile(name, yaml string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.saved[name] = yaml
	e.profiles = append(e.profiles, ProfileEntry{Name: name, Source: "/home/me/" + name + ".yaml", YAML: yaml})
	return nil
}

func (e *fakeEngine) get(fn func(e *fakeEngine)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(e)
}

// lastRun is the run the last Start returned, nil if none.
func (e *fakeEngine) lastRun() *fakeRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.runs) == 0 {
		return nil
	}
	return e.runs[len(e.runs)-1]
}

// fakeRun plays a fleet whose stats and devices the test sets.
type fakeRun struct {
	mu       sync.Mutex
	stats    FleetStats
	devices  []DeviceRow
	state    map[string]map[string]any
	kills    []string
	commands []string
	stops    int
	pauses   int
	resumes  int
	done     chan struct{}
	once     sync.Once
}

func newFakeRun(count int) *fakeRun {
	return &fakeRun{stats: FleetStats{Wanted: count, Ramping: true}, done: make(chan struct{}), state: map[string]map[string]any{}}
}

func (r *fakeRun) set(fn func(r *fakeRun)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r)
}

func (r *fakeRun) Stats() FleetStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *fakeRun) Devices() []DeviceRow {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]DeviceRow(nil), r.devices...)
}

func (r *fakeRun) Pause() { r.set(func(r *fakeRun) { r.pauses++ }) }

func (r *fakeRun) Resume() { r.set(func(r *fakeRun) { r.resumes++ }) }

func (r *fakeRun) Stop() {
	r.set(func(r *fakeRun) { r.stops++ })
	r.once.Do(func() { close(r.done) })
}

func (r *fakeRun) Kill(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kills = append(r.kills, id)
	return nil
}

func (r *fakeRun) Command(id, topic, payload string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commands = append(r.commands, id+" "+topic+" "+payload)
	return nil
}

func (r *fakeRun) DeviceState(id string) (map[string]any, []PreviewMsg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state[id], []PreviewMsg{{Topic: "plant/" + id + "/temp", Payload: `{"temp":21.5}`}}
}

func (r *fakeRun) Done() <-chan struct{} { return r.done }

func (r *fakeRun) Err() error { return nil }

func (r *fakeRun) calls(fn func(r *fakeRun)) { r.set(fn) }

type harness struct {
	win   fyne.Window
	panel *Panel
	eng   *fakeEngine
	q     uitest.Queue
	stop  func() error
}

// newHarness builds the panel over eng in a test window and runs its
// Serve, with a short debounce and refresh so tests do not wait.
func newHarness(t *testing.T, eng *fakeEngine) *harness {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	q := uitest.NewQueue()
	p := New(eng, w, Options{Do: q.Do})
	p.debounce = 5 * time.Millisecond
	p.interval = 5 * time.Millisecond
	w.SetContent(p.Content())
	w.Resize(fyne.NewSize(900, 720))
	h := &harness{win: w, panel: p, eng: eng, q: q}
	h.stop = q.Serve(t, p.Serve)
	return h
}

// ready waits until the first profile is loaded and checked valid.
func (h *harness) ready(t *testing.T) {
	t.Helper()
	p := h.panel
	h.q.Until(t, "the first profile loaded and valid", func() bool {
		return p.ed.text.Text == goodYAML && !p.ctl.start.Disabled()
	})
}

// started taps Start and waits for the run to be on.
func (h *harness) started(t *testing.T) *fakeRun {
	t.Helper()
	test.Tap(h.panel.ctl.start)
	h.q.Until(t, "the run started", func() bool { return h.panel.phase == running })
	return h.eng.lastRun()
}

func (h *harness) cell(name string) string {
	for _, c := range h.panel.st.cells {
		if c.name == name {
			return c.text.Text
		}
	}
	return "(no cell " + name + ")"
}

// listedProblems is what the Problems tab lists, one row per problem.
func listedProblems(p *Panel) []string {
	var out []string
	for i := range p.ed.problems.Length() {
		o := p.ed.problems.CreateItem()
		p.ed.problems.UpdateItem(i, o)
		out = append(out, o.(*widget.Label).Text)
	}
	return out
}

func (e *fakeEngine) inferredSinceIs(d time.Duration) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inferredSince == d
}
