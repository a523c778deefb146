// Package mosquittopeer runs Debian's mosquitto on a loopback port as a
// real peer for tests and benchmarks: with the configuration a test
// gives, stoppable and restartable on the same port (to test reconnects
// and a remote's restart), and stopped and waited for at the test's
// cleanup. When mosquitto is missing it skips the test with a message
// saying what to install, unless the CI environment variable is set:
// there (.ci/run) a missing peer is a failure, not a test quietly left
// out. It imports nothing of this module but testkit, so the broker's
// own internal tests can use it.
package mosquittopeer

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// stopGrace is how long Stop waits for a SIGTERM before it kills: with
// persistence on, mosquitto writes its database on the way out.
const stopGrace = 10 * time.Second

// Peer is one mosquitto configuration, run as a child process.
type Peer struct {
	t     testing.TB
	bin   string
	conf  string
	log   string // mosquitto's stderr, for a failed start's message
	ports []int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs mosquitto with a plain listener on a free loopback port and
// the extra mosquitto.conf lines (see New for the defaults they may
// override).
func Start(t testing.TB, extra string) *Peer {
	t.Helper()
	port := testkit.FreePort(t)
	p := New(t, fmt.Sprintf("listener %d 127.0.0.1\n", port)+extra, port)
	p.Start()
	return p
}

// New writes conf, which holds the listeners on ports, to a file for
// mosquitto but does not start it: Start does, and waits until every one
// of ports accepts connections. Addr and URL name the first port. Unless
// conf sets them, the broker keeps nothing on disk (persistence false)
// and lets anyone in (allow_anonymous true). The peer is stopped at the
// test's cleanup.
func New(t testing.TB, conf string, ports ...int) *Peer {
	t.Helper()
	if len(ports) == 0 {
		t.Fatal("mosquittopeer.New: no port to wait for")
	}
	head := "log_dest stderr\n"
	if !strings.Contains(conf, "persistence ") {
		head += "persistence false\n"
	}
	if !strings.Contains(conf, "allow_anonymous") {
		head += "allow_anonymous true\n"
	}
	if os.Geteuid() == 0 {
		// As root mosquitto would switch to the mosquitto user, which
		// cannot read the test's temporary files.
		head = "user root\n" + head
	}
	dir := t.TempDir()
	p := &Peer{t: t, bin: Binary(t), conf: filepath.Join(dir, "mosquitto.conf"), log: filepath.Join(dir, "mosquitto.log"), ports: ports}
	if err := os.WriteFile(p.conf, []byte(head+conf), 0o600); err != nil {
		t.Fatalf("write mosquitto.conf: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}

// Binary is the path of Debian's mosquitto, which lives in /usr/sbin
// (often not on a user's PATH). When it is missing it skips the test, or
// under CI fails it; a test that needs another program of the package
// (mosquitto_passwd) calls it for the same verdict.
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	if os.Getenv("CI") != "" {
		t.Fatal("mosquitto is not installed; make deps installs it")
	}
	t.Skip("mosquitto not installed: apt-get install mosquitto mosquitto-clients")
	return ""
}

// Start runs mosquitto (again, after Stop or Kill, on the same ports) and
// waits until it accepts connections on each port; it fails the test if
// mosquitto exits or does not listen within testkit.Timeout.
func (p *Peer) Start() {
	t := p.t
	t.Helper()
	// Its log goes to a file, not to memory: a benchmark's mosquitto logs
	// every connection, and the test process's heap is measured.
	log, err := os.Create(p.log)
	if err != nil {
		t.Fatalf("mosquitto log: %v", err)
	}
	defer log.Close() // the child has its own descriptor
	cmd := exec.Command(p.bin, "-c", p.conf)
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mosquitto: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	said := func() string {
		raw, err := os.ReadFile(p.log)
		if err != nil {
			return err.Error()
		}
		return string(raw)
	}
	for _, port := range p.ports {
		testkit.Listening(t, "mosquitto", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited, said)
	}
}

// Stop ends mosquitto as an operator would, with SIGTERM, so that with
// persistence on it saves its sessions; it kills it if it has not exited
// within 10 s, and returns once it has. Stopping a stopped peer does
// nothing.
func (p *Peer) Stop() { p.end(syscall.SIGTERM) }

// Kill ends mosquitto as a crash would, with SIGKILL: nothing saved, the
// clients' connections just drop. It returns once mosquitto has exited.
func (p *Peer) Kill() { p.end(syscall.SIGKILL) }

func (p *Peer) end(sig syscall.Signal) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(stopGrace):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Addr is the first port's host:port.
func (p *Peer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.ports[0])) }

// URL is the first port's mqtt:// URL.
func (p *Peer) URL() string { return "mqtt://" + p.Addr() }

// Pid is the running mosquitto's process id, for a benchmark that reads
// its CPU time and memory from /proc; 0 when it is not running.
func (p *Peer) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}
