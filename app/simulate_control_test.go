package app

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/sim/remote"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// The window runs large fleets as `simulate run --control` in a process
// of their own and drives it over stdin and stdout: it reads the stats,
// lists the devices, looks at one, commands it, kills it, pauses the
// streams and stops the run, and the run's end of stdin stops it too.
func TestSimulateRunControlDrivesAFleetInAnotherProcess(t *testing.T) {
	skipSlow(t, "runs a fleet in a child process for a few seconds")
	b := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := remote.Start(command(ctx, "simulate", "run", "builtin:thermostat", "--count", "3",
		"--url", "mqtt://"+b.Addr, "--stats", "200ms", "--control"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(time.Second)
	testkit.Eventually(t, "three thermostats connected", func() bool {
		st := c.Stats()
		return len(st) == 1 && st[0].Connected == 3
	})

	rep, err := c.Call(remote.Request{Op: remote.OpDevices}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range rep.Devices {
		ids = append(ids, d.ID+"="+d.State)
	}
	if want := []string{"thermostat-0=online", "thermostat-1=online", "thermostat-2=online"}; !slices.Equal(ids, want) {
		t.Fatalf("devices %v, want %v", ids, want)
	}

	if _, err := c.Call(remote.Request{Op: remote.OpCommand, Device: "thermostat-1", Topic: "home/thermostat-1/thermostat/set",
		Payload: []byte(`{"setpoint":25.5}`)}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the command changed the state and the telemetry shows it", func() bool {
		rep, err := c.Call(remote.Request{Op: remote.OpDetail, Device: "thermostat-1"}, 5*time.Second)
		if err != nil || rep.State["setpoint"] != 25.5 || len(rep.Last) == 0 {
			return false
		}
		return strings.Contains(string(rep.Last[len(rep.Last)-1].Payload), `"setpoint":25.5`)
	})

	if _, err := c.Call(remote.Request{Op: remote.OpKill, Device: "thermostat-9"}, 5*time.Second); err == nil || !strings.Contains(err.Error(), `no device "thermostat-9"`) {
		t.Fatalf("killing an unknown device: %v, want it named", err)
	}
	if _, err := c.Call(remote.Request{Op: remote.OpCommand, Device: "thermostat-0", Topic: "home/#"}, 5*time.Second); err == nil {
		t.Fatal("a command to a wildcard topic was accepted")
	}
	if _, err := c.Call(remote.Request{Op: remote.OpKill, Device: "thermostat-2"}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(remote.Request{Op: remote.OpPause}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the stats to say paused", func() bool { st := c.Stats(); return st[0].Paused })

	c.Stop(10 * time.Second)
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end after its stdin closed")
	}
	if err := c.Err(); err != nil {
		t.Fatalf("the run ended with %v, want a clean exit", err)
	}
	if st := c.Stats(); st[0].Kind != remote.KindSummary || st[0].Sent == 0 {
		t.Fatalf("last line %+v, want the summary", st[0])
	}
	if _, err := c.Call(remote.Request{Op: remote.OpDevices}, time.Second); err == nil {
		t.Fatal("a call after the end succeeded")
	}
}

// A run that cannot connect ends, and its error says why in words.
func TestSimulateRunControlEndsWithTheReason(t *testing.T) {
	skipSlow(t, "waits for a fleet to give up")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := command(ctx, "simulate", "run", "builtin:thermostat", "--count", "1", "--url", "mqtt://"+refusingAddr(t), "--control")
	cmd.Env = append(cmd.Env, "IOTSTUDIO_FIRST_ROUND_SLACK=1s")
	c, err := remote.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(45 * time.Second):
		t.Fatal("the run did not give up")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "no device could connect") {
		t.Fatalf("error %v, want the reason no device connected", err)
	}
}
