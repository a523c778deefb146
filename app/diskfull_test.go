package app

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/smalldisk"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// serveProcess is a serve child process and what it printed.
type serveProcess struct {
	t      *testing.T
	data   string
	addr   string // "" if it did not start
	stderr *lockedBuffer
	done   chan struct{} // closed when it has exited
	err    error         // its exit status, once done is closed
	cmd    interface{ Signal(os.Signal) error }
}

// startServe runs serve on data and waits until it listens or exits.
func startServe(ctx context.Context, t *testing.T, data string) *serveProcess {
	t.Helper()
	cmd := command(ctx, "serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--data", data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{t: t, data: data, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.cmd = cmd.Process
	lines := bufio.NewScanner(stdout)
	for p.addr == "" && lines.Scan() {
		p.addr, _ = strings.CutPrefix(lines.Text(), "mqtt listening on ")
	}
	go io.Copy(io.Discard, stdout)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	if p.addr == "" {
		<-p.done
	}
	return p
}

// crashed fails the test if the process died of a signal or a Go fatal
// error (a SIGBUS from a memory-mapped file on a full disk is both).
func (p *serveProcess) crashed() {
	p.t.Helper()
	if strings.Contains(p.stderr.String(), "SIGBUS") || strings.Contains(p.stderr.String(), "fatal error") {
		p.t.Fatalf("serve crashed:\n%s", tail(p.stderr.String()))
	}
}

// alive fails the test if the process has exited.
func (p *serveProcess) alive() {
	p.t.Helper()
	select {
	case <-p.done:
		p.t.Fatalf("serve exited (%v):\n%s", p.err, tail(p.stderr.String()))
	default:
	}
	p.crashed()
}

// stop stops the process with SIGTERM and fails the test unless it exits
// cleanly.
func (p *serveProcess) stop() {
	p.t.Helper()
	_ = p.cmd.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("serve did not stop within 30 s of SIGTERM:\n%s", tail(p.stderr.String()))
	}
	p.crashed()
	if p.err != nil {
		p.t.Fatalf("serve: %v:\n%s", p.err, tail(p.stderr.String()))
	}
}

// tail shortens serve's log to the part worth reading: from a Go fatal
// error on, or else the end.
func tail(s string) string {
	if i := strings.Index(s, "fatal error"); i >= 0 {
		return s[max(0, i-1000):min(len(s), i+3000)]
	}
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

func dialMQTT(ctx context.Context, t *testing.T, addr, id string, clean bool, onPublish func()) *paho.Client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := paho.ClientConfig{Conn: conn}
	if onPublish != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){
			func(paho.PublishReceived) (bool, error) { onPublish(); return true, nil },
		}
	}
	c := paho.NewClient(cfg)
	expiry := uint32(3600)
	cp := &paho.Connect{ClientID: id, CleanStart: clean, KeepAlive: 30}
	if !clean {
		cp.Properties = &paho.ConnectProperties{SessionExpiryInterval: &expiry}
	}
	if _, err := c.Connect(ctx, cp); err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return c
}

