//go:build unix

// alive asks the system with signal 0 whether a process exists.

package mosquittopeer

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// dial reports whether something accepts on addr.
func dial(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// alive reports whether process pid exists (and is not a zombie: the peer
// waits for it).
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// A peer restarts on the same port after either way of ending it, and
// neither leaves its process behind.
func TestRestartOnTheSamePort(t *testing.T) {
	tests := []struct {
		name string
		end  func(*Peer)
	}{
		{"stop", (*Peer).Stop},
		{"kill", (*Peer).Kill},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Start(t, "")
			if !dial(p.Addr()) {
				t.Fatalf("nothing accepts on %s after Start", p.Addr())
			}
			if !strings.HasPrefix(p.URL(), "mqtt://127.0.0.1:") {
				t.Errorf("URL %q", p.URL())
			}
			pid := p.Pid()
			tc.end(p)
			if alive(pid) {
				t.Errorf("mosquitto (pid %d) still runs after %s", pid, tc.name)
			}
			if p.Pid() != 0 || dial(p.Addr()) {
				t.Fatalf("after %s: pid %d, %s accepting: %v; want it down", tc.name, p.Pid(), p.Addr(), dial(p.Addr()))
			}
			tc.end(p) // ending an ended peer does nothing
			p.Start()
			if !dial(p.Addr()) || p.Pid() == 0 || p.Pid() == pid {
				t.Fatalf("after a restart: pid %d (was %d), accepting on %s: %v", p.Pid(), pid, p.Addr(), dial(p.Addr()))
			}
		})
	}
}

// The test's cleanup ends the process.
func TestStoppedAtCleanup(t *testing.T) {
	var pid int
	t.Run("peer", func(t *testing.T) { pid = Start(t, "").Pid() })
	if pid == 0 || alive(pid) {
		t.Fatalf("mosquitto (pid %d) still runs after its test ended", pid)
	}
}

// New fills in what the test's conf leaves out and keeps what it says.
func TestConfDefaults(t *testing.T) {
	tests := []struct {
		name, conf string
		want, not  []string
	}{
		{"plain", "listener 1883 127.0.0.1\n",
			[]string{"log_dest stderr\n", "persistence false\n", "allow_anonymous true\n", "listener 1883 127.0.0.1\n"}, nil},
		{"persistent", "listener 1883 127.0.0.1\npersistence true\n",
			[]string{"persistence true\n", "allow_anonymous true\n"}, []string{"persistence false"}},
		{"passwords", "listener 1883 127.0.0.1\nallow_anonymous false\n",
			[]string{"allow_anonymous false\n", "persistence false\n"}, []string{"allow_anonymous true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(New(t, tc.conf, 1883).conf)
			if err != nil {
				t.Fatal(err)
			}
			got := string(raw)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("conf lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("conf has %q:\n%s", n, got)
				}
			}
		})
	}
}

// A conf mosquitto refuses fails the start with its own words, at once
// rather than after the listen timeout.
func TestBadConfSaysWhy(t *testing.T) {
	msg := make(chan string, 1)
	done := make(chan struct{})
	r := &fatalRecorder{TB: t, msg: msg}
	port := testkit.FreePort(t)
	start := time.Now()
	go func() {
		defer close(done)
		p := New(r, fmt.Sprintf("listener %d 127.0.0.1\nno_such_option 1\n", port), port)
		p.Start()
	}()
	<-done
	select {
	case m := <-msg:
		if !strings.Contains(m, "exited at start") || !strings.Contains(m, "no_such_option") {
			t.Errorf("failure says %q; want mosquitto's complaint about no_such_option", m)
		}
	default:
		t.Fatal("a bad conf did not fail the start")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the failure took %s", d)
	}
}

// fatalRecorder stands in for a test, keeping what Fatalf says; its
// cleanups are the real test's.
type fatalRecorder struct {
	testing.TB
	msg chan string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}
