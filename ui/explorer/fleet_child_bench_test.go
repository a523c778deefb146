//go:build linux

package explorer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/builtin"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// childFleet runs the fleet as `iotstudio simulate run` in its own
// process against the window's broker, the way the Devices panel runs
// large fleets: the window's process then holds the broker's end of each
// connection only. Its counters come from the child's JSON Lines stats;
// delivery is counted by the window's tap (stream messages carry sim-seq).
type childFleet struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan error

	mu   sync.Mutex
	last fleet.Stats
	seen chan struct{} // closed by the first stats line
}

func startChildFleet(b *testing.B, bin, addr string, n int) *childFleet {
	e, err := builtin.Lookup(fleetProfile)
	if err != nil {
		b.Fatal(err)
	}
	yaml := bytes.Replace(e.YAML, []byte("every: 5s"), []byte("every: 1s"), 1)
	file := filepath.Join(b.TempDir(), fleetProfile+".yaml")
	if err := os.WriteFile(file, yaml, 0o600); err != nil {
		b.Fatal(err)
	}
	c := &childFleet{done: make(chan error, 1), seen: make(chan struct{})}
	c.cmd = exec.Command(bin, "simulate", "run", file, "--url", "mqtt://"+addr,
		"--count", strconv.Itoa(n), "--ramp", strconv.FormatFloat(*fleetRamp, 'f', -1, 64)+"/s",
		"--seed", "1", "--stats", "1s", "--format", "jsonl")
	c.cmd.Stderr = os.Stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		b.Fatalf("start %s simulate run: %v", bin, err)
	}
	go c.read(out)
	return c
}

func (c *childFleet) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	var once sync.Once
	for sc.Scan() {
		var m struct {
			Connected, Wanted int
			Sent, Errors      uint64
			Reconnects        uint64
			P50               float64 `json:"lag_p50_ms"`
			P99               float64 `json:"lag_p99_ms"`
			LastError         string  `json:"last_error"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		c.mu.Lock()
		c.last = fleet.Stats{Connected: m.Connected, Wanted: m.Wanted, Sent: m.Sent, Errors: m.Errors,
			Reconnects: m.Reconnects, LastError: m.LastError,
			LagP50: time.Duration(m.P50 * float64(time.Millisecond)), LagP99: time.Duration(m.P99 * float64(time.Millisecond))}
		c.mu.Unlock()
		once.Do(func() { close(c.seen) })
	}
	c.done <- c.cmd.Wait()
}

func (c *childFleet) Stats() fleet.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *childFleet) command(word string) { fmt.Fprintln(c.stdin, word) }

// stop ends the run gracefully (SIGINT, as Ctrl-C) and returns its
// summary's stats.
func (c *childFleet) stop(b *testing.B) fleet.Stats {
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-c.done:
		if err != nil {
			b.Errorf("simulate run: %v", err)
		}
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		b.Fatal("simulate run did not stop within a minute of SIGINT")
	}
	return c.Stats()
}

// seqTap counts the stream messages (those with sim-seq) the broker
// delivered, so the child's sent can be checked against them.
type seqTap struct{ all, streams atomic.Uint64 }

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
	return true
}

func runChildFleet(b *testing.B, bin string) {
	n := *fleetDevices
	src := fleetSource(b, n) // the same devices, for device 0's identity
	tap := &seqTap{}
	w := startWindow(b, tap)
	ctx := w.ctx
	c := startChildFleet(b, bin, w.br.Addr, n)
	opened := make(chan error, 1)
	go func() { opened <- openDevice(ctx, w, src.Device(0)) }()

	rampStart := time.Now()
	rampBudget := time.Duration(float64(n) / *fleetRamp * float64(time.Second)) + 2*time.Minute
	testkit.WithinErr(b, rampBudget, fmt.Sprintf("%d devices to connect", n), func() error {
		if st := c.Stats(); st.Connected < n {
			return fmt.Errorf("%d connected, %d errors, last: %s", st.Connected, st.Errors, st.LastError)
		}
		return nil
	})
	ramp := time.Since(rampStart)
	if err := <-opened; err != nil {
		b.Fatal(err)
	}
	win := measureWindow(tap, *fleetFor)

	fst := c.stop(b)
	// Every stream message the child sent must reach the window's broker.
	testkit.WithinErr(b, 30*time.Second, "the devices' messages to be delivered", func() error {
		if got := tap.streams.Load(); got < fst.Sent {
			return fmt.Errorf("%d sent, %d delivered", fst.Sent, got)
		}
		return nil
	})
	fst.Delivered = tap.streams.Load()
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
	if fst.Sent != fst.Delivered {
		b.Errorf("the fleet sent %d messages and the broker's tap saw %d", fst.Sent, fst.Delivered)
	}
}
