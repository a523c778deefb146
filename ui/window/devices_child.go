package window

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
	"github.com/iotstudio/iotstudio/engine/sim/remote"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/ui/devices"
)

// FleetCommand makes the command line of this program with the given
// arguments (os.Executable's), so the window can run fleets of virtual
// devices as `simulate run --control` in a process of their own.
type FleetCommand func(args ...string) *exec.Cmd

// childRun is a fleet running in its own process, driven over
// engine/sim/remote. The window's process keeps the broker's end of each
// device's connection only; it still counts delivery and latency itself,
// from what its broker (or a connection) sees of the devices' messages.
type childRun struct {
	c   *remote.Client
	obs *fleet.Observer
	// delivered is obs's count as of the fleets' last stats lines.
	delivered atomic.Pointer[fleet.Observed]
	linesAt   map[string]time.Time // each fleet's last line's Time; the reading goroutine's only
	done      chan struct{}
	err       error // set before done closes
	cancel    context.CancelFunc

	mu     sync.Mutex
	rows   []devices.DeviceRow // the last list read, shown while a new one is slow
	rowsAt time.Time
}

// Timeouts of the window's calls into the fleet's process. A call that
// runs out shows the last answer; stopping thousands of devices
// gracefully takes a while, after which the process is killed.
const (
	childCallTimeout = 5 * time.Second
	childStopGrace   = time.Minute
)

// startChildRun runs the compiled file's fleets (text as the editor has
// it) in a process of their own, connected to target by its arguments.
func startChildRun(ctx context.Context, eng *studio.Studio, cmd FleetCommand, text string, sc *device.Scenario,
	count int, targetArgs []string, embedded bool, dataDir string) (*childRun, error) {
	file, err := os.CreateTemp("", "iotstudio-fleet-*.yaml")
	if err != nil {
		return nil, fmt.Errorf("write the scenario for the fleet's process: %w", err)
	}
	defer file.Close()
	if _, err := file.WriteString(text); err != nil {
		os.Remove(file.Name())
		return nil, fmt.Errorf("write the scenario for the fleet's process: %w", err)
	}
	args := append([]string{"simulate", "run", file.Name(), "--control", "--stats", "1s", "--data", dataDir}, targetArgs...)
	if count > 0 {
		args = append(args, "--count", strconv.Itoa(count))
	}
	r := &childRun{obs: fleet.NewObserver(sc.ClientIDs()), linesAt: map[string]time.Time{}, done: make(chan struct{})}
	c, err := remote.Start(cmd(args...), remote.OnStats(r.statsArrived))
	if err != nil {
		os.Remove(file.Name())
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r.c, r.cancel = c, cancel
	stopObserving, _ := observe(eng, r.obs, embedded)
	go func() {
		defer close(r.done)
		defer os.Remove(file.Name())
		select {
		case <-ctx.Done():
			c.Stop(childStopGrace)
			<-c.Done()
		case <-c.Done():
		}
		if embedded {
			awaitGone(eng, sc)
		}
		if stopObserving != nil {
			stopObserving()
		}
		r.err = c.Err()
	}()
	return r, nil
}

func (r *childRun) Stats() devices.FleetStats {
	lines := r.c.Stats()
	all := make([]fleet.Stats, len(lines))
	for i, l := range lines {
		all[i] = l.Counters()
	}
	out := sumFleets(all)
	// The window counts delivery itself (the child cannot see its tap),
	// as it was when the stats lines' counters were read: counted now, it
	// ran up to a line's interval of traffic ahead of Sent.
	if o := r.delivered.Load(); o != nil && o.Delivered > 0 {
		out.LatencyKnown = true
		out.Delivered, out.Lost, out.LatencyP50, out.LatencyP99 = o.Delivered, o.Lost, o.LatencyP50, o.LatencyP99
	}
	out.Ramping = out.Connected < out.Wanted && r.running()
	return out
}

// statsArrived keeps the window's delivery count as of the oldest of the
// fleets' last lines, to show beside the sum of their Sent: deliveries
// counted at the line's arrival (5 of 1,781 with 200 plugs) had been sent
// after the child read Sent.
func (r *childRun) statsArrived(st remote.Stats) {
	o := r.obs.Counts()
	if at, err := time.Parse(time.RFC3339Nano, st.Time); err == nil {
		r.linesAt[st.Fleet] = at
	}
	var oldest time.Time
	for _, at := range r.linesAt {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	if !oldest.IsZero() {
		o.Delivered = r.obs.DeliveredBy(oldest)
	}
	r.delivered.Store(&o)
}

func (r *childRun) running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// rowsPerSecond paces reading the device list: the panel asks twice a
// second, and a list of 10,000 rows is a megabyte of JSON for both
// processes, so it is read again only after len/rowsPerSecond seconds
// (every time below 2,500 devices, every 2 s at 10,000).
const rowsPerSecond = 5000

func (r *childRun) Devices() []devices.DeviceRow {
	r.mu.Lock()
	if len(r.rows) > 0 && time.Since(r.rowsAt) < time.Duration(len(r.rows))*time.Second/rowsPerSecond {
		defer r.mu.Unlock()
		return r.rows
	}
	r.mu.Unlock()
	rep, err := r.c.Call(remote.Request{Op: remote.OpDevices}, childCallTimeout)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		return r.rows
	}
	rows := make([]devices.DeviceRow, len(rep.Devices))
	for i, d := range rep.Devices {
		rows[i] = devices.DeviceRow{ID: d.ID, ClientID: d.ClientID, State: stateFromWord(d.State), Sent: d.Sent, LastError: d.LastError}
	}
	r.rows, r.rowsAt = rows, time.Now()
	return rows
}

// stateFromWord is the panel's state for a fleet.State's word.
func stateFromWord(w string) string {
	for s := fleet.Waiting; s <= fleet.Stopped; s++ {
		if s.String() == w {
			return stateWord(s)
		}
	}
	return devices.StateOffline
}

func (r *childRun) Pause()  { r.call(remote.Request{Op: remote.OpPause}) }
func (r *childRun) Resume() { r.call(remote.Request{Op: remote.OpResume}) }

// call makes a request whose failure the panel cannot show: the run has
// ended (its end is shown) or does not answer (its stats stop moving).
func (r *childRun) call(req remote.Request) { _, _ = r.c.Call(req, childCallTimeout) }

func (r *childRun) Stop()                 { r.cancel() }
func (r *childRun) Done() <-chan struct{} { return r.done }

func (r *childRun) Err() error {
	select {
	case <-r.done:
		return r.err
	default:
		return nil
	}
}

func (r *childRun) Kill(id string) error {
	_, err := r.c.Call(remote.Request{Op: remote.OpKill, Device: id}, childCallTimeout)
	return err
}

func (r *childRun) Command(id, topic, payload string) error {
	_, err := r.c.Call(remote.Request{Op: remote.OpCommand, Device: id, Topic: topic, Payload: []byte(payload)}, childCallTimeout)
	return err
}

func (r *childRun) DeviceState(id string) (map[string]any, []devices.PreviewMsg) {
	rep, err := r.c.Call(remote.Request{Op: remote.OpDetail, Device: id}, childCallTimeout)
	if err != nil {
		return nil, nil
	}
	last := make([]devices.PreviewMsg, len(rep.Last))
	for i, m := range rep.Last {
		last[i] = devices.PreviewMsg{Topic: m.Topic, Payload: payloadText(m.Payload), At: remote.Duration(m.AtMS)}
	}
	return rep.State, last
}
