package app

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// replayTarget is a broker on loopback port 0 with a subscriber to "#".
type replayTarget struct {
	url  string
	msgs chan replayed
}

type replayed struct {
	at time.Time
	p  *paho.Publish
}

func startReplayTarget(t *testing.T) *replayTarget {
	t.Helper()
	b := brokertest.Start(t, func(c *broker.Config) {
		*c = broker.DefaultConfig(c.DataDir) // the limits serve runs with
		c.MQTTAddr, c.WSAddr, c.NoPersistence, c.Logger = "127.0.0.1:0", "", true, testkit.Logger()
	})
	rt := &replayTarget{url: b.State().Listeners[0].URL, msgs: make(chan replayed, 1000)}
	conn, err := net.Dial("tcp", strings.TrimPrefix(rt.url, "mqtt://"))
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) {
			rt.msgs <- replayed{time.Now(), pr.Packet}
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "watcher", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "#", QoS: 2, RetainAsPublished: true}}}); err != nil {
		t.Fatal(err)
	}
	return rt
}

func (rt *replayTarget) take(t *testing.T, n int) []replayed {
	t.Helper()
	var out []replayed
	deadline := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case m := <-rt.msgs:
			out = append(out, m)
		case <-deadline:
			t.Fatalf("the broker delivered %d of %d replayed messages", len(out), n)
		}
	}
	return out
}

// fillReplay writes records at the given offsets to DATA/capture: topic
// "plant/a/power", payloads "0", "1", ..., retained, QoS 0; plus one
// "office/temp" record that filters should leave out.
func fillReplay(t *testing.T, data string, offsets []time.Duration) {
	t.Helper()
	store, err := capture.Open(captureDir(data), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	base := time.Now().Add(-2 * time.Hour)
	for i, off := range offsets {
		if !store.Ingest(message.Message{Time: base.Add(off), Source: "broker", ClientID: "meter", Protocol: 5,
			Topic: "plant/a/power", Payload: []byte(strconv.Itoa(i)), Retain: true}) {
			t.Fatal("ingest dropped a record")
		}
	}
	if !store.Ingest(message.Message{Time: base.Add(time.Millisecond), Topic: "office/temp", Payload: []byte("21")}) {
		t.Fatal("ingest dropped a record")
	}
	if err := store.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
}

// The headless replay end to end, as a separate process: selection,
// remap, QoS override, retain cleared, 10x timing and the summary line.
func TestCaptureReplayEndToEnd(t *testing.T) {
	data := t.TempDir()
	offsets := make([]time.Duration, 30)
	for i := range offsets {
		offsets[i] = time.Duration(i) * 100 * time.Millisecond // 2.9 s captured
	}
	fillReplay(t, data, offsets)
	rt := startReplayTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := command(ctx, "capture", "replay", "--data", data, "--to", rt.url, "--speed", "10x",
		"--remap", "plant=replay/plant", "--qos", "1", "--no-retain", "--topic", "plant/#")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("capture replay: %v; stderr: %s", err, stderr.String())
	}
	want := "replayed 30 records to " + rt.url + " in "
	if out := stdout.String(); !strings.HasPrefix(out, want) || !strings.Contains(out, "captured over 2.9s, speed 10x") {
		t.Fatalf("stdout %q; want a summary starting %q", out, want)
	}
	got := rt.take(t, 30)
	for i, m := range got {
		if m.p.Topic != "replay/plant/a/power" || m.p.QoS != 1 || m.p.Retain || string(m.p.Payload) != strconv.Itoa(i) {
			t.Fatalf("message %d: %q QoS %d retain %v payload %q", i, m.p.Topic, m.p.QoS, m.p.Retain, m.p.Payload)
		}
	}
	// 2.9 s at 10x: about 290 ms, clearly neither real time nor instant.
	if span := got[29].at.Sub(got[0].at); span < 240*time.Millisecond || span > 1500*time.Millisecond {
		t.Fatalf("30 messages over %v; want about 290ms", span)
	}
	select {
	case m := <-rt.msgs:
		t.Fatalf("unexpected message on %q", m.p.Topic)
	case <-time.After(100 * time.Millisecond):
	}
}

