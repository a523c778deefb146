//go:build linux

package explorer

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
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
	fleetChild   = flag.String("fleet-child", "", "BenchmarkExplorerUnderFleet: run the fleet as BIN simulate run in its own process")
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
	// Both ends of every connection are in this process, besides what is
	// open now and a margin for the capture's and the broker's files.
	if *fleetChild != "" {
		// The child inherits the limit and holds the devices' ends.
		raiseFileLimit(b, uint64(*fleetDevices+openFiles(b)+64))
		for b.Loop() {
			runChildFleet(b, *fleetChild)
		}
		return
	}
	raiseFileLimit(b, uint64(2**fleetDevices+openFiles(b)+64))
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
	rampBudget := time.Duration(float64(n) / *fleetRamp * float64(time.Second)) + 2*time.Minute
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

	win := measureWindow(r, *fleetFor)

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
	b.Logf("%d devices connected in %v", n, ramp.Round(time.Millisecond))
	b.Logf("model: %d messages applied (%d coalesced), %d topics, %d dropped, %d over the node limit, apply %.0f ns/msg; capture: %d ingested, %d dropped; broker: %d in, %d dropped, %d held by flow control",
		st.Messages, st.Coalesced, st.Topics, st.Dropped, st.OverLimit, float64(st.ApplyTime.Nanoseconds())/float64(max(st.Messages, 1)),
		cst.Ingested, cst.Dropped, bst.MessagesIn, bst.Dropped, bst.PublishesHeld)
	if d := st.Dropped + st.OverLimit + uint64(cst.Dropped) + uint64(bst.Dropped); d > 0 {
		b.Errorf("%d messages dropped (model %d, capture %d, broker %d)", d, st.Dropped+st.OverLimit, cst.Dropped, bst.Dropped)
	}
	if fst.Sent != fst.Delivered || fst.Lost != 0 {
		b.Errorf("the fleet sent %d messages and the broker's tap saw %d delivered, %d lost", fst.Sent, fst.Delivered, fst.Lost)
	}
}

// fleetWindow is what the process did while measured, the fleet running
// with every device connected.
type fleetWindow struct {
	start        time.Time
	elapsed, cpu time.Duration
	sent         uint64
	machineBusy  float64 // cores of the whole machine, this process included
	rssKiB       int
	// The Go scheduler's view: how long goroutines waited, runnable, for
	// a processor, and how long the GC stopped the world.
	wait, gcStop runtimeHist
	gcCycles     uint64
}

func measureWindow(r interface{ Stats() fleet.Stats }, d time.Duration) fleetWindow {
	runtime.GC()
	before := r.Stats()
	rt0 := readRuntime()
	busy0, idle0 := machineCPU()
	cpu0, start := processCPU(), time.Now()
	time.Sleep(d)
	w := fleetWindow{start: start, elapsed: time.Since(start), cpu: processCPU() - cpu0}
	busy1, idle1 := machineCPU()
	rt := readRuntime()
	w.sent = r.Stats().Sent - before.Sent
	w.rssKiB = procStatusKiB("VmRSS")
	w.machineBusy = float64(runtime.NumCPU()) * float64(busy1-busy0) / float64(max(busy1-busy0+idle1-idle0, 1))
	w.wait, w.gcStop, w.gcCycles = rt[0].since(rt0[0]), rt[1].since(rt0[1]), rt[2].cycles-rt0[2].cycles
	return w
}

// report reports the window's refreshes rf and the fleet's totals fst.
func (w fleetWindow) report(b *testing.B, rf refreshes, fst fleet.Stats) {
	secs := w.elapsed.Seconds()
	b.ReportMetric(float64(len(rf.starts))/secs, "refreshes/s")
	rf.report(b)
	b.ReportMetric(float64(w.sent)/secs, "msg/s")
	b.ReportMetric(float64(fst.Sent), "fleet-sent")
	b.ReportMetric(float64(fst.Delivered), "fleet-delivered")
	b.ReportMetric(float64(fst.Lost), "fleet-lost")
	b.ReportMetric(ms(fst.LagP99), "lag-p99-ms")
	b.ReportMetric(ms(fst.LatencyP99), "latency-p99-ms")
	b.ReportMetric(w.cpu.Seconds()/secs, "cores")
	// The machine's other work competes for the same cores.
	b.ReportMetric(w.machineBusy, "machine-busy-cores")
	b.ReportMetric(float64(w.rssKiB)/1024, "MiB-RSS")
	b.ReportMetric(ms(w.wait.quantile(0.99)), "sched-wait-p99-ms")
	b.Logf("measured %v: %d messages sent (%.0f/s), %.2f cores (the machine's %d: %.2f busy), RSS %d MiB (peak %d MiB)",
		w.elapsed.Round(time.Millisecond), w.sent, float64(w.sent)/secs,
		w.cpu.Seconds()/secs, runtime.NumCPU(), w.machineBusy, w.rssKiB/1024, procStatusKiB("VmHWM")/1024)
	b.Logf("fleet over the whole run: %d sent, %d delivered, %d lost, %d errors (last: %q), %d reconnects; lag p50 %v p99 %v max %v; latency p50 %v p99 %v",
		fst.Sent, fst.Delivered, fst.Lost, fst.Errors, fst.LastError, fst.Reconnects, fst.LagP50, fst.LagP99, fst.LagMax, fst.LatencyP50, fst.LatencyP99)
	rf.log(b)
	b.Logf("runnable goroutines waited for a processor p50 %v p99 %v p99.9 %v max %v (%d waits); GC stopped the world %d times, p99 %v max %v, %v in all; %d GC cycles",
		w.wait.quantile(0.5), w.wait.quantile(0.99), w.wait.quantile(0.999), w.wait.quantile(1), w.wait.count(),
		w.gcStop.count(), w.gcStop.quantile(0.99), w.gcStop.quantile(1), w.gcStop.total(), w.gcCycles)
}

