// Package testkit is what the tests of every package share: a bounded
// wait for a condition (the way to wait for something another goroutine
// does, instead of a hand-written deadline loop), a free loopback port,
// the open-file limit and a logger that keeps test output quiet. Its subpackage rawmqtt is a raw
// MQTT test client; mosquittopeer runs Debian's mosquitto as a peer;
// engine/broker/brokertest starts the embedded broker. Only tests (and,
// for rawmqtt, load generators) import them. testkit and rawmqtt import
// nothing of this module, mosquittopeer only testkit, so any package's
// internal tests, the broker's included, can use them.
package testkit

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"
)

// Timeout is how long Eventually waits. It is generous because the race
// detector on a busy machine slows things down tenfold; a test that passes
// waits far less.
const Timeout = 20 * time.Second

// pollEvery is the pause between two checks: short enough not to slow a
// test down, long enough not to starve what is awaited.
const pollEvery = 10 * time.Millisecond

// Eventually polls cond until it reports true, and fails the test after
// Timeout with a message naming what was awaited.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Timeout, what, cond)
}

// Within is Eventually with its own deadline, for a wait whose bound is
// part of what the test asserts.
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	WithinErr(t, d, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

var errNotYet = fmt.Errorf("not yet")

// EventuallyErr polls check until it returns nil, and fails the test after
// Timeout with a message naming what was awaited and check's last error,
// which should say what was seen instead.
func EventuallyErr(t testing.TB, what string, check func() error) {
	t.Helper()
	WithinErr(t, Timeout, what, check)
}

// WithinErr is EventuallyErr with its own deadline.
func WithinErr(t testing.TB, d time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if err == errNotYet {
				t.Fatalf("timed out after %v waiting for %s", d, what)
			}
			t.Fatalf("timed out after %v waiting for %s: %v", d, what, err)
		}
		time.Sleep(pollEvery)
	}
}

// Described is an error for EventuallyErr whose text is worked out only
// when a failed wait prints it: for a description too slow to build on
// every poll, or one that reads what another goroutine is still writing
// (a child process's stderr).
func Described(describe func() string) error { return described(describe) }

type described func() string

func (d described) Error() string { return d() }

// FreePort is a loopback TCP port nothing listens on now, for a peer a
// test starts (or, left closed, for a refused connection). Another
// process could take it before the test does, which on loopback in a
// test run does not happen in practice.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Listening waits until addr accepts TCP connections, as a server a test
// runs as a child process comes up. When exited closes first the child
// has died, and it fails the test at once with output (what the child
// said, worked out then); otherwise it fails after Timeout.
func Listening(t testing.TB, name, addr string, exited <-chan struct{}, output func() string) {
	t.Helper()
	EventuallyErr(t, name+" to listen on "+addr, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			t.Fatalf("%s exited at start: %s", name, output())
		default:
		}
		return err
	})
}

// LogEnv names the environment variable that, when set, makes Logger
// write debug logs to stderr: for reading what the code under test did
// when a test fails.
const LogEnv = "IOTSTUDIO_TEST_LOG"

// Logger is the logger to hand the code under test: silent, unless LogEnv
// is set.
func Logger() *slog.Logger {
	if os.Getenv(LogEnv) != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
