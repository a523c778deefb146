package devices

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/uitest"
)

func TestInvalidScenarioShowsLineColAndDisablesStart(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	p := h.panel
	h.ready(t)

	p.ed.text.SetText(badYAML)
	h.q.Until(t, "the problem under the editor", func() bool {
		return strings.Contains(p.ed.first.Text, "line 10, col 18: unknown generator `sinus`")
	})
	if !p.ctl.start.Disabled() {
		t.Error("Start stays enabled with an invalid scenario")
	}
	if got := listedProblems(p); len(got) != 1 || !strings.HasPrefix(got[0], "line 10, col 18: ") || p.ed.probTab.Text != "Problems (1)" {
		t.Errorf("problems list %q titled %q, want the line:col listed under Problems (1)", got, p.ed.probTab.Text)
	}
	p.ed.problems.Select(0)
	if p.ed.text.CursorRow != 9 || p.ed.text.CursorColumn != 17 {
		t.Errorf("selecting the problem put the cursor at row %d col %d (0-based), want 9, 17", p.ed.text.CursorRow, p.ed.text.CursorColumn)
	}
	if !strings.Contains(p.ctl.status.Text, "Fix the scenario") {
		t.Errorf("run status %q does not say why Start is disabled", p.ctl.status.Text)
	}

	p.ed.text.SetText(goodYAML)
	h.q.Until(t, "Start enabled again", func() bool { return !p.ctl.start.Disabled() })
	if p.ed.first.Text != "Valid." || len(listedProblems(p)) != 0 || p.ctl.status.Text != "" {
		t.Errorf("after the fix: editor line %q, problems %q, run status %q", p.ed.first.Text, listedProblems(p), p.ctl.status.Text)
	}
}

func TestTypingIsCheckedOnceItPauses(t *testing.T) {
	eng := newFakeEngine()
	h := newHarness(t, eng)
	p := h.panel
	h.ready(t)
	p.debounce = time.Hour // nothing is checked while the person types

	eng.get(func(e *fakeEngine) { e.validated = nil })
	for _, s := range []string{"f", "fl", "fle"} {
		p.ed.text.SetText(s)
	}
	h.q.Drain()
	eng.get(func(e *fakeEngine) {
		if len(e.validated) != 0 {
			t.Errorf("validated %q while typing, want nothing before the pause", e.validated)
		}
	})
	if p.ed.first.Text != "Checking…" {
		t.Errorf("editor line %q while a check is pending, want Checking…", p.ed.first.Text)
	}
}

func TestPreviewShowsDeviceZerosNextPayloads(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	p := h.panel
	h.ready(t)
	h.q.Until(t, "the preview", func() bool { return strings.Contains(p.ed.preview.Text, `{"temp":20.5}`) })
	for _, want := range []string{"plant/dev-0/temp", `{"temp":24.5}`, "+1.5 s  plant/dev-0/temp"} {
		if !strings.Contains(p.ed.preview.Text, want) {
			t.Errorf("preview %q lacks %q", p.ed.preview.Text, want)
		}
	}

	p.ed.text.SetText(badYAML)
	h.q.Until(t, "the preview withdrawn", func() bool { return strings.HasPrefix(p.ed.preview.Text, "No preview") })
}

func TestEmptyFleetSizeKeepsTheFilesCounts(t *testing.T) {
	eng := newFakeEngine()
	h := newHarness(t, eng)
	h.ready(t)
	h.started(t)
	eng.get(func(e *fakeEngine) {
		if len(e.starts) != 1 || e.starts[0].count != 0 || e.starts[0].target != "Embedded broker" {
			t.Errorf("Start calls %+v, want one with count 0 (the file's) on the embedded broker", e.starts)
		}
	})
	if !strings.Contains(h.panel.ctl.status.Text, "the file's fleets") {
		t.Errorf("status %q", h.panel.ctl.status.Text)
	}
}

func TestStartPassesCountTargetAndText(t *testing.T) {
	eng := newFakeEngine()
	h := newHarness(t, eng)
	p := h.panel
	h.ready(t)

	p.ctl.count.SetText("2,500")
	p.ctl.target.SetSelected("Plant broker")
	h.started(t)
	eng.get(func(e *fakeEngine) {
		want := []startCall{{goodYAML, 2500, "Plant broker"}}
		if !slices.Equal(e.starts, want) {
			t.Errorf("Start calls %+v, want %+v", e.starts, want)
		}
	})
	if !p.ctl.start.Disabled() || p.ctl.stop.Disabled() || p.ctl.pause.Disabled() {
		t.Errorf("while running: start disabled %v, stop disabled %v, pause disabled %v; want only Start disabled",
			p.ctl.start.Disabled(), p.ctl.stop.Disabled(), p.ctl.pause.Disabled())
	}
}

