//go:build linux

package fleet

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
)

// BenchmarkFleet runs 2,000 devices at 1 message/s each (connecting 1,000
// a second) for a few seconds
// and reports what a device costs the simulator: goroutines and heap per
// connected device, CPU per message and the schedule lag p99. Against the
// embedded broker the process's CPU and heap include the broker's side;
// against mosquitto (a separate process) they are the simulator's alone.
// The goroutine count is the simulator's in both (stacks in paho or this
// package). Run with -benchtime=1x; numbers in the package comment.
func BenchmarkFleet(b *testing.B) {
	for _, target := range []string{"embedded", "mosquitto"} {
		for _, proto := range []byte{5, 4} {
			b.Run(target+"/"+protoName(proto), func(b *testing.B) {
				var addr string
				if target == "embedded" {
					srv, _ := startBroker(b)
					addr = srv.Addr
				} else {
					addr = mosquittopeer.Start(b, "max_connections -1\n").Addr() // no limit on the fleet's connections
				}
				for b.Loop() {
					benchFleet(b, addr, proto)
				}
			})
		}
	}
}

// benchDevices is the fleet's size: 2,000, or FLEET_BENCH_DEVICES (the
// issue's 10,000 once in a while; mind the file descriptor limit).
func benchDevices() int {
	if n, err := strconv.Atoi(os.Getenv("FLEET_BENCH_DEVICES")); err == nil && n > 0 {
		return n
	}
	return 2000
}

func benchFleet(b *testing.B, addr string, proto byte) {
	n := benchDevices()
	runtime.GC()
	baseG := simGoroutines(b)
	baseHeap := heapInuse()
	baseStack := stackInuse()
	r := New(fleetOf{n: n, every: time.Second, ramp: scenario.Ramp{PerSecond: 1000}},
		Target{URL: "mqtt://" + addr, Protocol: proto}, Options{Seed: 1, Logger: testkit.Logger()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	rampStart := time.Now()
	deadline := rampStart.Add(60 * time.Second)
	for r.Stats().Connected < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d devices connected in 60s: %s", r.Stats().Connected, n, r.Stats().LastError)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ramp := time.Since(rampStart)
	time.Sleep(2 * time.Second) // every device's first message out, phases spread
	runtime.GC()
	gPer := float64(simGoroutines(b)-baseG) / float64(n)
	heapPer := float64(heapInuse()-baseHeap) / float64(n)
	stackPer := float64(stackInuse()-baseStack) / float64(n)
	cpu0, sent0, t0 := processCPU(b), r.Stats().Sent, time.Now()
	time.Sleep(5 * time.Second)
	cpu, sent, secs := processCPU(b)-cpu0, r.Stats().Sent-sent0, time.Since(t0).Seconds()
	st := r.Stats()
	b.ReportMetric(gPer, "goroutines/device")
	b.ReportMetric(heapPer/1024, "KiB-heap/device")
	b.ReportMetric(stackPer/1024, "KiB-stack/device")
	b.ReportMetric(float64(st.LagP50.Microseconds())/1000, "ms-lag-p50")
	b.ReportMetric(float64(cpu.Microseconds())/float64(max(sent, 1)), "µs-CPU/msg")
	b.ReportMetric(cpu.Seconds()/secs, "cores")
	b.ReportMetric(float64(sent)/secs, "msg/s")
	b.ReportMetric(float64(st.LagP99.Microseconds())/1000, "ms-lag-p99")
	b.ReportMetric(float64(rssKiB())/1024, "MiB-RSS")
	b.ReportMetric(ramp.Seconds(), "s-ramp")
	if st.Errors > 0 {
		b.Logf("errors %d, last: %s", st.Errors, st.LastError)
	}
}

// simGoroutines counts the goroutines of the simulator's side: those
// running in paho (either library) or in this package, not the broker's.
func simGoroutines(b *testing.B) int {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		b.Fatal(err)
	}
	total := 0
	for _, group := range strings.Split(buf.String(), "\n\n") {
		if !strings.Contains(group, "eclipse/paho") && !strings.Contains(group, "sim/fleet.") {
			continue
		}
		count, _, _ := strings.Cut(group, " @")
		if i := strings.LastIndex(count, "\n"); i >= 0 {
			count = count[i+1:]
		}
		k, err := strconv.Atoi(strings.TrimSpace(count))
		if err == nil {
			total += k
		}
	}
	return total
}

func heapInuse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

func stackInuse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.StackInuse)
}

func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			k, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return k
		}
	}
	return 0
}
