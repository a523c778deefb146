package broker

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A protocol error must not put the packet in the log: a second CONNECT's
// password, or a megabyte of payload in one line (issue 11, finding 9).
func TestProtocolErrorsLogNoPacketContents(t *testing.T) {
	var out lockedBuffer
	b := startBroker(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	const password = "hunter2-Secret"

	conn, r := handConnect(t, b, 4, "second-connect")
	conn.Write(encode(t, packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Connect},
		ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30, ClientIdentifier: "second-connect",
			UsernameFlag: true, Username: []byte("alice"), PasswordFlag: true, Password: []byte(password)},
	}, (*packets.Packet).ConnectEncode))
	waitClosed(t, conn, r)

	conn, r = handConnect(t, b, 4, "huge-bad-publish")
	payload := bytes.Repeat([]byte("A"), 1<<20)
	conn.Write(rawmqtt.Frame(rawmqtt.TypePublish, append(rawmqtt.AppendString(nil, "bad/+/topic"), payload...))) // wildcard in a topic name
	waitClosed(t, conn, r)

	testkit.EventuallyErr(t, "the protocol errors to be logged", func() error {
		if log := out.String(); !strings.Contains(log, "huge-bad-publish") {
			return fmt.Errorf("the log holds:\n%.2000s", log)
		}
		return nil
	})
	log := out.String()
	if !strings.Contains(log, "huge-bad-publish") || !strings.Contains(log, "second-connect") {
		t.Fatalf("the protocol errors were not logged at all:\n%.2000s", log)
	}
	for _, leak := range []string{password, fmt.Sprint([]byte(password)), fmt.Sprint([]byte(password))[1:20]} {
		if strings.Contains(log, leak) {
			t.Errorf("the password is in the log as %q", leak)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if n := len(sc.Text()); n > 2048 {
			t.Errorf("a log line is %d bytes (want at most 2 KB): %.300s…", n, sc.Text())
		}
	}
}

// waitClosed reads until the broker closes the connection.
func waitClosed(t *testing.T, conn net.Conn, r *bufio.Reader) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(testTimeout))
	for {
		if _, err := readRaw(r); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the broker did not close the connection")
			}
			return
		}
	}
}

func TestLogScrubKeepsUsefulAttributes(t *testing.T) {
	var out bytes.Buffer
	log := mochiLogger(slog.New(slog.NewTextHandler(&out, nil)))
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "t", Payload: []byte("payload-bytes")}
	log.Warn("error processing packet", "error", packets.ErrProtocolViolationSurplusWildcard, "client", "c1",
		"pk", pk, "packet", &pk, "raw", []byte("secret-bytes"), "long", strings.Repeat("x", 5000),
		slog.Group("g", "pk", pk))
	got := out.String()
	for _, want := range []string{"client=c1", "protocol violation: topic contains wildcards", "pk=Publish", "raw=\"[12 bytes]\""} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %s", want, got)
		}
	}
	for _, leak := range []string{"payload-bytes", "secret-bytes", strings.Repeat("x", 600)} {
		if strings.Contains(got, leak) {
			t.Errorf("leaked %.40q in %s", leak, got)
		}
	}
}
