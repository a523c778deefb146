package app

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/auth"
)

// TestMain lets a test re-run this binary as `iotstudio` (see command), so
// serve is tested as a real process receiving real signals.
func TestMain(m *testing.M) {
	if os.Getenv("IOTSTUDIO_AS_MAIN") == "1" {
		// A child's give-up time, which in-process tests set directly.
		if d, err := time.ParseDuration(os.Getenv("IOTSTUDIO_FIRST_ROUND_SLACK")); err == nil {
			firstRoundSlack = d
		}
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	// Fyne's package init complains on stderr about the C locale.
	cmd.Env = append(os.Environ(), "IOTSTUDIO_AS_MAIN=1", "LANG=en_US.UTF-8")
	return cmd
}

func runInProcess(args []string, stdin string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut})
	return code, out.String(), errOut.String()
}

var listeningLine = regexp.MustCompile(`^(mqtt|ws|tls) listening on 127\.0\.0\.1:(\d+)$`)

func TestServePrintsListenersAndStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := command(ctx, "serve", "--mqtt", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--tls", "127.0.0.1:0", "--dev-ca", "--data", t.TempDir())
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			addrs := map[string]string{}
			for len(addrs) < 3 && lines.Scan() {
				m := listeningLine.FindStringSubmatch(lines.Text())
				if m == nil {
					t.Fatalf("unexpected stdout line %q", lines.Text())
				}
				addrs[m[1]] = "127.0.0.1:" + m[2]
			}
			if len(addrs) != 3 {
				t.Fatalf("got listener lines %v; stderr: %s", addrs, stderr.String())
			}
			conn, err := net.DialTimeout("tcp", addrs["mqtt"], 5*time.Second)
			if err != nil {
				t.Fatalf("the printed mqtt address does not accept connections: %v", err)
			}
			conn.Close()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("serve after %v: %v (want exit 0); stderr: %s", sig, err, stderr.String())
			}
			if c, err := net.DialTimeout("tcp", addrs["mqtt"], time.Second); err == nil {
				c.Close()
				t.Fatal("port still open after serve exited")
			}
		})
	}
}

func TestServeBusyPortExitsTwo(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, "serve", "--mqtt", taken.Addr().String(), "--ws", "off", "--data", t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !asExit(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("busy port: %v, want exit status 2", err)
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, taken.Addr().String()) || !strings.Contains(msg, "already in use") {
		t.Fatalf("stderr %q: want one line naming the address and saying it is in use", msg)
	}
}

func asExit(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*target = e
	return ok
}

func TestCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"serve", "--bogus"}, "flag provided but not defined: --bogus"},
		{"bad address", []string{"serve", "--mqtt", "nonsense", "--data", dir}, "not HOST:PORT"},
		{"exposed without users", []string{"serve", "--mqtt", "0.0.0.0:0", "--ws", "off", "--data", dir}, "iotstudio users add"},
		{"tls without material", []string{"serve", "--tls", "127.0.0.1:0", "--data", dir}, "--dev-ca"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"stray argument", []string{"serve", "--data", dir, "extra"}, `unexpected argument "extra"`},
		{"bad log level", []string{"serve", "--log-level", "loud", "--data", dir}, "--log-level"},
		{"bad capture size", []string{"serve", "--capture-max-size", "huge", "--data", dir}, `--capture-max-size: size "huge"`},
		{"bad capture age", []string{"serve", "--capture-max-age", "7", "--data", dir}, `--capture-max-age: age "7": give an age such as 7d`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runInProcess(tc.args, "")
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tc.want)
			}
		})
	}
}

func TestUsersAddListRemove(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runInProcess([]string{"users", "add", "--data", dir, "alice"}, "correct horse\n")
	if code != 0 {
		t.Fatalf("users add: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "alice") {
		t.Fatalf("users add printed %q", out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "users.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("correct horse")) {
		t.Fatal("the users file contains the plaintext password")
	}
	users, err := auth.Load(filepath.Join(dir, "users.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !users.Authenticate("alice", []byte("correct horse")) || users.Authenticate("alice", []byte("wrong")) {
		t.Fatal("stored hash does not check the password")
	}
	if _, out, _ := runInProcess([]string{"users", "list", "--data", dir}, ""); !strings.HasPrefix(out, "alice\tfull access") {
		t.Fatalf("users list printed %q", out)
	}
	if code, _, stderr := runInProcess([]string{"users", "add", "--data", dir, "bob"}, ""); code != 2 || !strings.Contains(stderr, "no password on stdin") {
		t.Fatalf("empty password: exit %d %q", code, stderr)
	}
	if code, _, _ := runInProcess([]string{"users", "remove", "--data", dir, "alice"}, ""); code != 0 {
		t.Fatal("users remove failed")
	}
	if _, out, _ := runInProcess([]string{"users", "list", "--data", dir}, ""); out != "" {
		t.Fatalf("after remove, users list printed %q", out)
	}
}

func TestVersionAndCAExport(t *testing.T) {
	if code, out, _ := runInProcess([]string{"version"}, ""); code != 0 || !strings.HasPrefix(out, "iotstudio ") {
		t.Fatalf("version: exit %d %q", code, out)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "ca.pem")
	if code, _, stderr := runInProcess([]string{"ca", "export", "--data", dir, "--out", out}, ""); code != 0 {
		t.Fatalf("ca export: %s", stderr)
	}
	pem, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(pem, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Fatalf("exported CA %q, %v", pem, err)
	}
}
