package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

// serve captures by default; after it stops, capture query and stats see
// exactly what was published.
func TestServeCapturesAndQueryFindsIt(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, _, stderr := serveAndPublish(ctx, t, data)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve: %v; stderr: %s", err, stderr.String())
	}

	code, out, errOut := runInProcess([]string{"capture", "query", "--data", data, "--topic", "plant/+/power", "--format", "jsonl", "--oldest-first"}, "")
	if code != 0 {
		t.Fatalf("capture query: exit %d: %s", code, errOut)
	}
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, m)
	}
	if len(got) != 2 || got[0]["topic"] != "plant/a/power" || got[0]["payload"] != `{"kw": 3.5}` || got[0]["client_id"] != "meter" || got[1]["topic"] != "plant/b/power" {
		t.Fatalf("query returned %v", got)
	}
	code, out, errOut = runInProcess([]string{"capture", "query", "--data", data, "--where", "kw > 2", "--format", "jsonl"}, "")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"topic":"plant/a/power"`) {
		t.Fatalf("--where 'kw > 2': exit %d, %q %s", code, out, errOut)
	}
	code, out, _ = runInProcess([]string{"capture", "stats", "--data", data}, "")
	if code != 0 || !hasRow(out, "records", "3") || !hasRow(out, "dropped", "0") || strings.Contains(out, "record bytes  0\n") {
		t.Fatalf("capture stats: exit %d:\n%s", code, out)
	}
}

// serveAndPublish runs serve on data and publishes three messages to it,
// two of them on plant/+/power, as client "meter".
func serveAndPublish(ctx context.Context, t *testing.T, data string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	cmd := command(ctx, "serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--data", data)
	stdout, _ := cmd.StdoutPipe()
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
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
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "meter", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ topic, payload string }{{"plant/a/power", `{"kw": 3.5}`}, {"plant/b/power", `{"kw": 1.0}`}, {"office/temp", "21"}} {
		if _, err := c.Publish(ctx, &paho.Publish{Topic: m.topic, Payload: []byte(m.payload), QoS: 1}); err != nil {
			t.Fatal(err)
		}
	}
	c.Disconnect(&paho.Disconnect{})
	return cmd, addr, stderr
}

// While serve holds the capture, the read-only capture commands read it
// through serve; the writing ones are still refused, clearly.
func TestCaptureCommandsReadWhileServeRuns(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, addr, stderr := serveAndPublish(ctx, t, data)

	testkit.EventuallyErr(t, "capture stats to count 3 records while serve runs", func() error {
		if code, out, errOut := runInProcess([]string{"capture", "stats", "--data", data}, ""); code != 0 || !hasRow(out, "records", "3") {
			return fmt.Errorf("exit %d: %s%s", code, out, errOut)
		}
		return nil
	})
	code, out, errOut := runInProcess([]string{"capture", "query", "--data", data, "--where", "kw > 2", "--format", "jsonl"}, "")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"topic":"plant/a/power"`) || !strings.Contains(out, `"client_id":"meter"`) {
		t.Fatalf("query --where 'kw > 2' while serve runs: exit %d, %q %s", code, out, errOut)
	}
	code, _, errOut = runInProcess([]string{"capture", "query", "--data", data, "--where", "kw >"}, "")
	if code != 2 || !strings.Contains(errOut, "--where") {
		t.Errorf("a bad --where while serve runs: exit %d, %s", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "all.jsonl")
	code, _, errOut = runInProcess([]string{"capture", "export", "--data", data, "--out", file}, "")
	if got, err := os.ReadFile(file); code != 0 || err != nil || strings.Count(string(got), "\n") != 3 {
		t.Fatalf("export while serve runs: exit %d, %v, %q %s", code, err, got, errOut)
	}
	code, out, errOut = runInProcess([]string{"capture", "replay", "--data", data, "--to", "mqtt://" + addr, "--speed", "max",
		"--topic", "plant/#", "--remap", "plant=replayed"}, "")
	if code != 0 || !strings.Contains(out, "replayed 2 records") {
		t.Fatalf("replay while serve runs: exit %d, %q %s", code, out, errOut)
	}
	code, _, errOut = runInProcess([]string{"capture", "import", "--data", data, file}, "")
	if code == 0 || !strings.Contains(errOut, "locked") {
		t.Errorf("import while serve runs: exit %d, %s; want it refused as locked", code, errOut)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve: %v; stderr: %s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(data, captureSocket)); !os.IsNotExist(err) {
		t.Errorf("serve left its socket behind: %v", err)
	}
}

// hasRow reports whether the two-column output has the row "name value".
func hasRow(out, name, value string) bool {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == name && f[1] == value {
			return true
		}
	}
	return false
}

func TestCaptureQueryBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"capture", "query", "--data", dir, "--topic", "a/#/b"}, "a/#/b"},
		{[]string{"capture", "query", "--data", dir, "--since", "yesterday"}, "--since"},
		{[]string{"capture", "query", "--data", dir, "--format", "xml"}, "--format"},
		{[]string{"capture", "frob"}, `unknown capture command "frob"`},
		{[]string{"capture", "query", "--data", dir, "--where", "temp >"}, "--where"},
	}
	for _, tc := range cases {
		code, _, stderr := runInProcess(tc.args, "")
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestPreview(t *testing.T) {
	cases := []struct {
		in   []byte
		want string
	}{
		{[]byte("21.5"), "21.5"},
		{[]byte("a\nb"), `a\nb`},
		{[]byte{0xff, 0x00}, "ff00"},
		{[]byte(strings.Repeat("é", 70)), strings.Repeat("é", 60) + "… (140 bytes)"},
	}
	for _, tc := range cases {
		if got := preview(tc.in, 60); got != tc.want {
			t.Errorf("preview(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
