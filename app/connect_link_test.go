package app

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// syncBuffer is a bytes.Buffer a running command writes while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runningCommand is run() on its own goroutine, which the test waits
// for at its end.
type runningCommand struct {
	stdout, stderr syncBuffer
	code           chan int
}

func startInProcess(t *testing.T, args ...string) *runningCommand {
	t.Helper()
	rc := &runningCommand{code: make(chan int, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rc.code <- run(args, env{stdin: strings.NewReader(""), stdout: &rc.stdout, stderr: &rc.stderr})
	}()
	t.Cleanup(func() { <-done })
	return rc
}

// The protocol is automatic by default: connect reaches a broker that
// speaks only MQTT 3.1.1 and one that speaks 5, and says which it used.
func TestConnectChoosesProtocolAutomatically(t *testing.T) {
	srv := brokertest.Start(t)
	front := testkit.StartMQTT311Only(t, srv.Addr, testkit.HangUp)
	for _, c := range []struct{ addr, want string }{
		{front.Addr, "(MQTT 3.1.1, chosen automatically)"},
		{srv.Addr, "(MQTT 5, chosen automatically)"},
	} {
		code, _, stderr := runInProcess([]string{"connect", "--url", "mqtt://" + c.addr, "--pub", "lab/auto", "--message", "x"}, "")
		if code != 0 || !strings.Contains(stderr, "connected to mqtt://"+c.addr) || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want it to say %q", c.addr, code, stderr, c.want)
		}
	}
	// An explicit protocol is used as given.
	code, _, stderr := runInProcess([]string{"connect", "--url", "mqtt://" + front.Addr, "--protocol", "5", "--pub", "lab/auto", "--message", "x"}, "")
	if code != 1 || !strings.Contains(stderr, "3.1.1") {
		t.Errorf("MQTT 5 on the 3.1.1-only broker: exit %d, stderr %q", code, stderr)
	}
}

// A session kept by the broker works from the command line: what is
// published while connect is away arrives at the next connect with the
// same client ID.
func TestConnectPersistentSession(t *testing.T) {
	srv := brokertest.Start(t)
	url := "mqtt://" + srv.Addr
	session := []string{"--clean-start=false", "--session-expiry", "1h", "--client-id", "lab-watcher"}
	args := append([]string{"connect", "--url", url, "--sub", "lab/#", "--qos", "1", "--pub", "lab/hello", "--message", "first", "--count", "1", "--wait", "20s"}, session...)
	if code, stdout, stderr := runInProcess(args, ""); code != 0 || stdout != "lab/hello first\n" {
		t.Fatalf("first connect: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if err := srv.Publish("lab/away", []byte("while away"), false, 1); err != nil {
		t.Fatal(err)
	}
	args = append([]string{"connect", "--url", url, "--sub", "lab/#", "--qos", "1", "--count", "1", "--wait", "20s"}, session...)
	if code, stdout, stderr := runInProcess(args, ""); code != 0 || stdout != "lab/away while away\n" {
		t.Fatalf("second connect: exit %d, stdout %q, stderr %q; want the message queued in the session", code, stdout, stderr)
	}
}

func TestConnectSessionFlagsBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--session-expiry", "-1s"}, "--session-expiry"},
		{[]string{"--session-expiry", "2000000h"}, "--session-expiry"},
		{[]string{"--clean-start=false"}, "client ID"},
	}
	for _, c := range cases {
		args := append([]string{"connect", "--url", "mqtt://127.0.0.1:1", "--sub", "a"}, c.args...)
		code, _, stderr := runInProcess(args, "")
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", c.args, code, stderr, c.want)
		}
	}
}

// A dropped connection and its return are printed on stderr, the loss
// with its reason.
func TestConnectReportsLostAndBack(t *testing.T) {
	srv := brokertest.Start(t)
	addr := srv.Addr
	rc := startInProcess(t, "connect", "--url", "mqtt://"+addr, "--sub", "lab/#", "--count", "1", "--wait", "60s")
	testkit.Eventually(t, "connect subscribed", func() bool { return strings.Contains(rc.stderr.String(), "subscribed to lab/#") })

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyErr(t, "connect says the connection is lost", func() error {
		if strings.Contains(rc.stderr.String(), "connection lost: mqtt://"+addr+": the broker closed the connection") {
			return nil
		}
		return errors.New(rc.stderr.String())
	})
	testkit.Eventually(t, "connect says the connection is lost", func() bool {
		return strings.Contains(rc.stderr.String(), "connection lost: mqtt://"+addr+": the broker closed the connection")
	})
	again := brokertest.Start(t, func(c *broker.Config) { c.MQTTAddr = addr })
	testkit.Eventually(t, "connect says it is back", func() bool {
		return strings.Contains(rc.stderr.String(), "reconnected to mqtt://"+addr)
	})
	// The subscription was renewed: a message ends the command.
	testkit.Eventually(t, "a message after the reconnect", func() bool {
		_ = again.Publish("lab/back", []byte("yes"), false, 0)
		return strings.Contains(rc.stdout.String(), "lab/back yes\n")
	})
	if code := <-rc.code; code != 0 {
		t.Fatalf("exit %d; stderr %s", code, rc.stderr.String())
	}
	t.Logf("stderr:\n%s", rc.stderr.String())
	if n := strings.Count(rc.stderr.String(), "connection lost"); n != 1 {
		t.Errorf("the loss printed %d times:\n%s", n, rc.stderr.String())
	}
}

