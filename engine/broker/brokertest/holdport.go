package brokertest

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"testing"
)

// holdPortScript binds a loopback port, prints it, and holds it until its
// stdin closes.
const holdPortScript = `import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`

// HoldPort has another process (python3) listen on a free loopback port,
// as a program the user runs would, and returns that 127.0.0.1:PORT; the
// process ends with the test. Without python3 the test is skipped.
func HoldPort(t testing.TB) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is needed to hold a port in another process")
	}
	cmd := exec.Command(py, "-c", holdPortScript)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the port holder: %v", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the port holder printed no port: %v", err)
	}
	return net.JoinHostPort("127.0.0.1", strings.TrimSpace(line))
}