// statsRow returns the value of a row of capture stats' output.
func statsRow(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func statsCount(t *testing.T, out, name string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(statsRow(out, name), 10, 64)
	if err != nil {
		t.Fatalf("capture stats has no %q count:\n%s", name, out)
	}
	return n
}

// A full disk must not take the broker down: with the data dir on a small
// filesystem, serve keeps routing 100 KB QoS 1 messages after the capture
// and the session store ran out of space, capture stats says the disk is
// full and counts the drops, writing resumes once space is freed, and serve
// starts again on the full directory (or says plainly why it cannot).
func TestServeSurvivesFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a 20 MB disk")
	}
	// The stores keep about 7 MB free for Badger; 7 MB hold data. The
	// spare file gives back enough for what waits in memory when the
	// disk is full (capture blocks, the offline session's messages) and
	// for new messages.
	mnt := smalldisk.Mount(t, 24<<20)
	data := filepath.Join(mnt, "data")
	spare := filepath.Join(mnt, "spare") // space the test gives back
	if err := os.WriteFile(spare, make([]byte, 10<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := startServe(ctx, t, data)
	if srv.addr == "" {
		t.Fatalf("serve did not start on an empty 14 MB disk: %v\n%s", srv.err, srv.stderr.String())
	}

	// A persistent session that is offline: its messages go to the
	// session store.
	parked := dialMQTT(ctx, t, srv.addr, "parked", false, nil)
	if _, err := parked.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "fill/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	_ = parked.Disconnect(&paho.Disconnect{})
	var got atomic.Int64
	watcher := dialMQTT(ctx, t, srv.addr, "watcher", true, func() { got.Add(1) })
	if _, err := watcher.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "fill/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	pub := dialMQTT(ctx, t, srv.addr, "filler", true, nil)
	payload := make([]byte, 100<<10)
	_, _ = rand.Read(payload) // incompressible
	sent := int64(0)
	publish := func(n int, topic string) {
		t.Helper()
		for range n {
			if _, err := pub.Publish(ctx, &paho.Publish{Topic: topic, Payload: payload, QoS: 1}); err != nil {
				srv.alive()
				t.Fatalf("publish %d: %v", sent, err)
			}
			sent++
		}
	}
	stats := func() string {
		t.Helper()
		code, out, errOut := runInProcess([]string{"capture", "stats", "--data", data}, "")
		if code != 0 {
			srv.alive()
			t.Fatalf("capture stats: exit %d: %s", code, errOut)
		}
		return out
	}
	fillUntilFull := func() string {
		t.Helper()
		for {
			out := stats()
			if strings.Contains(out, "disk full") && statsCount(t, out, "dropped") > 0 {
				return out
			}
			if sent >= 600 {
				t.Fatalf("60 MB published to a 20 MB disk, and capture stats never said it was full:\n%s\nserve:\n%s", out, tail(srv.stderr.String()))
			}
			publish(10, "fill/a")
			srv.alive()
		}
	}
	awaitRouted := func() {
		t.Helper()
		testkit.WithinErr(t, 30*time.Second, fmt.Sprintf("the subscriber to get all %d messages", sent), func() error {
			srv.alive()
			if n := got.Load(); n < sent {
				return fmt.Errorf("it got %d", n)
			}
			return nil
		})
	}

	full := fillUntilFull()
	t.Logf("disk full after %d messages:\n%s", sent, full)
	publish(20, "fill/b") // the broker routes on
	awaitRouted()
	srv.alive()

	// Space comes back: the capture writes new messages again by itself.
	if err := os.Remove(spare); err != nil {
		t.Fatal(err)
	}
	testkit.WithinErr(t, 30*time.Second, "the capture to write again once 10 MB are freed", func() error {
		publish(1, "fill/c")
		code, out, errOut := runInProcess([]string{"capture", "query", "--data", data, "--topic", "fill/c", "--format", "jsonl"}, "")
		if code != 0 {
			t.Fatalf("capture query: exit %d: %s", code, errOut)
		}
		if strings.Count(out, "\n") == 0 {
			return testkit.Described(func() string { return fmt.Sprintf("it did not:\n%s\nserve:\n%s", stats(), tail(srv.stderr.String())) })
		}
		return nil
	})
	awaitRouted()

	// Full again, then stopped and started on the same directory.
	fillUntilFull()
	awaitRouted()
	srv.stop()
	again := startServe(ctx, t, data)
	again.crashed()
	if again.addr == "" {
		t.Fatalf("serve did not start again on the directory it filled: %v\n%s", again.err, again.stderr.String())
	}
	// Killed while full, its memtable logs are replayed at the next start:
	// where Badger died of SIGBUS before.
	srv, pub, sent, got = again, dialMQTT(ctx, t, again.addr, "filler2", true, nil), 0, atomic.Int64{}
	fillUntilFull()
	_ = again.cmd.Signal(syscall.SIGKILL)
	<-again.done
	again = startServe(ctx, t, data)
	again.crashed()
	if again.addr == "" {
		t.Fatalf("serve did not start again after a kill on the full directory: %v\n%s", again.err, again.stderr.String())
	}
	again.stop()

	// With no space left at all, serve refuses to start, and says why.
	smalldisk.Fill(t, filepath.Join(mnt, "hog"), 0)
	last := startServe(ctx, t, data)
	last.crashed()
	if last.addr != "" {
		last.stop()
		return
	}
	msg := last.stderr.String()
	t.Logf("serve on a full disk: %v: %s", last.err, msg)
	if !strings.Contains(msg, "free") || !strings.Contains(msg, data) || !strings.Contains(msg, "--data") {
		t.Errorf("serve on a full disk exited (%v) without saying that the disk is full:\n%s", last.err, msg)
	}
}
