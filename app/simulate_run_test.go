package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// "kill ID" typed into a running `simulate run` drops that device without
// DISCONNECT: the broker publishes its will (offline), and the device
// comes back online after its back-off; the others are untouched.
func TestSimulateRunKillFromStdinFiresTheWill(t *testing.T) {
	data := t.TempDir()
	in, typed := io.Pipe()
	var out, errOut lockedBuffer
	code := make(chan int, 1)
	go func() {
		code <- run([]string{"simulate", "run", "builtin:thermostat", "--count", "2", "--embedded", "--mqtt", "127.0.0.1:0",
			"--data", data, "--duration", "6s", "--stats", "200ms", "--format", "jsonl"}, env{stdin: in, stdout: &out, stderr: &errOut})
	}()
	testkit.Eventually(t, "both thermostats connected", func() bool {
		return strings.Contains(out.String(), `"connected":2`)
	})
	if _, err := io.WriteString(typed, "kill thermostat-1\n"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the kill confirmed", func() bool { return strings.Contains(errOut.String(), "killed thermostat-1") })
	if _, err := io.WriteString(typed, "kill thermostat-9\n"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "an unknown device refused in words", func() bool { return strings.Contains(errOut.String(), "kill thermostat-9: ") })
	typed.Close()
	if c := <-code; c != 0 {
		t.Fatalf("exit %d: %s", c, errOut.String())
	}
	statuses := func(id string) []string {
		_, stdout, stderr := runInProcess([]string{"capture", "query", "--data", data, "--topic", "home/" + id + "/status", "--oldest-first", "--format", "jsonl"}, "")
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var r struct{ Payload string }
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%q: %v (%s)", l, err, stderr)
			}
			got = append(got, r.Payload)
		}
		return got
	}
	if got := strings.Join(statuses("thermostat-1"), " "); got != "online offline online offline" {
		t.Fatalf("thermostat-1's statuses %q, want online, the will's offline, online again, and the graceful offline", got)
	}
	if got := strings.Join(statuses("thermostat-0"), " "); got != "online offline" {
		t.Fatalf("thermostat-0's statuses %q, want online then the graceful offline", got)
	}
}

// An unknown saved connection is named in the words of the command the
// user typed, not another one's.
func TestSimulateRunUnknownProfileNamesTheFlag(t *testing.T) {
	code, _, stderr := runInProcess([]string{"simulate", "run", "builtin:thermostat", "--profile", "nope", "--data", t.TempDir()}, "")
	if code != exitUsage || !strings.Contains(stderr, `--profile: no saved connection named "nope"`) || strings.Contains(stderr, "connect --profile") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// --protocol applies to --embedded too: the devices speak the version
// asked for, as the capture (the broker's view) records it.
func TestSimulateRunEmbeddedSpeaksTheProtocolAsked(t *testing.T) {
	data := t.TempDir()
	code, _, stderr := runInProcess([]string{"simulate", "run", "builtin:smart-plug", "--count", "2", "--embedded", "--mqtt", "127.0.0.1:0",
		"--data", data, "--duration", "2500ms", "--stats", "0", "--protocol", "3.1.1"}, "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, stdout, _ := runInProcess([]string{"capture", "query", "--data", data, "--topic", "plugs/#", "--format", "jsonl"}, "")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	for _, l := range lines {
		var r struct {
			ClientID string `json:"client_id"`
			Protocol int
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if r.Protocol != 4 {
			t.Fatalf("%s published with protocol level %d, want 4 (MQTT 3.1.1)", r.ClientID, r.Protocol)
		}
	}
	if len(lines) < 4 {
		t.Fatalf("only %d records captured: %s", len(lines), stdout)
	}
}

// Without --duration, a run whose devices all fail their first connect
// attempts (a wrong port, a wrong password) ends with the reason instead
// of retrying until Ctrl-C.
func TestSimulateRunGivesUpWhenNoDeviceConnects(t *testing.T) {
	defer func(d time.Duration) { firstRoundSlack = d }(firstRoundSlack)
	firstRoundSlack = time.Second
	addr := refusingAddr(t)
	start := time.Now()
	code, _, stderr := runInProcess([]string{"simulate", "run", "builtin:smart-plug", "--count", "2", "--url", "mqtt://" + addr, "--stats", "0"}, "")
	if code != exitFail || !strings.Contains(stderr, "no device could connect to mqtt://"+addr) || !strings.Contains(stderr, "refused") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if took := time.Since(start); took > testkit.Timeout {
		t.Fatalf("gave up after %s", took)
	}
}

// refusingAddr is a loopback address that refuses connections for the
// whole test: a TCP socket bound to it but never listening. A port merely
// found free and closed can be taken meanwhile by a parallel test's
// broker, which the devices would then connect to.
func refusingAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