func TestBadFleetSizeDisablesStart(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	p := h.panel
	h.ready(t)
	for _, bad := range []string{"0", "ten", "-3", "2000000"} {
		p.ctl.count.SetText(bad)
		if !p.ctl.start.Disabled() || !strings.Contains(p.ctl.status.Text, "fleet size") {
			t.Errorf("fleet size %q: Start disabled %v, status %q", bad, p.ctl.start.Disabled(), p.ctl.status.Text)
		}
	}
	for _, good := range []string{"12", ""} {
		p.ctl.count.SetText(good)
		if p.ctl.start.Disabled() {
			t.Errorf("Start disabled with fleet size %q", good)
		}
	}
}

func TestStartErrorIsShown(t *testing.T) {
	eng := newFakeEngine()
	eng.startErr = errors.New("connect to Plant broker: connection refused; is it running?")
	h := newHarness(t, eng)
	p := h.panel
	h.ready(t)
	test.Tap(p.ctl.start)
	h.q.Until(t, "the error", func() bool { return strings.Contains(p.ctl.status.Text, "connection refused") })
	if p.ctl.start.Disabled() || p.phase != idle {
		t.Errorf("after a failed start: Start disabled %v, phase %v", p.ctl.start.Disabled(), p.phase)
	}
}

func TestStatsAppearAndUpdate(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	p := h.panel
	h.ready(t)
	if got := h.cell("Connected"); got != unknown {
		t.Errorf("before any run Connected shows %q, want %q", got, unknown)
	}
	r := h.started(t)

	r.set(func(r *fakeRun) {
		r.stats = FleetStats{Wanted: 10, Connected: 3, Ramping: true, Sent: 1234, Rate: 12.5, Errors: 2,
			LastError: "device d-4: not authorised by the broker (check the username)", Reconnects: 1,
			LagP50: 2 * time.Millisecond, LagP99: 40 * time.Millisecond}
	})
	h.q.Until(t, "the ramp's progress", func() bool { return h.cell("Connected") == "3 / 10" })
	if v := p.st.progress.Value; v < 0.29 || v > 0.31 {
		t.Errorf("progress %.2f, want 0.3", v)
	}
	if got := p.progressText(); got != "3 of 10 devices connected" {
		t.Errorf("progress text %q", got)
	}
	for name, want := range map[string]string{
		"Msg/s": "13", "Sent": "1,234", "Errors": "2", "Reconnects": "1",
		"Lag p50/p99": "2.0 ms / 40 ms",
	} {
		if got := h.cell(name); got != want {
			t.Errorf("%s shows %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(p.st.lastErr.Text, "not authorised by the broker") {
		t.Errorf("last error line %q", p.st.lastErr.Text)
	}

	r.set(func(r *fakeRun) { r.stats.Connected, r.stats.Ramping, r.stats.Sent = 10, false, 5000 })
	h.q.Until(t, "the stats updated", func() bool { return h.cell("Connected") == "10 / 10" && h.cell("Sent") == "5,000" })
	if p.st.progress.Value != 1 {
		t.Errorf("progress %.2f after the ramp, want 1", p.st.progress.Value)
	}
	if len(p.rates) == 0 || len(p.st.chart.pts) == 0 {
		t.Error("the rate chart got no point")
	}
}

func TestUnknownLatencyShowsDash(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	h.ready(t)
	r := h.started(t)
	r.set(func(r *fakeRun) { r.stats = FleetStats{Wanted: 5, Connected: 5, Sent: 50} })
	h.q.Until(t, "stats", func() bool { return h.cell("Sent") == "50" })
	for _, name := range []string{"Delivered/lost", "Latency p50/p99"} {
		if got := h.cell(name); got != unknown {
			t.Errorf("%s shows %q while not measured, want %q", name, got, unknown)
		}
	}

	r.set(func(r *fakeRun) {
		r.stats.LatencyKnown, r.stats.Delivered, r.stats.Lost = true, 49, 1
		r.stats.LatencyP50, r.stats.LatencyP99 = 3*time.Millisecond, 12*time.Millisecond
	})
	h.q.Until(t, "latency shown", func() bool { return h.cell("Latency p50/p99") == "3.0 ms / 12 ms" })
	if got := h.cell("Delivered/lost"); got != "49 / 1 (2 %)" {
		t.Errorf("Delivered / lost shows %q", got)
	}
}

// selectDeviceRow starts a run with three devices and selects the second.
func selectDeviceRow(t *testing.T, h *harness) *fakeRun {
	t.Helper()
	p := h.panel
	h.ready(t)
	r := h.started(t)
	r.set(func(r *fakeRun) {
		r.devices = []DeviceRow{
			{ID: "d-0", ClientID: "sim-d-0", State: StateOnline, Sent: 4},
			{ID: "d-1", ClientID: "sim-d-1", State: StateReconnecting, Sent: 3, LastError: "connection reset"},
			{ID: "d-2", ClientID: "sim-d-2", State: StateOffline},
		}
		r.state["d-1"] = map[string]any{"setpoint": 21.5, "relay": true}
	})
	h.q.Until(t, "three devices listed", func() bool { return len(p.rows) == 3 && p.dev.head.Text == "Devices (3)" })
	if got := cellText(p.rows[1], colState); got != StateReconnecting {
		t.Errorf("state column %q", got)
	}
	p.dev.table.Select(widget.TableCellID{Row: 1, Col: 0})
	h.q.Until(t, "d-1's detail", func() bool { return strings.Contains(p.dev.state.Text, "setpoint = 21.5") })
	if p.dev.title.Text != "Device d-1" || !strings.Contains(p.dev.last.Text, "plant/d-1/temp") {
		t.Errorf("detail titled %q with last messages %q", p.dev.title.Text, p.dev.last.Text)
	}
	return r
}

func TestKillCallsRunKillWithSelectedDevice(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	p := h.panel
	r := selectDeviceRow(t, h)
	test.Tap(p.dev.kill)
	h.q.Until(t, "the kill reported", func() bool { return strings.Contains(p.dev.result.Text, "will") })
	r.calls(func(r *fakeRun) {
		if !slices.Equal(r.kills, []string{"d-1"}) {
			t.Errorf("Kill calls %q, want [d-1]", r.kills)
		}
	})
}

func TestCommandIsSentToSelectedDevice(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	p := h.panel
	r := selectDeviceRow(t, h)
	p.dev.topic.SetText("plant/d-1/cmd")
	p.dev.payload.SetText(`{"setpoint":19}`)
	test.Tap(p.dev.send)
	h.q.Until(t, "the command reported", func() bool { return strings.HasPrefix(p.dev.result.Text, "Sent to d-1") })
	r.calls(func(r *fakeRun) {
		if want := []string{`d-1 plant/d-1/cmd {"setpoint":19}`}; !slices.Equal(r.commands, want) {
			t.Errorf("Command calls %q, want %q", r.commands, want)
		}
	})
}

func TestPauseResume(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	p := h.panel
	h.ready(t)
	r := h.started(t)
	test.Tap(p.ctl.pause)
	if p.ctl.pause.Text != "Resume" {
		t.Errorf("after Pause the button reads %q, want Resume", p.ctl.pause.Text)
	}
	test.Tap(p.ctl.pause)
	h.q.Until(t, "pause and resume reach the run", func() bool {
		var n int
		r.calls(func(r *fakeRun) { n = r.pauses*10 + r.resumes })
		return n == 11
	})
	if p.ctl.pause.Text != "Pause" {
		t.Errorf("after Resume the button reads %q, want Pause", p.ctl.pause.Text)
	}
}

func TestStopEndsRunAndReenablesStart(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	p := h.panel
	h.ready(t)
	r := h.started(t)
	r.set(func(r *fakeRun) { r.stats = FleetStats{Wanted: 5000, Connected: 1200, Ramping: true} })
	h.q.Until(t, "the ramp shown", func() bool { return h.cell("Connected") == "1,200 / 5,000" })

	test.Tap(p.ctl.stop)
	h.q.Until(t, "Start enabled again", func() bool { return !p.ctl.start.Disabled() })
	r.calls(func(r *fakeRun) {
		if r.stops != 1 {
			t.Errorf("Run.Stop called %d times, want 1", r.stops)
		}
	})
	if p.ctl.status.Text != "Stopped." || !p.ctl.stop.Disabled() || !p.ctl.pause.Disabled() {
		t.Errorf("after Stop: status %q, stop disabled %v, pause disabled %v", p.ctl.status.Text, p.ctl.stop.Disabled(), p.ctl.pause.Disabled())
	}
	if !p.dev.kill.Disabled() {
		t.Error("Kill stays enabled with no run")
	}
}

func TestServeEndStopsTheRun(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	h.ready(t)
	r := h.started(t)
	if err := h.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	select {
	case <-r.Done():
	default:
		t.Error("the run outlived the panel's Serve")
	}
}

func TestInferFillsTheEditor(t *testing.T) {
	eng := newFakeEngine()
	eng.inferYAML = strings.Replace(goodYAML, "greenhouse", "inferred", 1)
	h := newHarness(t, eng)
	p := h.panel
	h.ready(t)
	p.infer("plant/#", time.Hour)
	h.q.Until(t, "the inferred profile checked", func() bool {
		return p.ed.text.Text == eng.inferYAML && p.checked == eng.inferYAML && p.ed.first.Text == "Valid."
	})
}

func TestSaveAsAddsToProfiles(t *testing.T) {
	eng := newFakeEngine()
	h := newHarness(t, eng)
	p := h.panel
	h.ready(t)
	p.save("greenhouse-v2")
	h.q.Until(t, "the saved profile listed", func() bool { return len(p.profiles) == 3 })
	eng.get(func(e *fakeEngine) {
		if e.saved["greenhouse-v2"] != goodYAML {
			t.Errorf("saved %q", e.saved)
		}
	})
}

func TestPickingAProfileAsksBeforeDroppingEdits(t *testing.T) {
	h := newHarness(t, newFakeEngine())
	p := h.panel
	h.ready(t)
	edited := goodYAML + "# my change\n"
	p.ed.text.SetText(edited)

	p.ed.list.Select(1)
	if p.ed.text.Text != edited {
		t.Fatal("picking a profile dropped the editor's unsaved changes without asking")
	}
	test.Tap(uitest.OverlayButton(t, h.win, "Yes"))
	if want := h.eng.Profiles()[1].YAML; p.ed.text.Text != want {
		t.Errorf("after Yes the editor holds %q, want my-plug's profile", p.ed.text.Text)
	}
}

func TestStopWhileStartingEndsTheRun(t *testing.T) {
	eng := newFakeEngine()
	eng.gate = make(chan struct{})
	h := newHarness(t, eng)
	p := h.panel
	h.ready(t)
	test.Tap(p.ctl.start)
	if p.ctl.stop.Disabled() {
		t.Fatal("Stop disabled while the fleet starts")
	}
	test.Tap(p.ctl.stop)
	close(eng.gate)
	h.q.Until(t, "Start enabled again", func() bool { return !p.ctl.start.Disabled() })
	r := eng.lastRun()
	r.calls(func(r *fakeRun) {
		if r.stops != 1 {
			t.Errorf("Run.Stop called %d times, want 1: the run started after Stop was pressed goes on", r.stops)
		}
	})
	if p.ctl.status.Text != "Stopped." {
		t.Errorf("status %q, want Stopped.", p.ctl.status.Text)
	}
}

func TestSaveAsAsksBeforeReplacingMyProfile(t *testing.T) {
	eng := newFakeEngine()
	h := newHarness(t, eng)
	p := h.panel
	h.ready(t)
	p.confirmSave("my-plug")
	eng.get(func(e *fakeEngine) {
		if len(e.saved) != 0 {
			t.Fatalf("saved over my-plug without asking: %q", e.saved)
		}
	})
	test.Tap(uitest.OverlayButton(t, h.win, "Yes"))
	h.q.Until(t, "the save reported", func() bool { return strings.HasPrefix(p.ed.first.Text, "Saved as") })
	eng.get(func(e *fakeEngine) {
		if e.saved["my-plug"] != goodYAML {
			t.Errorf("saved %q, want my-plug replaced by the editor's text", e.saved)
		}
	})
}

func TestRefreshTargetsFollowsSavedConnections(t *testing.T) {
	eng := newFakeEngine()
	h := newHarness(t, eng)
	p := h.panel
	h.ready(t)
	p.ctl.target.SetSelected("Plant broker")

	eng.get(func(e *fakeEngine) { e.targets = []string{"Embedded broker", "Plant broker", "AWS IoT"} })
	p.RefreshTargets()
	h.q.Until(t, "the new target offered", func() bool { return slices.Contains(p.ctl.target.Options, "AWS IoT") })
	if p.ctl.target.Selected != "Plant broker" {
		t.Errorf("the chosen target changed to %q", p.ctl.target.Selected)
	}

	eng.get(func(e *fakeEngine) { e.targets = []string{"Embedded broker"} })
	p.RefreshTargets()
	h.q.Until(t, "the deleted target gone", func() bool { return len(p.ctl.target.Options) == 1 })
	if p.ctl.target.Selected != "Embedded broker" {
		t.Errorf("after its connection was deleted the target is %q, want the embedded broker", p.ctl.target.Selected)
	}
}
