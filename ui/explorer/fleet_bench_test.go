//go:build linux

package explorer

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/builtin"
	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// The fleet of issue 13's performance bullet; the flags make smaller
// runs possible while working on the code.
var (
	fleetDevices = flag.Int("fleet-devices", 10000, "BenchmarkExplorerUnderFleet: virtual devices")
	fleetRamp    = flag.Float64("fleet-ramp", 1000, "BenchmarkExplorerUnderFleet: connections per second")
	fleetFor     = flag.Duration("fleet-for", 30*time.Second, "BenchmarkExplorerUnderFleet: how long to measure once every device is connected")
)

// fleetProfile is the built-in climate sensor (sequence, timestamp,
// temperature, humidity, battery, QoS 1, a retained status per device)
// sending every second instead of every five.
const fleetProfile = "temperature-humidity"

// BenchmarkExplorerUnderFleet runs -fleet-devices virtual devices of the
// built-in climate sensor at 1 message/s each, as real MQTT 5 clients of
// the embedded broker in this process (connecting -fleet-ramp a second),
// while the Explorer shows the tree with one zone's branch open and one
// device's topic selected in the inspector, refreshing as in the app.
// Once every device is connected it measures for -fleet-for: the interval
// between the tree's refreshes and their UI time, the drops of the model,
// the capture and the broker, the fleet's own counters (sent against
// delivered as the broker's tap saw them, lost, schedule lag, end-to-end
// latency), the process's CPU and its RSS.
//
//	go test -run '^$' -bench ExplorerUnderFleet -benchtime 1x -timeout 30m ./ui/explorer
func BenchmarkExplorerUnderFleet(b *testing.B) {
	// Both ends of every connection are in this process.
	raiseFileLimit(b, uint64(2**fleetDevices+1024))
	for b.Loop() {
		runFleet(b)
	}
}

func runFleet(b *testing.B) {
	n := *fleetDevices
	src := fleetSource(b, n)
	tap := &fleetTap{}
	w := startWindow(b, tap)
	ctx := w.ctx

	r := fleet.New(src, fleet.Target{URL: "mqtt://" + w.br.Addr, Protocol: 5},
		fleet.Options{Seed: 1, Logger: testkit.Logger()})
	tap.runner.Store(r)
	fctx, stopFleet := context.WithCancel(ctx)
	defer stopFleet()
	ran := make(chan error, 1)
	go func() { ran <- r.Run(fctx) }()

	// Device 0's zone is one of the profile's four, drawn per device.
	opened := make(chan error, 1)
	go func() { opened <- openDevice(ctx, w, src.Device(0)) }()

	rampStart := time.Now()
	rampBudget := time.Duration(float64(n) / *fleetRamp * float64(time.Second)) + 60*time.Second
	testkit.WithinErr(b, rampBudget, fmt.Sprintf("%d devices to connect", n), func() error {
		if st := r.Stats(); st.Connected < n {
			return fmt.Errorf("%d connected, %d errors, last: %s", st.Connected, st.Errors, st.LastError)
		}
		return nil
	})
	ramp := time.Since(rampStart)
	if err := <-opened; err != nil {
		b.Fatal(err)
	}

	runtime.GC()
	before := r.Stats()
	cpu0, start := processCPU(b), time.Now()
	time.Sleep(*fleetFor)
	cpu, elapsed := processCPU(b)-cpu0, time.Since(start)
	during := r.Stats()
	rss := procStatusKiB("VmRSS")

	// Stop the streams, then wait for what was sent to be delivered: the
	// fleet's counters and the model's then account for every message.
	r.Pause()
	testkit.WithinErr(b, 30*time.Second, "the devices' messages to be delivered", func() error {
		if st := r.Stats(); st.Delivered+st.Lost < st.Sent {
			return fmt.Errorf("%d sent, %d delivered, %d lost", st.Sent, st.Delivered, st.Lost)
		}
		return nil
	})
	w.waitModel(b, tap.n.Load())
	fst := r.Stats()
	stopFleet()
	if err := <-ran; err != nil {
		b.Error(err)
	}
	st, bst, cst := w.stop(b)

	rf := w.refreshesSince(start)
	rf.starts = append(rf.starts, start.Add(elapsed)) // a stall at the end counts too
	if len(rf.starts) < 2 {
		b.Fatalf("the tree refreshed %d times", len(rf.starts))
	}
	rf.starts = rf.starts[:len(rf.starts)-1]
	if !w.wasSelected() {
		b.Error("no topic was selected during the load")
	}
	sent := during.Sent - before.Sent
	b.ReportMetric(float64(len(rf.starts))/elapsed.Seconds(), "refreshes/s")
	rf.report(b)
	reportDrops(b, st, bst, cst)
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(fst.Sent), "fleet-sent")
	b.ReportMetric(float64(fst.Delivered), "fleet-delivered")
	b.ReportMetric(float64(fst.Lost), "fleet-lost")
	b.ReportMetric(ms(fst.LagP99), "lag-p99-ms")
	b.ReportMetric(ms(fst.LatencyP99), "latency-p99-ms")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cores")
	b.ReportMetric(float64(rss)/1024, "MiB-RSS")
	b.ReportMetric(ramp.Seconds(), "s-ramp")

	b.Logf("%d devices connected in %v; measured %v: %d messages sent (%.0f/s), %.2f cores, RSS %d MiB (peak %d MiB)",
		n, ramp.Round(time.Millisecond), elapsed.Round(time.Millisecond), sent, float64(sent)/elapsed.Seconds(),
		cpu.Seconds()/elapsed.Seconds(), rss/1024, procStatusKiB("VmHWM")/1024)
	b.Logf("fleet over the whole run: %d sent, %d delivered, %d lost, %d errors (last: %q), %d reconnects; lag p50 %v p99 %v max %v; latency p50 %v p99 %v",
		fst.Sent, fst.Delivered, fst.Lost, fst.Errors, fst.LastError, fst.Reconnects, fst.LagP50, fst.LagP99, fst.LagMax, fst.LatencyP50, fst.LatencyP99)
	b.Logf("model: %d messages applied (%d coalesced), %d topics, %d dropped, %d over the node limit, apply %.0f ns/msg; capture: %d ingested, %d dropped; broker: %d in, %d dropped, %d held by flow control",
		st.Messages, st.Coalesced, st.Topics, st.Dropped, st.OverLimit, float64(st.ApplyTime.Nanoseconds())/float64(max(st.Messages, 1)),
		cst.Ingested, cst.Dropped, bst.MessagesIn, bst.Dropped, bst.PublishesHeld)
	rf.log(b)
	if fst.Sent != fst.Delivered || fst.Lost != 0 {
		b.Errorf("the fleet sent %d messages and the broker's tap saw %d delivered, %d lost", fst.Sent, fst.Delivered, fst.Lost)
	}
}

