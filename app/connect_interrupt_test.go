package app

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
)

// Ctrl-C is how `connect --sub` is meant to stop: exit 0 and the
// summary, in words ("1 message", not "1 messages"); it exited 1 with
// "interrupted after N messages".
func TestConnectStopsCleanlyOnInterrupt(t *testing.T) {
	srv := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, "connect", "--url", "mqtt://"+srv.Addr, "--sub", "lab/#")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	printed := make(chan string)
	go func() {
		defer close(printed)
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			printed <- lines.Text()
		}
	}()
	got := false
	tick := time.NewTicker(200 * time.Millisecond) // until subscribed, publish again
	defer tick.Stop()
	for !got {
		if err := srv.Publish("lab/temp", []byte("21.5"), false, 0); err != nil {
			t.Fatal(err)
		}
		select {
		case line := <-printed:
			got = line == "lab/temp 21.5"
		case <-tick.C:
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("connect printed nothing; stderr %s", stderr.String())
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for range printed {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after Ctrl-C: %v (want exit 0); stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "received 1 message\n") && !strings.Contains(stderr.String(), " messages\n") {
		t.Fatalf("no summary: %s", stderr.String())
	}
	if strings.Contains(stderr.String(), "received 1 messages") {
		t.Fatalf("summary %q", stderr.String())
	}
}
