//go:build linux

package app

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
	for _, tool := range []string{"Xvfb", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make test installs it): %v", tool, err)
		}
	}
	if testing.Short() {
		t.Skip("-short: builds the app and opens its window")
	}
	bin := buildApp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	x := startXvfb(t, ctx, "1280x800x24")
	home, data := t.TempDir(), t.TempDir()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testkit.FreePort(t)))

	log := filepath.Join(t.TempDir(), "app.log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Capture on: it is what a kill mid-write would damage.
	cmd := exec.CommandContext(ctx, bin, "--data", data, "--mqtt", addr, "--ws", "off")
	cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8", "DISPLAY="+x.display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "WAYLAND_DISPLAY=")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	for {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the app exited before its broker listened: %v; log:\n%s", err, readLog(log))
		case <-ctx.Done():
			t.Fatalf("the broker never listened on %s; log:\n%s", addr, readLog(log))
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("SIGTERM as the broker came up: the app ended with %v, not a clean quit; log:\n%s", err, readLog(log))
		}
	case <-ctx.Done():
		t.Fatalf("the app did not quit after SIGTERM; log:\n%s", readLog(log))
	}
}
