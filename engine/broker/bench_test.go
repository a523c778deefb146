package broker

// Broker throughput on loopback (issue 2): the embedded broker against
// Debian's mosquitto, driven by the same raw MQTT 3.1.1 client
// (rawmqtt_test.go) in the same run. See docs/PERFORMANCE.md.
//
//	go test -run '^$' -bench 'BenchmarkFan' -benchtime 3x ./engine/broker/
//
// Each b.N iteration pushes one fixed load through the broker and waits until
// every subscriber has everything or has heard nothing for benchIdle. The
// metrics that matter are the custom ones:
//
//	msg/s        messages delivered to subscribers / (last delivery - start)
//	loss-%       share of the expected deliveries that never arrived
//	heap-MB      iotstudio: peak Go HeapInuse over the pre-start baseline
//	             (includes ~7 MB of load-generator buffers)
//	peak-RSS-MB  iotstudio: peak VmRSS of the test process over the
//	             pre-start baseline; mosquitto: the child's VmHWM
//	drops/op     iotstudio: messages mochi itself counted as dropped
//	             (queue full or inflight quota), per iteration
//	x-mosquitto  iotstudio msg/s divided by mosquitto's in the same run
//	cpu-ns/msg   CPU time of the test process (broker, load generator,
//	             capture) per delivered message
//	x-capture-off, x-cpu-capture-off (BenchmarkCaptureCost): msg/s and
//	             cpu-ns/msg with capture divided by without, loads
//	             alternated between the two brokers in one process
//	             (msg/s-capture-off is the rate without)
//
// Environment knobs for experiments (not needed for the standard run):
//
//	IOTSTUDIO_BENCH_WRITES_PENDING=N   Config.WritesPending
//	IOTSTUDIO_BENCH_NETBUF=N           mochi's per-client read/write buffer
//	IOTSTUDIO_BENCH_NO_PERSISTENCE=1   session store off
//	IOTSTUDIO_BENCH_NO_FLOW=1          flow control off (plain mochi: drop when a queue is full)
//	                                   (hold publishers while a queue > N)
//	IOTSTUDIO_BENCH_MOSQUITTO_CONF=... extra ";"-separated mosquitto.conf
//	                                   lines, e.g. "max_queued_messages 0"

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

const (
	benchPayloadSize = 200
	benchTopics      = 10               // bench/<pub>/<n % benchTopics>
	benchWindow      = 128              // QoS 1 in-flight window per publisher
	benchIdle        = time.Second      // a subscriber this quiet has got all it will
	benchIterLimit   = 60 * time.Second // hard bound on one iteration
	benchSample      = 50 * time.Millisecond
)

// benchShape is one fixed load: every publisher sends msgs messages and
// every subscriber holds one subscription to "#".
type benchShape struct {
	pubs, msgs, subs int
}

func (s benchShape) expected() int64 { return int64(s.pubs * s.msgs * s.subs) }

var (
	fanIn  = benchShape{pubs: 100, msgs: 1000, subs: 1}
	fanOut = benchShape{pubs: 1, msgs: 10000, subs: 10}
)

// BenchmarkFanIn: 100 publishers x 1,000 messages -> one subscriber on "#".
func BenchmarkFanIn(b *testing.B) { benchBrokers(b, fanIn) }

// BenchmarkFanOut: one publisher x 10,000 messages -> ten subscribers on "#".
func BenchmarkFanOut(b *testing.B) { benchBrokers(b, fanOut) }

// BenchmarkWritesPending runs the QoS 0 fan-in against the embedded broker
// with several per-client outbound queue lengths.
func BenchmarkWritesPending(b *testing.B) {
	for _, n := range []int32{8 * 1024, 32 * 1024, 128 * 1024} {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			runBench(b, startIoTStudio(b, n), fanIn, 0)
		})
	}
}

// BenchmarkCaptureCost measures what capturing every message costs the
// broker: the same fan-in through a broker with the capture store and one
// without, both running in the same process, alternating load by load
// (off, on, on, off, ...) so that drift in a shared machine's speed falls
// on both alike.
func BenchmarkCaptureCost(b *testing.B) {
	for _, qos := range []byte{0, 1} {
		b.Run(fmt.Sprintf("qos=%d", qos), func(b *testing.B) {
			store, err := capture.Open(b.TempDir(), capture.Options{})
			if err != nil {
				b.Fatal(err)
			}
			// Cleanups run last-in first-out: the broker stops, then the store closes.
			b.Cleanup(func() { _ = store.Close() })
			on := startIoTStudioWith(b, 0, store)
			off := startIoTStudio(b, 0)
			rate, cpu, msgs := alternate(b, off, on, fanIn, qos)
			b.ReportMetric(rate[1], "msg/s")
			b.ReportMetric(rate[0], "msg/s-capture-off")
			b.ReportMetric(rate[1]/rate[0], "x-capture-off")
			b.ReportMetric(cpu[1]/cpu[0], "x-cpu-capture-off")
			b.ReportMetric(float64(store.Dropped()), "capture-dropped")
			b.ReportMetric(100*float64(2*int64(b.N)*fanIn.expected()-msgs[0]-msgs[1])/float64(2*int64(b.N)*fanIn.expected()), "loss-%")
		})
	}
}