// fleetSource compiles n devices of the built-in climate sensor, made to
// send every second, connecting at -fleet-ramp.
func fleetSource(b *testing.B, n int) device.Source {
	e, err := builtin.Lookup(fleetProfile)
	if err != nil {
		b.Fatal(err)
	}
	yaml := bytes.Replace(e.YAML, []byte("every: 5s"), []byte("every: 1s"), 1)
	if bytes.Equal(yaml, e.YAML) {
		b.Fatalf("the built-in %s no longer says `every: 5s`; update fleetSource", fleetProfile)
	}
	sc, err := builtin.Compile(fleetProfile+".yaml", yaml, device.Options{Protocol: 5})
	if err != nil {
		b.Fatal(err)
	}
	return sc.Fleets[0].WithCount(n).WithRamp(scenario.Ramp{PerSecond: *fleetRamp}).Source()
}

// openDevice opens sensors, the zone of device d and d's branch, and
// selects its telemetry topic, as a user following one device would.
func openDevice(ctx context.Context, w *window, d interface{ Identity() (string, string) }) error {
	id, _ := d.Identity()
	var zone string
	for zone == "" {
		for _, z := range []string{"north", "south", "east", "west"} {
			if _, ok := w.model.Lookup(broker.SourceBroker, "sensors/"+z+"/"+id); ok {
				zone = z
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for device %s's topics: %w", id, ctx.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
	dev := "sensors/" + zone + "/" + id
	return openDuringLoad(ctx, w.model, w.p, w.onUI, []string{"sensors", "sensors/" + zone, dev}, dev+"/climate")
}

// fleetTap is the broker's tap into the fleet's runner, which can only be
// made once the broker's address is known; it counts what it saw so the
// benchmark knows when the model has had everything.
type fleetTap struct {
	runner atomic.Pointer[fleet.Runner]
	n      atomic.Uint64
}

func (t *fleetTap) Ingest(m message.Message) bool {
	t.n.Add(1)
	if r := t.runner.Load(); r != nil {
		return r.Ingest(m)
	}
	return true
}

// raiseFileLimit makes room for need open files, or fails saying how.
func raiseFileLimit(b *testing.B, need uint64) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		b.Fatal(err)
	}
	if l.Cur >= need {
		return
	}
	want := syscall.Rlimit{Cur: need, Max: max(l.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		b.Fatalf("%d devices need %d open files and the limit is %d (hard %d): %v; raise it (ulimit -n %d, as root) or pass a smaller -fleet-devices",
			*fleetDevices, need, l.Cur, l.Max, err, need)
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatusKiB reads a kB field of /proc/self/status (VmRSS, VmHWM).
func procStatusKiB(field string) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			k, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return k
		}
	}
	return 0
}
