package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/sim/remote"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// The window's fleets must not take the cores from the window: every
// thread of a `simulate run --control` child runs at background priority,
// also the threads the Go runtime starts once devices are busy.
func TestFleetsTheWindowRunsYieldToIt(t *testing.T) {
	b := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := command(ctx, "simulate", "run", "builtin:thermostat", "--count", "20",
		"--url", "mqtt://"+b.Addr, "--stats", "200ms", "--control")
	c, err := remote.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(time.Second)
	testkit.Eventually(t, "the thermostats connected", func() bool {
		st := c.Stats()
		return len(st) == 1 && st[0].Connected == 20
	})
	nices, err := threadNices(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nices {
		if n != backgroundNice {
			t.Fatalf("the fleet's threads run at niceness %v (thread: niceness), want all at %d", nices, backgroundNice)
		}
	}
}

// threadNices reads each thread's niceness (field 19 of its stat line).
func threadNices(pid int) (map[int]int, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[int]int{}
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, task.Name(), "stat"))
		if err != nil {
			continue // the thread ended
		}
		// The command name (field 2) may hold spaces: count after its ')'.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		n, err := strconv.Atoi(fields[16])
		if err != nil {
			return nil, fmt.Errorf("stat of thread %s: %w", task.Name(), err)
		}
		tid, _ := strconv.Atoi(task.Name())
		out[tid] = n
	}
	return out, nil
}