// alternate runs b.N loads of shape through each of two brokers in one
// process, alternating (off, on, on, off, ...) so that drift in a shared
// machine's speed falls on both alike, and returns for [off, on] the
// messages per second of load, the CPU ns per message and the messages
// delivered.
func alternate(b *testing.B, off, on benchTarget, shape benchShape, qos byte) (rate, cpu [2]float64, msgs [2]int64) {
	payload := benchPayload()
	var elapsed, cpuTime [2]time.Duration
	b.StopTimer()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			t := []benchTarget{off, on}[k]
			cpu0 := processCPU(b)
			n, d, err := runOnce(b, t, shape, qos, payload)
			cpuTime[k] += processCPU(b) - cpu0
			if err != nil {
				b.Fatal(err)
			}
			msgs[k] += n
			elapsed[k] += d
		}
	}
	b.StopTimer()
	for k := range 2 {
		rate[k] = float64(msgs[k]) / elapsed[k].Seconds()
		cpu[k] = float64(cpuTime[k].Nanoseconds()) / float64(msgs[k])
	}
	return rate, cpu, msgs
}

// benchBrokers runs mosquitto first for each QoS so that the iotstudio case
// right after it can report its ratio against the same run's mosquitto.
func benchBrokers(b *testing.B, shape benchShape) {
	for _, qos := range []byte{0, 1} {
		var mosqRate float64
		b.Run(fmt.Sprintf("qos=%d/broker=mosquitto", qos), func(b *testing.B) {
			mosqRate = runBench(b, startMosquitto(b), shape, qos)
		})
		b.Run(fmt.Sprintf("qos=%d/broker=iotstudio", qos), func(b *testing.B) {
			rate := runBench(b, startIoTStudio(b, envInt32(b, "IOTSTUDIO_BENCH_WRITES_PENDING")), shape, qos)
			if mosqRate > 0 {
				b.ReportMetric(rate/mosqRate, "x-mosquitto")
			}
		})
	}
}

// benchTarget is a running broker under test.
type benchTarget struct {
	addr string
	// sample is called every benchSample during a load and once after it.
	sample func()
	// report adds the broker's own metrics after the last iteration.
	report func(b *testing.B)
	// cpu, for a broker in a child process, reads the CPU time it has used.
	cpu func() time.Duration
	pid int // of a broker in a child process
}

func envInt32(b *testing.B, name string) int32 {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, v, err)
	}
	return int32(n)
}

// startIoTStudio runs the embedded broker as the product does (persistence
// on), on a free loopback port, stopped when the benchmark ends.
func startIoTStudio(b *testing.B, writesPending int32) benchTarget {
	return startIoTStudioWith(b, writesPending, nil)
}

// startIoTStudioWith is startIoTStudio with a sink (the capture) tapped in.
func startIoTStudioWith(b *testing.B, writesPending int32, rec message.Sink, mutate ...func(*Config)) benchTarget {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse
	baseRSS := procStatusKB(b, "self", "VmRSS")

	warn := &warnCounter{}
	dataDir := b.TempDir()
	cfg := Config{
		MQTTAddr:      "127.0.0.1:0",
		DataDir:       dataDir,
		Sessions:      storeIn(dataDir),
		WritesPending: writesPending,
		NoPersistence: os.Getenv("IOTSTUDIO_BENCH_NO_PERSISTENCE") != "",
		NoFlowControl: os.Getenv("IOTSTUDIO_BENCH_NO_FLOW") != "",
		Recorder:      rec,
		Logger:        slog.New(warn),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	br, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := br.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = br.Stop()
	})
	if n := envInt32(b, "IOTSTUDIO_BENCH_NETBUF"); n > 0 {
		// Options is shared by pointer with every client mochi creates
		// later, and no client exists yet.
		br.server().Options.ClientNetWriteBufferSize = int(n)
		br.server().Options.ClientNetReadBufferSize = int(n)
	}
	var addr string
	for _, l := range br.State().Listeners {
		if l.Name == "mqtt" {
			addr = l.Address
		}
	}
	dropped0 := br.Stats().Dropped

	var peakHeap uint64
	var peakRSS int64
	return benchTarget{
		addr: addr,
		sample: func() {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
			peakRSS = max(peakRSS, procStatusKB(b, "self", "VmRSS"))
		},
		report: func(b *testing.B) {
			b.ReportMetric(float64(int64(peakHeap)-int64(baseHeap))/(1<<20), "heap-MB")
			b.ReportMetric(float64(peakRSS-baseRSS)/1024, "peak-RSS-MB")
			b.ReportMetric(float64(br.Stats().Dropped-dropped0)/float64(b.N), "drops/op")
			if w := warn.summary(); w != "" {
				b.Logf("broker warnings: %s", w)
			}
		},
	}
}

