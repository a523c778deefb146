//go:build linux

package app

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// A Ctrl-C or a logout while the window is still being built quits the app
// cleanly. The broker listens (and the capture is open) seconds before the
// window exists on a first start; a SIGTERM in that time used to kill the
// process with both open ("signal: terminated", nothing shut down).
func TestSignalDuringStartupQuitsCleanly(t *testing.T) {
	ctx, bin, x := realWindowSetup(t, "opens its window")
	home, data := t.TempDir(), t.TempDir()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testkit.FreePort(t)))

	// Capture on: it is what a kill mid-write would damage.
	app := startApp(t, ctx, bin, x.display, home, "--data", data, "--mqtt", addr, "--ws", "off")
	log := app.log

	for {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			break
		}
		select {
		case <-app.done:
			t.Fatalf("the app exited before its broker listened: %v; log:\n%s", app.err, readLog(log))
		case <-ctx.Done():
			t.Fatalf("the broker never listened on %s; log:\n%s", addr, readLog(log))
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := app.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-app.done:
		if app.err != nil {
			t.Fatalf("SIGTERM as the broker came up: the app ended with %v, not a clean quit; log:\n%s", app.err, readLog(log))
		}
	case <-ctx.Done():
		t.Fatalf("the app did not quit after SIGTERM; log:\n%s", readLog(log))
	}
}
