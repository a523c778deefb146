package broker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

const emfileChildEnv = "BROKER_TEST_EMFILE_CHILD"

// Finding 2: running out of descriptors must not kill the listener. The
// broker runs in a child process with a low open-file limit; idle
// connections exhaust it, accept fails with EMFILE (logged once, with what
// to do), and once they are released a new client is served again.
func TestAcceptSurvivesEMFILE(t *testing.T) {
	if os.Getenv(emfileChildEnv) == "1" {
		runEMFILEChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	child := startChildBroker(ctx, t, "TestAcceptSurvivesEMFILE", emfileChildEnv+"=1")
	addr, stderr := child.addr, child.stderr

	start := time.Now()
	var idle []net.Conn
	release := func() {
		for _, c := range idle {
			c.Close()
		}
		idle = nil
	}
	defer release()
	for range 100 { // twice the child's descriptor limit
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
		time.Sleep(2 * time.Millisecond) // let the child accept it
	}
	for !strings.Contains(stderr.String(), "too many open files") && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		if time.Since(start) > 5*time.Second {
			break // judged below, after checking the listener still serves
		}
	}
	release()

	var lastErr error
	for ctx.Err() == nil {
		c, err := rawmqtt.Dial(ctx, addr, "after-emfile", 4096, 4096)
		if err == nil {
			c.Close()
			break
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Fatalf("no CONNACK after the descriptors were released: %v; stderr:\n%s", lastErr, stderr.String())
	}
	if !strings.Contains(stderr.String(), "raise ulimit -n") {
		t.Errorf("the accept failure was not logged with what to do:\n%s", stderr.String())
	}
	if n := strings.Count(stderr.String(), "cannot accept"); n != 1 {
		t.Errorf("the accept failure was logged %d times, want once per episode:\n%s", n, stderr.String())
	}
}

func runEMFILEChild(t *testing.T) {
	testkit.LimitOpenFiles(t, 48)
	b, err := New(Config{
		MQTTAddr: "127.0.0.1:0", NoPersistence: true,
		MaxConnections: 1000,             // above the descriptor limit: accept itself must fail
		ConnectTimeout: 50 * time.Second, // idle connections stay for the whole test
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	fmt.Printf("listening %s\n", listenerAddr(t, b, "mqtt"))
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent is done
}