// startMosquitto runs mosquitto as a child on a free loopback port with only
// what the benchmark needs configured, so its defaults are what is compared
// (max_queued_messages 1000, max_inflight_messages 20, ...). It is stopped
// when the benchmark ends.
func startMosquitto(b *testing.B) benchTarget {
	b.Helper()
	return startMosquittoConf(b, "")
}

// startMosquittoConf is startMosquitto with extra mosquitto.conf lines.
func startMosquittoConf(b *testing.B, conf string) benchTarget {
	b.Helper()
	if extra := os.Getenv("IOTSTUDIO_BENCH_MOSQUITTO_CONF"); extra != "" {
		conf += strings.ReplaceAll(extra, ";", "\n") + "\n"
	}
	m := mosquittopeer.Start(b, conf)
	return childTarget(b, m.Addr(), m.Pid())
}

// startChild runs a broker as a child process that listens on addr, and
// stops it when the benchmark ends.
func startChild(b *testing.B, name string, cmd *exec.Cmd, addr string) benchTarget {
	b.Helper()
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 64 << 10}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	b.Cleanup(func() {
		// A clean stop first, so a broker can write what it keeps (a
		// profile, its state); a kill if it takes too long.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	testkit.Listening(b, name, addr, exited, stderr.String)
	return childTarget(b, addr, cmd.Process.Pid)
}

// childTarget measures a broker that runs as process pid: its CPU time
// and, in the report, its peak resident memory.
func childTarget(b *testing.B, addr string, pid int) benchTarget {
	p := strconv.Itoa(pid)
	return benchTarget{
		pid:    pid,
		addr:   addr,
		sample: func() {},
		cpu:    func() time.Duration { return childCPU(b, p) },
		report: func(b *testing.B) {
			b.ReportMetric(float64(procStatusKB(b, p, "VmHWM"))/1024, "peak-RSS-MB")
		},
	}
}

// runBench pushes b.N loads through t and reports the delivered rate, which
// it also returns.
func runBench(b *testing.B, t benchTarget, shape benchShape, qos byte) float64 {
	rate, _ := runBenchCPU(b, t, shape, qos)
	return rate
}

// runBenchCPU is runBench that also returns the process's CPU time per
// delivered message (broker, load generator and, if tapped in, the
// capture), which other load on a shared machine disturbs far less than
// msg/s.
func runBenchCPU(b *testing.B, t benchTarget, shape benchShape, qos byte) (rate float64, cpuPerMsg time.Duration) {
	b.Helper()
	payload := benchPayload()
	var delivered, expected int64
	var elapsed, cpu time.Duration
	b.StopTimer()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cpu0 := processCPU(b)
		n, d, err := runOnce(b, t, shape, qos, payload)
		cpu += processCPU(b) - cpu0
		if err != nil {
			b.Fatal(err)
		}
		delivered += n
		expected += shape.expected()
		elapsed += d
	}
	b.StopTimer()
	t.sample()
	rate = float64(delivered) / elapsed.Seconds()
	b.ReportMetric(rate, "msg/s")
	b.ReportMetric(100*float64(expected-delivered)/float64(expected), "loss-%")
	if delivered > 0 {
		cpuPerMsg = cpu / time.Duration(delivered)
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(delivered), "cpu-ns/msg")
	}
	t.report(b)
	return rate, cpuPerMsg
}

func benchPayload() []byte {
	payload := make([]byte, benchPayloadSize)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	return payload
}

