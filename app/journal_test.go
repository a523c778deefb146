package app

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// serveWith runs serve on data with extra flags, connects client id and
// disconnects it with reason code 0x04, and returns the process.
func serveWith(ctx context.Context, t *testing.T, data, id string, flags ...string) *bytes.Buffer {
	t.Helper()
	args := append([]string{"serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--data", data}, flags...)
	cmd := command(ctx, args...)
	stdout, _ := cmd.StdoutPipe()
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-done
	})
	line := bufio.NewScanner(stdout)
	if !line.Scan() {
		t.Fatalf("serve printed nothing; stderr: %s", stderr.String())
	}
	addr := strings.TrimPrefix(line.Text(), "mqtt listening on ")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0x04})
	return stderr
}

// While serve runs, journal query and stats read the journal through it
// (with or without a capture, which owns the socket otherwise); once it
// has stopped, they open the journal themselves.
func TestJournalCommandsWhileServeRunsAndAfter(t *testing.T) {
	for _, flags := range [][]string{nil, {"--no-capture"}} {
		t.Run(fmt.Sprint(flags), func(t *testing.T) {
			data := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			serveWith(ctx, t, data, "meter-7", flags...)
			query := []string{"journal", "query", "--data", data, "--client", "meter-7", "--format", "jsonl"}
			testkit.EventuallyErr(t, "meter-7's connect and disconnect while serve runs", func() error {
				code, out, errOut := runInProcess(query, "")
				if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"kind":"connect"`) ||
					!strings.Contains(out, `"cause":"client-disconnect","code":4`) {
					return fmt.Errorf("exit %d: %q %s", code, out, errOut)
				}
				return nil
			})
			code, out, errOut := runInProcess([]string{"journal", "stats", "--data", data}, "")
			if code != 0 || !hasRow(out, "events", "2") {
				t.Fatalf("journal stats while serve runs: exit %d: %s%s", code, out, errOut)
			}
		})
	}
}

func TestJournalQueryAfterServeStops(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sub, stop := context.WithCancel(ctx)
	serveWith(sub, t, data, "meter-8")
	// Wait for the disconnect through the socket, then stop serve.
	testkit.EventuallyErr(t, "the disconnect journaled", func() error {
		if code, out, errOut := runInProcess([]string{"journal", "query", "--data", data, "--event", "disconnect", "--format", "csv"}, ""); code != 0 || !strings.Contains(out, "meter-8") {
			return fmt.Errorf("exit %d: %q %s", code, out, errOut)
		}
		return nil
	})
	stop() // kills serve; the journal was written by the flush of each query
	testkit.EventuallyErr(t, "the table after serve stopped", func() error {
		code, out, errOut := runInProcess([]string{"journal", "query", "--data", data}, "")
		if code != 0 || !strings.HasPrefix(out, "TIME") || !strings.Contains(out, "client-disconnect, 0x04") {
			return fmt.Errorf("exit %d: %q %s", code, out, errOut)
		}
		return nil
	})
}

func TestJournalQueryBadInput(t *testing.T) {
	data := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--event", "connect,bogus"}, `unknown event kind "bogus": give one or more of connect, refused, disconnect, subscribe, unsubscribe, acl-denied, remote-state`},
		{[]string{"--since", "yesterday"}, `--since "yesterday": give an RFC 3339 time (2026-11-22T10:00:00Z) or a time ago (-10m, -2h, -7d)`},
		{[]string{"--until", "5m"}, `--until "5m"`},
		{[]string{"--format", "xml"}, `--format "xml": give table, jsonl or csv`},
		{[]string{"--limit", "-3"}, `--limit -3`},
	}
	for _, c := range cases {
		code, _, errOut := runInProcess(append([]string{"journal", "query", "--data", data}, c.args...), "")
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", c.args, code, errOut, c.want)
		}
	}
	if code, _, errOut := runInProcess([]string{"journal", "frobnicate"}, ""); code != 2 || !strings.Contains(errOut, "journal query") {
		t.Errorf("unknown verb: exit %d, %q; want the usage", code, errOut)
	}
	if code, _, errOut := runInProcess([]string{"serve", "--journal", "maybe", "--data", data}, ""); code != 2 || !strings.Contains(errOut, `--journal "maybe": give on or off`) {
		t.Errorf("serve --journal maybe: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runInProcess([]string{"serve", "--journal-retention", "forever", "--data", data}, ""); code != 2 || !strings.Contains(errOut, "--journal-retention") {
		t.Errorf("serve --journal-retention forever: exit %d, %q", code, errOut)
	}
}
