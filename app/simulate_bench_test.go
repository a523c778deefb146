package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// BenchmarkSimulate10k is issue 13's performance requirement, measured as
// a user would meet it: `iotstudio simulate run` (headless, real TCP
// clients) against `iotstudio serve` in another process, both from an
// already built binary, on loopback. Every device publishes a small JSON
// reading once a second at the case's QoS.
//
//	go build -o /tmp/iots . &&
//	IOTSTUDIO_BENCH_SIM=1 IOTSTUDIO_BENCH_BIN=/tmp/iots \
//	  go test -run '^$' -bench BenchmarkSimulate10k -benchtime 1x -timeout 30m ./app/
//
// Environment (all optional but the first two):
//
//	IOTSTUDIO_BENCH_SIM=1              run it (skipped otherwise: it takes minutes and the machine)
//	IOTSTUDIO_BENCH_BIN=PATH           the iotstudio binary to measure (nothing is built here)
//	IOTSTUDIO_BENCH_SIM_DEVICES=10000  fleet sizes, comma-separated (one sub-benchmark each)
//	IOTSTUDIO_BENCH_SIM_QOS=0          QoS of the readings, comma-separated (0,1 for both)
//	IOTSTUDIO_BENCH_SIM_DURATION=60s   simulate run's --duration
//	IOTSTUDIO_BENCH_SIM_RAMP=1000/s    simulate run's --ramp
//	IOTSTUDIO_BENCH_SIM_PROTOCOL=5     the devices' MQTT version (5 or 3.1.1)
//	IOTSTUDIO_BENCH_SIM_COMMANDS=1     every device also subscribes to a command topic
//	IOTSTUDIO_BENCH_SIM_OUT=DIR        keep each run's stats lines (NAME.jsonl) and, with a binary
//	                                   that reads IOTSTUDIO_CPUPROFILE, CPU profiles of
//	                                   simulate run and serve (NAME-sim.pprof, NAME-serve.pprof)
//
// What is measured, for the simulator process (and the broker's, for
// context): CPU cores (utime+stime from /proc/PID/stat) over the steady
// window, from 3 s after the last device connected to 2 s before the run
// ends; steady RSS (VmRSS at the end of that window) and peak RSS (VmHWM);
// the ramp (from the start of simulate run to the first stats line, one a
// second, with every device connected); the schedule lag p99 of the
// summary (over the whole run) and of the stats line that ends the window;
// the send rate over the window; messages sent (summary) against messages
// captured (`capture stats` after serve stopped on SIGINT), which must be
// equal. The rest of the machine's CPU over the window is reported as
// other-cores, the CPU of both processes from the start to the window
// (the ramp), and the time the simulator's threads waited for a CPU
// while runnable (from schedstat) per second of the ramp and of the
// window: a busy machine inflates the ramp and the lag, and these say how
// much of a run's lag was the machine's.
func BenchmarkSimulate10k(b *testing.B) {
	if os.Getenv("IOTSTUDIO_BENCH_SIM") != "1" {
		b.Skip("set IOTSTUDIO_BENCH_SIM=1 and IOTSTUDIO_BENCH_BIN=PATH to run (minutes of a whole machine)")
	}
	cfg := simBenchConfigFromEnv(b)
	raiseNoFile(b)
	printSimHeader()
	for _, qos := range cfg.qos {
		for _, n := range cfg.devices {
			name := fmt.Sprintf("qos=%d/devices=%d", qos, n)
			if cfg.protocol != "5" {
				name += "/mqtt=" + cfg.protocol
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					res := simulateOnce(b, cfg, n, qos)
					res.report(b)
				}
			})
		}
	}
}

type simBenchConfig struct {
	bin      string
	devices  []int
	qos      []int
	duration time.Duration
	ramp     string
	protocol string
	out      string
	commands bool // each device subscribes to a command topic (a handler)
}