// runOnce connects fresh clients, runs one load and returns what the
// subscribers received and the time from the start signal to the last
// delivery. Only the load itself runs with the benchmark timer on.
func runOnce(b *testing.B, t benchTarget, shape benchShape, qos byte, payload []byte) (int64, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), benchIterLimit)
	defer cancel()
	run := strconv.FormatInt(time.Now().UnixNano(), 36)

	subs := make([]*rawmqtt.Counter, shape.subs)
	var readers sync.WaitGroup
	defer readers.Wait() // after the connections are closed below
	for i := range subs {
		c, err := rawmqtt.Dial(ctx, t.addr, fmt.Sprintf("bsub-%s-%d", run, i), 256<<10, 16<<10)
		if err != nil {
			return 0, 0, err
		}
		defer c.Close()
		if err := c.Subscribe("#", qos); err != nil {
			return 0, 0, err
		}
		s := &rawmqtt.Counter{Client: c}
		subs[i] = s
		readers.Add(1)
		go func() { defer readers.Done(); _ = s.Run() }()
	}

	pubs := make([]*rawmqtt.Client, shape.pubs)
	frames := make([][]rawmqtt.PubFrame, shape.pubs)
	for i := range pubs {
		c, err := rawmqtt.Dial(ctx, t.addr, fmt.Sprintf("bpub-%s-%d", run, i), 4<<10, 64<<10)
		if err != nil {
			return 0, 0, err
		}
		defer c.Close()
		pubs[i] = c
		for k := 0; k < benchTopics; k++ {
			frames[i] = append(frames[i], rawmqtt.EncodePublish(fmt.Sprintf("bench/%d/%d", i, k), payload, qos, false))
		}
	}

	// Release all publishers at once.
	startSignal := make(chan struct{})
	var pubsLeft atomic.Int32
	pubsLeft.Store(int32(len(pubs)))
	pubErr := make(chan error, len(pubs))
	var writers sync.WaitGroup
	defer writers.Wait()
	for i, c := range pubs {
		writers.Add(1)
		go func() {
			defer writers.Done()
			defer pubsLeft.Add(-1)
			select {
			case <-startSignal:
			case <-ctx.Done():
				return
			}
			if err := c.Publish(ctx, frames[i], shape.msgs, qos, benchWindow); err != nil {
				pubErr <- err
			}
		}()
	}

	received := func() (n int64) {
		for _, s := range subs {
			n += s.Received.Load()
		}
		return n
	}
	want := shape.expected()
	b.StartTimer()
	start := time.Now()
	close(startSignal)

	ticker := time.NewTicker(5 * time.Millisecond)
	defer ticker.Stop()
	lastN, lastChange, lastSample := int64(0), start, start
	var err error
wait:
	for {
		select {
		case <-ctx.Done():
			err = fmt.Errorf("load did not finish within %v: %d of %d delivered", benchIterLimit, received(), want)
			break wait
		case e := <-pubErr:
			err = e
			break wait
		case now := <-ticker.C:
			n := received()
			if n >= want {
				break wait
			}
			if n != lastN {
				lastN, lastChange = n, now
			}
			if pubsLeft.Load() == 0 && now.Sub(lastChange) >= benchIdle {
				break wait
			}
			if now.Sub(lastSample) >= benchSample {
				t.sample()
				lastSample = now
			}
		}
	}
	b.StopTimer()
	t.sample()
	// Say DISCONNECT on every connection, then close them all via ctx so
	// that readers and writers return.
	for _, c := range pubs {
		c.Close()
	}
	for _, s := range subs {
		s.Close()
	}
	cancel()

	var last int64
	for _, s := range subs {
		last = max(last, s.LastNano.Load())
	}
	if err != nil {
		return 0, 0, err
	}
	n := received()
	if n == 0 {
		return 0, 0, errors.New("no message was delivered")
	}
	return n, time.Unix(0, last).Sub(start), nil
}

// procStatusKB reads a "kB" field such as VmRSS or VmHWM from
// /proc/<pid>/status; 0 where /proc is missing.
func procStatusKB(b *testing.B, pid, field string) int64 {
	f, err := os.Open(filepath.Join("/proc", pid, "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("/proc/%s/status %s: %v", pid, field, err)
			}
			return n
		}
	}
	return 0
}

// childCPU is the user and system CPU time process pid has used
// (/proc/PID/stat fields 14 and 15, in clock ticks of 10 ms).
func childCPU(b *testing.B, pid string) time.Duration {
	raw, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces; fields after it don't.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// warnCounter is a slog.Handler that keeps only warnings and errors, counted
// by message, so that a benchmark can say whether the broker complained
// (e.g. a full session-store queue or a client over its quota) under load.
type warnCounter struct {
	mu    sync.Mutex
	count map[string]int
}

func (w *warnCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (w *warnCounter) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	if msg == "" { // mochi's listeners log bare errors
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "error" {
				msg = "error=" + a.Value.String()
			}
			return true
		})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.count == nil {
		w.count = map[string]int{}
	}
	w.count[msg]++
	return nil
}

func (w *warnCounter) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var parts []string
	for msg, n := range w.count {
		parts = append(parts, fmt.Sprintf("%dx %q", n, msg))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (w *warnCounter) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnCounter) WithGroup(string) slog.Handler      { return w }
