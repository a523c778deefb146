package broker

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// BenchmarkVersusMosquitto is issue 11's comparison: the broker as `serve`
// runs it (persistence on, every message captured) against Debian's
// mosquitto with an unlimited queue (its default of 1,000 queued messages
// loses ~90 % of the QoS 1 load, which would make any rate meaningless),
// loads alternated between the brokers in one run (in turn: A B C, C B A,
// ...) so that drift in a shared machine's speed falls on all alike.
//
//	go test -run '^$' -bench BenchmarkVersusMosquitto -benchtime 6x ./engine/broker/
//
// qos1: 20 publishers x 1,000 QoS 1 messages -> one QoS 1 subscriber on "#".
// fanin: 100 publishers x 1,000 QoS 0 messages -> one subscriber on "#".
//
// By default iotstudio runs in the benchmark's process. With
// IOTSTUDIO_BENCH_SERVE=BIN it is `BIN serve` in a child process, like
// mosquitto, and IOTSTUDIO_BENCH_SERVE_BEFORE=BIN2 adds a second build
// (an older commit) to the same run, reported as msg/s-before and
// x-before (this build's rate divided by that one's).
// IOTSTUDIO_BENCH_SERVE_ARGS adds space-separated flags to both serve
// commands (e.g. "--no-persist"), to tell which part costs what.
//
// IOTSTUDIO_BENCH_PIN=GEN:BROKERS (CPU lists as taskset takes them, e.g.
// "0:1") runs the load generator (this process) on the GEN CPUs and every
// broker on the BROKERS CPUs, so that a broker's rate is what it does with
// those CPUs rather than what it wins from the generator on shared ones
// (on a 2-core machine the two otherwise compete for both cores).
func BenchmarkVersusMosquitto(b *testing.B) {
	cases := []struct {
		name  string
		shape benchShape
		qos   byte
	}{
		{"qos1-20x1000", benchShape{pubs: 20, msgs: 1000, subs: 1}, 1},
		{"fanin-qos0-100x1000", fanIn, 0},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			names, targets := versusTargets(b)
			payload := benchPayload()
			msgs := make([]int64, len(targets))
			elapsed := make([]time.Duration, len(targets))
			cpu := make([]time.Duration, len(targets)) // of brokers in child processes
			// The load generator's (this process's) CPU per target: a broker
			// that makes its clients work harder (more reads for the same
			// messages) costs the machine more than its own CPU says.
			gen := make([]time.Duration, len(targets))
			b.StopTimer()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range targets {
					k := j
					if i%2 == 1 {
						k = len(targets) - 1 - j
					}
					var cpu0 time.Duration
					if t := targets[k]; t.cpu != nil {
						cpu0 = t.cpu()
					}
					gen0 := processCPU(b)
					n, d, err := runOnce(b, targets[k], c.shape, c.qos, payload)
					gen[k] += processCPU(b) - gen0
					if err != nil {
						b.Fatal(fmt.Errorf("%s: %w", names[k], err))
					}
					if t := targets[k]; t.cpu != nil {
						cpu[k] += settle(t) - cpu0
					}
					msgs[k] += n
					elapsed[k] += d
				}
			}
			b.StopTimer()
			want := int64(b.N) * c.shape.expected()
			rate := make([]float64, len(targets))
			for k := range targets {
				rate[k] = float64(msgs[k]) / elapsed[k].Seconds()
				suffix := "-" + names[k]
				if k == 1 {
					suffix = ""
				}
				b.ReportMetric(rate[k], "msg/s"+suffix)
				b.ReportMetric(100*float64(want-msgs[k])/float64(want), "loss-%"+suffix)
				if cpu[k] > 0 {
					b.ReportMetric(float64(cpu[k].Nanoseconds())/float64(msgs[k]), "cpu-ns/msg"+suffix)
				}
				if gen[k] > 0 && targets[k].cpu != nil {
					b.ReportMetric(float64(gen[k].Nanoseconds())/float64(msgs[k]), "clients-cpu-ns/msg"+suffix)
				}
			}
			b.ReportMetric(rate[1]/rate[0], "x-mosquitto")
			if len(targets) > 2 {
				b.ReportMetric(rate[1]/rate[2], "x-before")
				if cpu[1] > 0 && cpu[2] > 0 {
					// CPU per message: what other load on the machine disturbs least.
					b.ReportMetric(float64(cpu[1])/float64(msgs[1])/(float64(cpu[2])/float64(msgs[2])), "x-cpu-before")
				}
			}
		})
	}
}

// versusTargets starts mosquitto, this build of iotstudio and, if asked
// for, an older build; see BenchmarkVersusMosquitto.
func versusTargets(b *testing.B) ([]string, []benchTarget) {
	names := []string{"mosquitto", "iotstudio"}
	targets := []benchTarget{startMosquittoConf(b, "max_queued_messages 0\n")}
	if bin := os.Getenv("IOTSTUDIO_BENCH_SERVE"); bin != "" {
		targets = append(targets, startServe(b, bin))
	} else {
		store, err := capture.Open(b.TempDir(), capture.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = store.Close() }) // after the broker stops (LIFO)
		targets = append(targets, startIoTStudioWith(b, 0, store))
	}
	if bin := os.Getenv("IOTSTUDIO_BENCH_SERVE_BEFORE"); bin != "" {
		names = append(names, "before")
		targets = append(targets, startServe(b, bin))
	}
	if pin := os.Getenv("IOTSTUDIO_BENCH_PIN"); pin != "" {
		gen, brokers, ok := strings.Cut(pin, ":")
		if !ok {
			b.Fatalf("IOTSTUDIO_BENCH_PIN=%q: want GEN:BROKERS CPU lists, e.g. 0:1", pin)
		}
		pinProcess(b, os.Getpid(), gen)
		for i, t := range targets {
			if t.pid == 0 {
				b.Fatalf("IOTSTUDIO_BENCH_PIN: %s runs in this process; set IOTSTUDIO_BENCH_SERVE", names[i])
			}
			pinProcess(b, t.pid, brokers)
		}
	}
	return names, targets
}

// settle waits for a broker in a child process to finish what a load left
// it to do (the capture's and the stores' writes, a collection) and
// returns its CPU time then, so that this work is charged to the load
// that caused it and does not slow the next broker's load.
func settle(t benchTarget) time.Duration {
	const (
		every = 100 * time.Millisecond
		quiet = 10 * time.Millisecond // a clock tick (childCPU's resolution): under 10 % of a core
		most  = 5 * time.Second
	)
	last := t.cpu()
	for end := time.Now().Add(most); time.Now().Before(end); {
		time.Sleep(every)
		now := t.cpu()
		if now-last < quiet {
			return now
		}
		last = now
	}
	return last
}

// pinProcess keeps every thread of process pid on cpus; threads it starts
// later inherit that from the thread that starts them.
func pinProcess(b *testing.B, pid int, cpus string) {
	b.Helper()
	out, err := exec.Command("taskset", "--all-tasks", "--cpu-list", "--pid", cpus, strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		b.Fatalf("taskset %s on pid %d: %v: %s", cpus, pid, err, out)
	}
}

// startServe runs `bin serve` with its defaults (persistence and capture
// on) in a fresh data dir on a free loopback port.
func startServe(b *testing.B, bin string) benchTarget {
	b.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testkit.FreePort(b)))
	args := append([]string{"serve", "--mqtt", addr, "--ws", "off", "--data", b.TempDir()}, strings.Fields(os.Getenv("IOTSTUDIO_BENCH_SERVE_ARGS"))...)
	return startChild(b, "serve", exec.Command(bin, args...), addr)
}