func simBenchConfigFromEnv(b *testing.B) simBenchConfig {
	cfg := simBenchConfig{bin: os.Getenv("IOTSTUDIO_BENCH_BIN"), duration: 60 * time.Second, ramp: "1000/s", protocol: "5"}
	if cfg.bin == "" {
		b.Fatal("IOTSTUDIO_BENCH_BIN is not set: build the binary to measure (go build -o /tmp/iots .) and give its path")
	}
	if _, err := os.Stat(cfg.bin); err != nil {
		b.Fatalf("IOTSTUDIO_BENCH_BIN: %v", err)
	}
	cfg.devices = envInts(b, "IOTSTUDIO_BENCH_SIM_DEVICES", []int{10000})
	cfg.commands = os.Getenv("IOTSTUDIO_BENCH_SIM_COMMANDS") == "1"
	cfg.qos = envInts(b, "IOTSTUDIO_BENCH_SIM_QOS", []int{0})
	if v := os.Getenv("IOTSTUDIO_BENCH_SIM_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 15*time.Second {
			b.Fatalf("IOTSTUDIO_BENCH_SIM_DURATION=%q: give a duration of at least 15s", v)
		}
		cfg.duration = d
	}
	if v := os.Getenv("IOTSTUDIO_BENCH_SIM_RAMP"); v != "" {
		cfg.ramp = v
	}
	if v := os.Getenv("IOTSTUDIO_BENCH_SIM_PROTOCOL"); v != "" {
		cfg.protocol = v
	}
	if v := os.Getenv("IOTSTUDIO_BENCH_SIM_OUT"); v != "" {
		if err := os.MkdirAll(v, 0o755); err != nil {
			b.Fatalf("IOTSTUDIO_BENCH_SIM_OUT: %v", err)
		}
		cfg.out = v
	}
	return cfg
}

func envInts(b *testing.B, name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			b.Fatalf("%s=%q: give comma-separated numbers", name, v)
		}
		out = append(out, n)
	}
	return out
}

// raiseNoFile lifts this process's open-file limit to its hard limit, so
// that the children (which inherit it) can hold one descriptor per device.
func raiseNoFile(b *testing.B) {
	if _, hard := testkit.OpenFiles(); hard > 0 {
		testkit.RaiseOpenFiles(b, hard)
	}
}

// noFileLimit is the open-file limit, or no limit where there is none.
func noFileLimit() uint64 {
	if cur, _ := testkit.OpenFiles(); cur > 0 {
		return cur
	}
	return math.MaxUint64
}

// simBenchScenario is one profile: a reading a second, about 80 bytes of
// JSON, no status topic, so every message the broker sees is a reading
// and sent must equal captured.
// With commands each device also subscribes to its own command topic, as
// devices that answer commands do: the broker then has 10,000 subscribers
// for its flow control to watch.
func simBenchScenario(qos int, commands bool) string {
	handler := ""
	if commands {
		handler = `    handlers:
      - name: command
        filter: bench/{{.ID}}/set
        actions:
          - reply: {topic: "bench/{{.ID}}/ack", payload: ok}
`
	}
	return fmt.Sprintf(`profiles:
  - name: bench-sensor
    streams:
      - name: telemetry
        topic: bench/{{.ID}}/telemetry
        every: 1s
        qos: %d
        fields:
          seq: {counter: {}}
          ts: {timestamp: unix_ms}
          temperature: {walk: {min: 16, max: 30, step: 0.2}, precision: 1}
          humidity: {uniform: {min: 40, max: 60}, precision: 0}
%sfleets:
  - profile: bench-sensor
    count: 1
    seed: 1
`, qos, handler)
}

// simLine is one JSON line of simulate run --format jsonl.
type simLine struct {
	Kind      string  `json:"kind"`
	Time      string  `json:"time"`
	Wanted    int     `json:"wanted"`
	Connected int     `json:"connected"`
	Sent      uint64  `json:"sent"`
	SentPerS  float64 `json:"sent_per_s"`
	Errors    uint64  `json:"errors"`
	LagP50    float64 `json:"lag_p50_ms"`
	LagP99    float64 `json:"lag_p99_ms"`
	LagMax    float64 `json:"lag_max_ms"`
	LastError string  `json:"last_error"`
	at        time.Time
}