// A port that speaks something else is said so plainly in both
// protocols, with the URL once.
func TestConnectNotMQTTPortInWords(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Read(make([]byte, 256))
			_, _ = conn.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"))
			conn.Close()
		}
	})
	url := "mqtt://" + l.Addr().String()
	for _, proto := range []string{"5", "3.1.1", "auto"} {
		code, _, stderr := runInProcess([]string{"connect", "--url", url, "--protocol", proto, "--sub", "a"}, "")
		if code != 1 || strings.Count(stderr, url) != 1 || !strings.Contains(stderr, "does not speak MQTT") || strings.Contains(stderr, "packet") {
			t.Errorf("--protocol %s: exit %d, stderr %q", proto, code, stderr)
		}
	}
}

// failingKeyring is a machine without a keyring.
type failingKeyring struct{}

func (failingKeyring) Get(string) (string, error) { return "", errNoKeyring }
func (failingKeyring) Set(string, string) error   { return errNoKeyring }
func (failingKeyring) Delete(string) error        { return errNoKeyring }

var errNoKeyring = &client.KeyringError{Op: "store", Err: errors.New("no D-Bus session")}

// Without a keyring, connections add says which connection's password
// was not saved by its name, not by its internal ID.
func TestConnectionsAddWithoutKeyringNamesTheConnection(t *testing.T) {
	old := connectionsKeyring
	connectionsKeyring = failingKeyring{}
	t.Cleanup(func() { connectionsKeyring = old })
	t.Setenv(replayPasswordEnv, "secret")
	data := t.TempDir()
	code, _, stderr := runInProcess([]string{"connections", "add", "--data", data, "--preset", "custom", "--name", "Plant floor",
		"--url", "mqtt://10.0.0.5:1883", "--user", "op"}, "")
	_, ps, err := profilesIn(data)
	if err != nil || len(ps) < 1 {
		t.Fatalf("profiles %v %v", ps, err)
	}
	id := ps[len(ps)-1].ID
	if code != 0 || !strings.Contains(stderr, `"Plant floor"`) || strings.Contains(stderr, id) {
		t.Errorf("exit %d, stderr %q; want the connection named, not its ID %s", code, stderr, id)
	}
}

// connections add takes the session flags connect takes.
func TestConnectionsAddSessionFlags(t *testing.T) {
	useTestKeyring(t)
	data := t.TempDir()
	code, _, stderr := runInProcess([]string{"connections", "add", "--data", data, "--preset", "custom", "--name", "kept",
		"--url", "mqtt://10.0.0.5:1883", "--clean-start=false", "--session-expiry", "1h", "--client-id", "plant-1"}, "")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	_, ps, err := profilesIn(data)
	if err != nil {
		t.Fatal(err)
	}
	p := ps[len(ps)-1]
	if p.CleanStart || p.SessionExpiry != 3600 || p.ClientID != "plant-1" || p.Protocol != client.ProtocolAuto {
		t.Errorf("saved %+v; want clean start off, 3600 s, client ID plant-1, automatic protocol", p)
	}
}

// The link report reads samples of the status: every loss is printed
// once, with its reason when one comes, and every return.
func TestLinkReportLines(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	const url = "mqtt://plant:1883"
	why := errors.New(url + ": the broker closed the connection: server shutting down")
	up := func(s int) client.Status {
		return client.Status{URL: url, Protocol: client.MQTT5, State: client.StateConnected, Since: t0.Add(time.Duration(s) * time.Second)}
	}
	down := func(s int, reason error) client.Status {
		return client.Status{URL: url, State: client.StateReconnecting, Since: t0.Add(time.Duration(s) * time.Second), LostReason: reason}
	}
	lostWhy := "connection lost: " + why.Error() + "; reconnecting\n"
	lostBare := "connection lost: " + url + "; reconnecting\n"
	back := "reconnected to " + url + " (MQTT 5)\n"
	cases := []struct {
		name string
		seen []client.Status
		want string
	}{
		{"still up", []client.Status{up(0), up(0)}, ""},
		{"lost with its reason, back", []client.Status{down(1, why), down(1, why), up(2)}, lostWhy + back},
		{"the reason comes after the loss", []client.Status{down(1, nil), down(1, why), up(2)}, lostWhy + back},
		{"no reason before the return", []client.Status{down(1, nil), up(2)}, lostBare + back},
		{"down and up between two samples", []client.Status{up(5)}, lostBare + back},
		{"twice", []client.Status{down(1, why), up(2), down(3, why), up(4)}, lostWhy + back + lostWhy + back},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			r := linkReport{w: &out, upSince: up(0).Since}
			for _, st := range c.seen {
				r.see(st)
			}
			if out.String() != c.want {
				t.Errorf("printed\n%s\nwant\n%s", out.String(), c.want)
			}
		})
	}
}
