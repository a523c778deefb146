//go:build linux

package explorer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/builtin"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
	"github.com/iotstudio/iotstudio/engine/sim/remote"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// startChildFleet runs the fleet as the window's Devices panel does:
// `iotstudio simulate run --control` in its own process against the
// window's broker, so the window's process holds the broker's end of each
// connection only. Like the panel with 10,000 devices, it reads the
// device list every 2 s (pollLikeThePanel); delivery is counted by the
// window's tap (stream messages carry sim-seq).
func startChildFleet(b *testing.B, bin, addr string, n int) *remote.Client {
	e, err := builtin.Lookup(fleetProfile)
	if err != nil {
		b.Fatal(err)
	}
	yaml := bytes.Replace(e.YAML, []byte("every: 5s"), []byte("every: 1s"), 1)
	file := filepath.Join(b.TempDir(), fleetProfile+".yaml")
	if err := os.WriteFile(file, yaml, 0o600); err != nil {
		b.Fatal(err)
	}
	c, err := remote.Start(exec.Command(bin, "simulate", "run", file, "--control", "--url", "mqtt://"+addr,
		"--count", strconv.Itoa(n), "--ramp", strconv.FormatFloat(*fleetRamp, 'f', -1, 64)+"/s",
		"--seed", "1", "--stats", "1s"))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// pollLikeThePanel reads the device list every 2 s until ctx ends, as
// the Devices panel does while a run of 10,000 devices is live
// (ui/window's childRun.Devices).
func pollLikeThePanel(ctx context.Context, c *remote.Client) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = c.Call(remote.Request{Op: remote.OpDevices}, 5*time.Second)
		}
	}
}

// childStats is the child's fleet's latest stats line (the benchmark runs
// one fleet).
func childStats(c *remote.Client) fleet.Stats {
	lines := c.Stats()
	if len(lines) == 0 {
		return fleet.Stats{}
	}
	return lines[0].Counters()
}

// seqTap counts the stream messages (those with sim-seq) the broker
// delivered, so the child's sent can be checked against them.
type seqTap struct {
	all, streams atomic.Uint64
	obs          atomic.Pointer[fleet.Observer] // latency, as the window measures it
}

// Stats gives measureWindow the messages delivered so far as sent: the
// child's own counters arrive once a second.
func (t *seqTap) Stats() fleet.Stats { return fleet.Stats{Sent: t.streams.Load()} }

func (t *seqTap) Ingest(m message.Message) bool {
	t.all.Add(1)
	for _, p := range m.UserProps {
		if p.Key == fleet.PropSeq {
			t.streams.Add(1)
			break
		}
	}
	if o := t.obs.Load(); o != nil {
		o.Ingest(m)
	}
	return true
}

func runChildFleet(b *testing.B, bin string) {
	n := *fleetDevices
	f := climateFleet(b, n) // the child's devices, for their identities
	ids := make([]string, n)
	for i := range n {
		_, ids[i] = f.Identity(i)
	}
	tap := &seqTap{}
	tap.obs.Store(fleet.NewObserver(ids))
	w := startWindow(b, tap)
	ctx := w.ctx
	c := startChildFleet(b, bin, w.br.Addr, n)
	pctx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go pollLikeThePanel(pctx, c)
	opened := make(chan error, 1)
	go func() { opened <- openDevice(ctx, w, f.NewDevice(0)) }()

	rampStart := time.Now()
	rampBudget := time.Duration(float64(n) / *fleetRamp * float64(time.Second)) + 2*time.Minute
	testkit.WithinErr(b, rampBudget, fmt.Sprintf("%d devices to connect", n), func() error {
		if st := childStats(c); st.Connected < n {
			return fmt.Errorf("%d connected, %d errors, last: %s", st.Connected, st.Errors, st.LastError)
		}
		return nil
	})
	ramp := time.Since(rampStart)
	if err := <-opened; err != nil {
		b.Fatal(err)
	}
	win := measureWindow(tap, *fleetFor)

	stopPolling()
	c.Stop(time.Minute)
	select {
	case <-c.Done():
	case <-time.After(2 * time.Minute):
		b.Fatal("simulate run did not stop")
	}
	if err := c.Err(); err != nil {
		b.Errorf("simulate run: %v", err)
	}
	fst := childStats(c)
	// Every stream message the child sent must reach the window's broker.
	testkit.WithinErr(b, 30*time.Second, "the devices' messages to be delivered", func() error {
		if got := tap.streams.Load(); got < fst.Sent {
			return fmt.Errorf("%d sent, %d delivered", fst.Sent, got)
		}
		return nil
	})
	fst.Delivered = tap.streams.Load()
	o := tap.obs.Load().Counts()
	fst.Lost, fst.LatencyP50, fst.LatencyP99 = o.Lost, o.LatencyP50, o.LatencyP99
	w.waitModel(b, tap.all.Load())
	st, bst, cst := w.stop(b)
	rf := w.refreshesIn(win.start, win.start.Add(win.elapsed))
	if len(rf.starts) < 2 {
		b.Fatalf("the tree refreshed %d times", len(rf.starts))
	}
	if !w.wasSelected() {
		b.Error("no topic was selected during the load")
	}
	win.report(b, rf, fst)
	b.ReportMetric(ramp.Seconds(), "s-ramp")
	reportDrops(b, st, bst, cst)
	b.Logf("%d devices connected in %v (fleet in its own process)", n, ramp.Round(time.Millisecond))
	if d := st.Dropped + st.OverLimit + uint64(cst.Dropped) + uint64(bst.Dropped); d > 0 {
		b.Errorf("%d messages dropped (model %d, capture %d, broker %d)", d, st.Dropped+st.OverLimit, cst.Dropped, bst.Dropped)
	}
	if fst.Sent != fst.Delivered || fst.Lost != 0 || o.Delivered != fst.Delivered {
		b.Errorf("the fleet sent %d messages; the broker's tap saw %d, the window's observer %d and %d lost", fst.Sent, fst.Delivered, o.Delivered, fst.Lost)
	}
}