// simResult is what one run measured.
type simResult struct {
	devices, qos                  int
	load                          string
	ramp                          time.Duration
	simCores, brokerCores         float64
	otherCores                    float64
	simWait, rampWait             float64 // runnable-but-waiting seconds per second, window and start → window
	simRampCores, brokerRampCores float64 // from the start to the window
	simRSS, simPeak, brokerPeak   float64 // MiB
	windowRate                    float64 // messages/s over the steady window
	lagP99, lagMax                float64 // ms, over the whole run
	lagP99From, lagP99End         float64 // ms, as the window starts and ends
	lagMaxFrom, lagMaxEnd         float64 // ms, as the window starts and ends
	sent, captured, dropped       uint64
	errors                        uint64
}

func simulateOnce(b *testing.B, cfg simBenchConfig, n, qos int) simResult {
	b.Helper()
	if need := uint64(n) + 500; noFileLimit() < need {
		b.Fatalf("%d devices need about %d open files in each process, the limit is %d: raise ulimit -n (hard limit) or give fewer devices",
			n, need, noFileLimit())
	}
	dir := b.TempDir()
	data := filepath.Join(dir, "data")
	scen := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(scen, []byte(simBenchScenario(qos, cfg.commands)), 0o644); err != nil {
		b.Fatal(err)
	}
	res := simResult{devices: n, qos: qos, load: loadAvg()}

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freeTCPPort(b)))
	name := fmt.Sprintf("qos%d-%d", qos, n)
	if cfg.protocol != "5" {
		name += "-mqtt" + cfg.protocol
	}
	serve := startServeChild(b, cfg.bin, addr, data, max(20000, n+1000), cfg.childEnv(name+"-serve.pprof"))

	serve.cpuAtStart = procCPU(serve.pid)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration+2*time.Minute)
	defer cancel()
	sim := exec.CommandContext(ctx, cfg.bin, "simulate", "run", scen, "--url", "mqtt://"+addr,
		"--protocol", cfg.protocol, "--count", strconv.Itoa(n), "--ramp", cfg.ramp,
		"--duration", cfg.duration.String(), "--stats", "1s", "--format", "jsonl")
	sim.Env = cfg.childEnv(name + "-sim.pprof")
	var simErr strings.Builder
	sim.Stderr = &cappedWriter{w: &simErr, n: 64 << 10}
	stdout, err := sim.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	started := time.Now()
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	lines := newSimLines(n)
	if cfg.out != "" {
		lines.keep = filepath.Join(cfg.out, name+".jsonl")
	}
	go lines.read(stdout)
	pid := strconv.Itoa(sim.Process.Pid)

	select {
	case <-lines.allConnected:
	case <-lines.done:
	}
	last, ok := lines.firstAllConnected()
	if !ok {
		<-lines.done // the output read to its end before Wait closes the pipe
		_ = sim.Wait()
		b.Fatalf("not every device connected: last stats %+v; simulate run's stderr:\n%s", lines.last(), simErr.String())
	}
	res.ramp = last.at.Sub(started)

	// The steady window: the ramp's stragglers settled, the run not yet
	// stopping.
	from, to := last.at.Add(3*time.Second), started.Add(cfg.duration-2*time.Second)
	if to.Sub(from) < 5*time.Second {
		b.Fatalf("the steady window is %v: the ramp took %v of a %v run; give a longer IOTSTUDIO_BENCH_SIM_DURATION", to.Sub(from), res.ramp, cfg.duration)
	}
	time.Sleep(time.Until(from))
	a := sampleProcs(pid, serve.pid)
	time.Sleep(time.Until(to))
	z := sampleProcs(pid, serve.pid)
	secs := z.at.Sub(a.at).Seconds()
	res.simCores = (z.sim - a.sim).Seconds() / secs
	res.brokerCores = (z.broker - a.broker).Seconds() / secs
	res.otherCores = max(0, (z.machine-a.machine).Seconds()/secs-res.simCores-res.brokerCores)
	res.simWait = (z.simWait - a.simWait).Seconds() / secs
	rampSecs := a.at.Sub(started).Seconds()
	res.rampWait = a.simWait.Seconds() / rampSecs
	res.simRampCores = a.sim.Seconds() / rampSecs
	res.brokerRampCores = (a.broker - serve.cpuAtStart).Seconds() / rampSecs
	res.simRSS = float64(procStatusKiB(pid, "VmRSS")) / 1024
	res.simPeak = float64(procStatusKiB(pid, "VmHWM")) / 1024
	res.brokerPeak = float64(procStatusKiB(serve.pid, "VmHWM")) / 1024
	if l0, l1, ok := lines.around(a.at, z.at); ok {
		res.windowRate = float64(l1.Sent-l0.Sent) / l1.at.Sub(l0.at).Seconds()
		res.lagP99From, res.lagP99End = l0.LagP99, l1.LagP99
		res.lagMaxFrom, res.lagMaxEnd = l0.LagMax, l1.LagMax
	}

	<-lines.done // the summary read before Wait closes the pipe
	if err := sim.Wait(); err != nil {
		b.Fatalf("simulate run: %v; stderr:\n%s", err, simErr.String())
	}
	sum, ok := lines.summary()
	if !ok {
		b.Fatalf("simulate run printed no summary; stderr:\n%s", simErr.String())
	}
	res.sent, res.errors, res.lagP99, res.lagMax = sum.Sent, sum.Errors, sum.LagP99, sum.LagMax
	if sum.Errors > 0 {
		b.Logf("simulate run counted %d errors, the last: %s", sum.Errors, sum.LastError)
	}

	serve.stop(b)
	res.captured, res.dropped = capturedRecords(b, cfg.bin, data)
	if res.sent != res.captured {
		b.Errorf("sent %d messages, the capture holds %d (dropped %d): every message sent must be captured", res.sent, res.captured, res.dropped)
	}
	return res
}