// fleetSource compiles n devices of the built-in climate sensor, made to
// send every second, connecting at -fleet-ramp.
func fleetSource(b *testing.B, n int) device.Source { return climateFleet(b, n).Source() }

func climateFleet(b *testing.B, n int) *device.Fleet {
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
	return sc.Fleets[0].WithCount(n).WithRamp(scenario.Ramp{PerSecond: *fleetRamp})
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
	if cur, _ := testkit.OpenFiles(); cur == 0 || cur >= need {
		return
	}
	b.Logf("%d devices need %d open files (pass a smaller -fleet-devices if they cannot be had)", *fleetDevices, need)
	testkit.RaiseOpenFiles(b, need)
}

func openFiles(b *testing.B) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		b.Fatal(err)
	}
	return len(fds)
}

// machineCPU returns the whole machine's busy and idle (idle and iowait)
// clock ticks since boot, from /proc/stat.
func machineCPU() (busy, idle uint64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseUint(f, 10, 64)
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		} else if i < 8 { // user nice system (idle iowait) irq softirq steal
			busy += v
		}
	}
	return busy, idle
}

// processCPU is the process's CPU time so far; 0 if it cannot be read.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
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

// runtimeHist is one of the runtime's duration histograms (runtime/metrics).
type runtimeHist struct {
	h      *metrics.Float64Histogram
	cycles uint64 // for the GC cycle counter, which is no histogram
}

var runtimeMetrics = []string{"/sched/latencies:seconds", "/sched/pauses/total/gc:seconds", "/gc/cycles/total:gc-cycles"}

func readRuntime() []runtimeHist {
	ss := make([]metrics.Sample, len(runtimeMetrics))
	for i, n := range runtimeMetrics {
		ss[i].Name = n
	}
	metrics.Read(ss)
	out := make([]runtimeHist, len(ss))
	for i, s := range ss {
		switch s.Value.Kind() {
		case metrics.KindFloat64Histogram:
			out[i].h = s.Value.Float64Histogram()
		case metrics.KindUint64:
			out[i].cycles = s.Value.Uint64()
		}
	}
	return out
}

// since is h minus an earlier reading of the same histogram.
func (h runtimeHist) since(earlier runtimeHist) runtimeHist {
	if h.h == nil || earlier.h == nil {
		return runtimeHist{}
	}
	d := &metrics.Float64Histogram{Buckets: h.h.Buckets, Counts: make([]uint64, len(h.h.Counts))}
	for i := range d.Counts {
		d.Counts[i] = h.h.Counts[i] - earlier.h.Counts[i]
	}
	return runtimeHist{h: d}
}

func (h runtimeHist) count() uint64 {
	var n uint64
	if h.h != nil {
		for _, c := range h.h.Counts {
			n += c
		}
	}
	return n
}

// quantile is the upper bound of the bucket holding quantile q (1: the
// largest bucket with a count).
func (h runtimeHist) quantile(q float64) time.Duration {
	n := h.count()
	if n == 0 {
		return 0
	}
	rank := uint64(q * float64(n))
	var seen uint64
	for i, c := range h.h.Counts {
		seen += c
		if c > 0 && seen >= max(rank, 1) {
			return secs(h.h.Buckets[i+1])
		}
	}
	return 0
}

// total is the histogram's sum, each count at its bucket's lower bound.
func (h runtimeHist) total() time.Duration {
	var t time.Duration
	if h.h != nil {
		for i, c := range h.h.Counts {
			t += time.Duration(c) * secs(h.h.Buckets[i])
		}
	}
	return t
}

func secs(f float64) time.Duration {
	if f > 1e9 || f < 0 { // the open buckets' ±Inf
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
