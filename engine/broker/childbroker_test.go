package broker

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childBroker is a broker in a child process: this test binary running
// one test that starts a broker, prints "listening ADDR" and serves until
// its stdin closes. Tests use it to kill a broker or limit its descriptors.
type childBroker struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	stderr *lockedBuffer
	addr   string
}

// startChildBroker runs test in a child process with env (NAME=VALUE) set
// and returns once it listens. It is killed when the test ends.
func startChildBroker(ctx context.Context, t *testing.T, test, env string) childBroker {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	c := childBroker{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "listening "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			c.addr = addr
			return c
		}
	}
	t.Fatalf("the child broker printed no address (%v); stderr:\n%s", lines.Err(), c.stderr.String())
	return c
}

// stop closes the child's stdin, which stops its broker cleanly.
func (c childBroker) stop(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("broker child: %v; stderr:\n%s", err, c.stderr.String())
	}
}