// childEnv is the environment of a child process: the benchmark's, with
// a CPU profile to OUT/profile when IOTSTUDIO_BENCH_SIM_OUT is set (and
// never an inherited one, which both children would write at once).
func (cfg simBenchConfig) childEnv(profile string) []string {
	env := []string{"LANG=en_US.UTF-8"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IOTSTUDIO_CPUPROFILE=") && !strings.HasPrefix(kv, "LANG=") {
			env = append(env, kv)
		}
	}
	if cfg.out != "" {
		env = append(env, "IOTSTUDIO_CPUPROFILE="+filepath.Join(cfg.out, profile))
	}
	return env
}

// servedChild is `iotstudio serve` in a child process.
type servedChild struct {
	cmd    *exec.Cmd
	pid    string
	stderr *strings.Builder
	exited chan struct{}
	err    error
	// cpuAtStart is its CPU time as simulate run starts.
	cpuAtStart time.Duration
}

func startServeChild(b *testing.B, bin, addr, data string, maxConns int, env []string) *servedChild {
	b.Helper()
	cmd := exec.Command(bin, "serve", "--mqtt", addr, "--ws", "off", "--data", data,
		"--max-connections", strconv.Itoa(maxConns), "--log-level", "warn")
	cmd.Env = env
	s := &servedChild{cmd: cmd, stderr: &strings.Builder{}, exited: make(chan struct{})}
	cmd.Stderr = &cappedWriter{w: s.stderr, n: 64 << 10}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s.pid = strconv.Itoa(cmd.Process.Pid)
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	b.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = cmd.Process.Kill()
			<-s.exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-s.exited:
			b.Fatalf("serve exited at start: %v\n%s", s.err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("serve is not listening on %s after 30s: %v\n%s", addr, err, s.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop interrupts serve as Ctrl-C would and waits for it to close the
// capture: only then does capture stats see every record.
func (s *servedChild) stop(b *testing.B) {
	b.Helper()
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		b.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(2 * time.Minute):
		b.Fatalf("serve did not stop within 2 minutes of SIGINT\n%s", s.stderr.String())
	}
	if s.err != nil {
		b.Fatalf("serve after SIGINT: %v (want exit 0)\n%s", s.err, s.stderr.String())
	}
}

// capturedRecords runs `capture stats` on a stopped serve's data dir.
func capturedRecords(b *testing.B, bin, data string) (records, dropped uint64) {
	b.Helper()
	cmd := exec.Command(bin, "capture", "stats", "--data", data)
	cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			b.Fatalf("capture stats: %v\n%s", err, ee.Stderr)
		}
		b.Fatalf("capture stats: %v", err)
	}
	row := func(name string) uint64 {
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				if err == nil {
					return n
				}
			}
		}
		b.Fatalf("capture stats has no %q row:\n%s", name, out)
		return 0
	}
	return row("records"), row("dropped")
}

