package testkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fatalRecorder stands in for a test, keeping what Fatalf says.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls fn with a recorder on its own goroutine, as Fatalf ends it.
func run(fn func(t testing.TB)) string {
	r := &fatalRecorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r.msg
}

func TestWaitReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	msg := run(func(t testing.TB) {
		Eventually(t, "three polls", func() bool { return n.Add(1) == 3 })
	})
	if msg != "" || n.Load() != 3 {
		t.Fatalf("Eventually failed with %q after %d polls, want a return on the third", msg, n.Load())
	}
}

func TestWaitFailureSaysWhatWasAwaited(t *testing.T) {
	tests := []struct {
		name string
		wait func(t testing.TB)
		want []string
	}{
		{"condition", func(t testing.TB) { Within(t, 30*time.Millisecond, "the door to open", func() bool { return false }) },
			[]string{"timed out after 30ms waiting for the door to open"}},
		{"error", func(t testing.TB) {
			WithinErr(t, 30*time.Millisecond, "the door to open", func() error { return errors.New("it is locked") })
		}, []string{"timed out after 30ms waiting for the door to open: it is locked"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := run(tc.wait)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("failure %q does not say %q", msg, w)
				}
			}
		})
	}
}

// A Described error is worked out once, when the failure is printed, not
// on every poll.
func TestDescribedIsWorkedOutOnlyOnFailure(t *testing.T) {
	var polls, described atomic.Int32
	check := func() error {
		polls.Add(1)
		return Described(func() string { described.Add(1); return "the state seen" })
	}
	msg := run(func(t testing.TB) { WithinErr(t, 50*time.Millisecond, "something", check) })
	if !strings.HasSuffix(msg, "waiting for something: the state seen") || described.Load() != 1 || polls.Load() < 2 {
		t.Fatalf("failure %q after %d polls, described %d times; want the description once", msg, polls.Load(), described.Load())
	}
}

// Serve runs the service until stop, which returns its error once and
// again; the test's end stops a service the test did not.
func TestServeStopsTheServiceAndReturnsItsError(t *testing.T) {
	want := errors.New("stopped")
	running := make(chan struct{})
	stop := Serve(t, func(ctx context.Context) error {
		close(running)
		<-ctx.Done()
		return want
	})
	<-running
	if err := stop(); err != want {
		t.Errorf("stop: %v, want %v", err, want)
	}
	if err := stop(); err != want {
		t.Errorf("second stop: %v, want %v", err, want)
	}
}

func TestFreePortCanBeListenedOn(t *testing.T) {
	port := FreePort(t)
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("FreePort gave %d, which cannot be listened on: %v", port, err)
	}
	l.Close()
}

func TestListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	closed := make(chan struct{})
	close(closed)
	tests := []struct {
		name   string
		addr   string
		exited chan struct{}
		want   string
	}{
		{"accepts", l.Addr().String(), make(chan struct{}), ""},
		{"died", net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t))), closed, "peer exited at start: bad option"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			msg := run(func(r testing.TB) { Listening(r, "peer", tc.addr, tc.exited, func() string { return "bad option" }) })
			if msg != tc.want {
				t.Errorf("Listening failed with %q, want %q", msg, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s: a dead child should fail it at once", d)
			}
		})
	}
}
