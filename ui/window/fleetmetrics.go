package window

import (
	"sync"

	"github.com/iotstudio/iotstudio/engine/sim/fleet"
)

// fleetsReader is a run of the Devices panel as the window's Prometheus
// metrics read it (engine/metrics Sources.Fleets).
type fleetsReader interface {
	fleets() []fleet.Stats
	running() bool
}

// runningFleets keeps the Devices panel's runs for the metrics: the
// simulated devices connected and their message rate, as the issue asks
// of the window as of `simulate run --metrics`.
type runningFleets struct {
	mu   sync.Mutex
	runs []fleetsReader
}

func (f *runningFleets) add(r fleetsReader) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, r)
}

// stats reads the runs still running, forgetting the others.
func (f *runningFleets) stats() []fleet.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fleet.Stats
	live := f.runs[:0]
	for _, r := range f.runs {
		if r.running() {
			live = append(live, r)
			out = append(out, r.fleets()...)
		}
	}
	clear(f.runs[len(live):])
	f.runs = live
	return out
}

func (r *simRun) fleets() []fleet.Stats {
	out := make([]fleet.Stats, len(r.runners))
	for i, runner := range r.runners {
		out[i] = runner.Stats()
	}
	return out
}

// fleets are the child's counters; the window's own tap counts delivery
// for the run as a whole, so it is told only where the run is one fleet,
// as it was when the child's counters arrived (see childRun.Stats).
func (r *childRun) fleets() []fleet.Stats {
	lines := r.c.Stats()
	out := make([]fleet.Stats, len(lines))
	for i, l := range lines {
		out[i] = l.Counters()
	}
	if o := r.delivered.Load(); len(out) == 1 && o != nil && o.Delivered > 0 {
		out[0].Observed, out[0].Delivered, out[0].Lost = true, o.Delivered, o.Lost
	}
	return out
}