// simLines collects simulate run's JSON lines as they arrive, each with
// the time it was read (the stats line's own time has the same meaning;
// arrival is used so that the window's ends compare with the samples).
type simLines struct {
	mu           sync.Mutex
	all          []simLine
	want         int
	keep         string // a file to copy the lines to, if set
	allConnected chan struct{}
	done         chan struct{}
}

func newSimLines(want int) *simLines {
	return &simLines{want: want, allConnected: make(chan struct{}), done: make(chan struct{})}
}

func (s *simLines) read(r interface{ Read([]byte) (int, error) }) {
	defer close(s.done)
	var keep *os.File
	if s.keep != "" {
		if f, err := os.Create(s.keep); err == nil {
			keep = f
			defer f.Close()
		}
	}
	sc := bufio.NewScanner(r)
	signalled := false
	for sc.Scan() {
		if keep != nil {
			fmt.Fprintf(keep, "%s\n", sc.Bytes())
		}
		var l simLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		l.at = time.Now()
		s.mu.Lock()
		s.all = append(s.all, l)
		s.mu.Unlock()
		if !signalled && l.Kind == "stats" && l.Connected >= s.want {
			signalled = true
			close(s.allConnected)
		}
	}
}

func (s *simLines) firstAllConnected() (simLine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.all {
		if l.Kind == "stats" && l.Connected >= s.want {
			return l, true
		}
	}
	return simLine{}, false
}

func (s *simLines) last() simLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.all) == 0 {
		return simLine{}
	}
	return s.all[len(s.all)-1]
}

// around returns the first stats line at or after from and the last one
// at or before to.
func (s *simLines) around(from, to time.Time) (first, last simLine, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var haveFirst, haveLast bool
	for _, l := range s.all {
		if l.Kind != "stats" {
			continue
		}
		if !haveFirst && !l.at.Before(from) {
			first, haveFirst = l, true
		}
		if !l.at.After(to) {
			last, haveLast = l, true
		}
	}
	return first, last, haveFirst && haveLast && last.at.After(first.at)
}

func (s *simLines) summary() (simLine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.all {
		if l.Kind == "summary" {
			return l, true
		}
	}
	return simLine{}, false
}

// procSample is the CPU time used so far by the simulator, the broker and
// the whole machine (all CPUs, idle and iowait excluded).
type procSample struct {
	at                   time.Time
	sim, broker, machine time.Duration
	simWait              time.Duration // the simulator's threads' time runnable but not running
}

func sampleProcs(simPID, brokerPID string) procSample {
	return procSample{at: time.Now(), sim: procCPU(simPID), broker: procCPU(brokerPID), machine: machineBusy(), simWait: runQueueWait(simPID)}
}

// runQueueWait is how long the threads of process pid have waited for a
// CPU while runnable (the second field of /proc/PID/task/TID/schedstat,
// in ns), summed: what a busy machine takes from a process's schedule,
// which its own lag figures cannot tell apart from its own slowness.
func runQueueWait(pid string) time.Duration {
	tasks, _ := filepath.Glob(filepath.Join("/proc", pid, "task", "*", "schedstat"))
	var sum int64
	for _, t := range tasks {
		raw, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		if f := strings.Fields(string(raw)); len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			sum += n
		}
	}
	return time.Duration(sum)
}

// procCPU is utime+stime of a process (/proc/PID/stat fields 14 and 15,
// clock ticks of 10 ms).
func procCPU(pid string) time.Duration {
	raw, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// machineBusy is the non-idle CPU time of all CPUs from /proc/stat.
func machineBusy() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)[1:]
	var busy int64
	for i, f := range fields {
		v, _ := strconv.ParseInt(f, 10, 64)
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		busy += v
	}
	return time.Duration(busy) * 10 * time.Millisecond
}