// Ctrl-C in the middle of a long gap stops the replay at once and says
// how far it got, with a non-zero exit.
func TestCaptureReplayInterrupted(t *testing.T) {
	data := t.TempDir()
	fillReplay(t, data, []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, time.Hour, time.Hour + time.Second})
	rt := startReplayTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := command(ctx, "capture", "replay", "--data", data, "--to", rt.url, "--topic", "plant/#")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rt.take(t, 3)
	time.Sleep(100 * time.Millisecond)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !asExit(err, &exit) || exit.ExitCode() != exitFail {
		t.Fatalf("after SIGINT: %v, want exit status %d; stderr: %s", err, exitFail, stderr.String())
	}
	if d := time.Since(sent); d > 5*time.Second {
		t.Errorf("replay took %v to stop", d)
	}
	if !strings.Contains(stderr.String(), "replay interrupted after 3 of 5 records") {
		t.Fatalf("stderr %q", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout %q: no summary for an interrupted replay", stdout.String())
	}
}

// Progress lines go to stderr while the replay runs, spaced by
// replayProgressEvery.
func TestCaptureReplayProgress(t *testing.T) {
	defer func(d time.Duration) { replayProgressEvery = d }(replayProgressEvery)
	replayProgressEvery = 50 * time.Millisecond
	data := t.TempDir()
	offsets := make([]time.Duration, 10)
	for i := range offsets {
		offsets[i] = time.Duration(i) * 40 * time.Millisecond // 360 ms at 1x
	}
	fillReplay(t, data, offsets)
	rt := startReplayTarget(t)
	code, stdout, stderr := runInProcess([]string{"capture", "replay", "--data", data, "--to", rt.url, "--topic", "plant/#"}, "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) < 3 || len(lines) > 12 {
		t.Fatalf("%d progress lines for 360 ms at one per 50 ms:\n%s", len(lines), stderr)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "replayed ") || !strings.Contains(l, " of 10 records; at ") || !strings.Contains(l, "of 360ms captured") {
			t.Fatalf("progress line %q", l)
		}
	}
	if !strings.HasPrefix(stdout, "replayed 10 records to ") {
		t.Fatalf("stdout %q", stdout)
	}
	rt.take(t, 10)
}

func TestCaptureReplayBadInput(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "mqtt://" + l.Addr().String()
	l.Close()
	base := []string{"capture", "replay", "--data", dir}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "--to URL is required"},
		{[]string{"--to", "localhost:1883"}, exitUsage, "give a URL such as mqtt://HOST:PORT"},
		{[]string{"--to", "http://h"}, exitUsage, `unsupported scheme "http"`},
		{[]string{"--to", "mqtt://bob:hunter2@h"}, exitUsage, "must not hold a user name or password"},
		{[]string{"--to", closed, "--speed", "fast"}, exitUsage, `--speed "fast"`},
		{[]string{"--to", closed, "--speed", "0"}, exitUsage, "or max"},
		{[]string{"--to", closed, "--speed", "-2"}, exitUsage, `--speed "-2"`},
		{[]string{"--to", closed, "--speed", "NaN"}, exitUsage, `--speed "NaN"`},
		{[]string{"--to", closed, "--remap", "plant"}, exitUsage, "OLD=NEW"},
		{[]string{"--to", closed, "--remap", "a=#"}, exitUsage, "wildcard"},
		{[]string{"--to", closed, "--remap", "a=b", "--remap", "a=c"}, exitUsage, "remapped twice"},
		{[]string{"--to", closed, "--qos", "3"}, exitUsage, `--qos "3": give 0, 1 or 2`},
		{[]string{"--to", closed, "--ca", "ca.pem"}, exitUsage, "--ca applies to mqtts:// and wss://"},
		{[]string{"--to", "mqtts://127.0.0.1:1", "--ca", dir + "/missing.pem"}, exitUsage, "missing.pem"},
		{[]string{"--to", closed, "--topic", "a/#/b"}, exitUsage, "a/#/b"},
		{[]string{"--to", closed, "--since", "soon"}, exitUsage, "--since"},
		{[]string{"--to", closed, "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"--to", closed}, exitFail, "connection refused"},
	}
	for _, tc := range cases {
		code, _, stderr := runInProcess(append(append([]string{}, base...), tc.args...), "")
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("%v: stderr shows the password: %q", tc.args, stderr)
		}
	}
}

// A replay that selects nothing says so and succeeds.
func TestCaptureReplayNothingSelected(t *testing.T) {
	data := t.TempDir()
	fillReplay(t, data, []time.Duration{0})
	rt := startReplayTarget(t)
	code, stdout, stderr := runInProcess([]string{"capture", "replay", "--data", data, "--to", rt.url, "--topic", "nowhere/#"}, "")
	if code != 0 || stdout != "no records match; nothing replayed\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
