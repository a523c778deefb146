package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

func TestSecondStartShowsTheRunningWindow(t *testing.T) {
	dir := t.TempDir()
	first, err := claimWindow(dir, time.Second, testkit.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer first.close()
	var shown atomic.Int32
	// The first window is still opening when the second start asks: the
	// second waits for it rather than giving up or opening its own.
	go func() {
		time.Sleep(400 * time.Millisecond)
		first.onShow(func() { shown.Add(1) })
	}()
	second, err := claimWindow(dir, 10*time.Second, testkit.Logger())
	if !errors.Is(err, errShownOther) {
		if second != nil {
			second.close()
		}
		t.Fatalf("second start: %v, want it to show the running window", err)
	}
	if shown.Load() != 1 {
		t.Fatalf("the running window was asked to show itself %d times, want 1", shown.Load())
	}
}

func TestSecondStartExplainsAWindowThatDoesNotAnswer(t *testing.T) {
	dir := t.TempDir()
	// A process that holds the lock but never answers (hung).
	hung := flock.New(filepath.Join(dir, windowLockFile))
	if ok, err := hung.TryLock(); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer hung.Unlock()
	_, err := claimWindow(dir, 500*time.Millisecond, testkit.Logger())
	if err == nil || errors.Is(err, errShownOther) {
		t.Fatalf("got %v, want an error saying another window holds the data dir", err)
	}
	for _, want := range []string{dir, "--data", "close it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestAWindowStartsAfterADeadOneLeftItsSocket(t *testing.T) {
	dir := t.TempDir()
	// A crashed window leaves its socket file; its lock died with it.
	if err := os.WriteFile(filepath.Join(dir, windowSocketFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	inst, err := claimWindow(dir, time.Second, testkit.Logger())
	if err != nil {
		t.Fatalf("start after a crash: %v", err)
	}
	inst.close()
	// Closing releases the data dir for the next start.
	again, err := claimWindow(dir, time.Second, testkit.Logger())
	if err != nil {
		t.Fatalf("start after a clean exit: %v", err)
	}
	again.close()
}

// Where no socket can be made (Wine has no AF_UNIX; here, a data dir path
// longer than a socket address holds) the window still opens.
func TestAWindowOpensWhereNoSocketCanBeMade(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("a-long-data-dir-", 8))
	inst, err := claimWindow(dir, time.Second, testkit.Logger())
	if err != nil {
		t.Fatalf("no socket possible: %v, want the window to open anyway", err)
	}
	inst.onShow(func() {})
	inst.close()
}