func procStatusKiB(pid, field string) int64 {
	raw, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	return strings.Join(f[:3], " ")
}

func freeTCPPort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (r simResult) report(b *testing.B) {
	b.ReportMetric(r.simCores, "sim-cores")
	b.ReportMetric(r.simRSS, "sim-RSS-MiB")
	b.ReportMetric(r.simPeak, "sim-peak-RSS-MiB")
	b.ReportMetric(r.ramp.Seconds(), "ramp-s")
	b.ReportMetric(r.lagP99, "lag-p99-ms")
	b.ReportMetric(r.lagP99From, "lag-p99-from-ms")
	b.ReportMetric(r.lagP99End, "lag-p99-end-ms")
	b.ReportMetric(r.lagMaxEnd-r.lagMaxFrom, "lag-max-rise-ms")
	b.ReportMetric(r.windowRate, "msg/s")
	b.ReportMetric(float64(r.sent), "sent")
	b.ReportMetric(float64(r.captured), "captured")
	b.ReportMetric(r.brokerCores, "broker-cores")
	b.ReportMetric(r.brokerPeak, "broker-peak-RSS-MiB")
	b.ReportMetric(r.otherCores, "other-cores")
	b.ReportMetric(r.simWait, "sim-runq-wait-s/s")
	b.ReportMetric(r.rampWait, "sim-runq-wait-ramp-s/s")
	b.ReportMetric(r.simRampCores, "sim-ramp-cores")
	b.ReportMetric(r.brokerRampCores, "broker-ramp-cores")
	fmt.Printf("| %d | %d | %s | %.2f | %.0f / %.0f | %.1f | %.1f (%.1f → %.1f; max +%.0f) | %.0f | %d / %d | %.2f | %.0f | %.2f | %.2f / %.2f | %.2f / %.2f | %s |\n",
		r.devices, r.qos, r.load, r.simCores, r.simRSS, r.simPeak, r.ramp.Seconds(), r.lagP99, r.lagP99From, r.lagP99End, r.lagMaxEnd-r.lagMaxFrom, r.windowRate,
		r.sent, r.captured, r.brokerCores, r.brokerPeak, r.otherCores, r.rampWait, r.simWait, r.simRampCores, r.brokerRampCores, r.verdict())
}

func printSimHeader() {
	fmt.Println("| devices | QoS | load avg | sim cores | sim RSS / peak MiB | ramp s | lag p99 ms (window start → end; max rise in window) | msg/s | sent / captured | broker cores | broker peak MiB | other cores | sim run-queue wait s/s (ramp / window) | ramp cores sim / broker | verdict |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
}

// verdict names the budgets this run missed; "ok" when none.
// simulate run's lag quantiles are over the whole run, so the ramp's late
// messages stay in them: "lag>100ms" may be the ramp's alone. The fleet
// does not hold its schedule ("lag-growing") when over the steady window
// the rate fell under 98 % of a message a second per device or the p99
// rose (messages later than before it on the whole).
func (r simResult) verdict() string {
	var miss []string
	if r.simCores > 0.5 {
		miss = append(miss, "CPU>0.5")
	}
	if r.simPeak > 400*1e6/(1<<20) {
		miss = append(miss, "RSS>400MB")
	}
	if r.ramp > 20*time.Second {
		miss = append(miss, "ramp>20s")
	}
	if r.lagP99 > 100 {
		miss = append(miss, "lag>100ms")
	}
	if r.windowRate < 0.98*float64(r.devices) || r.lagP99End > r.lagP99From {
		miss = append(miss, "lag-growing")
	}
	if r.sent != r.captured {
		miss = append(miss, "sent!=captured")
	}
	if len(miss) == 0 {
		return "ok"
	}
	return strings.Join(miss, " ")
}

// cappedWriter keeps the first n bytes written to it and drops the rest.
type cappedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
	n  int
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.n - c.w.Len(); room > 0 {
		c.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
