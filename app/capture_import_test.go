package app

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// In a re-executed test binary (see command), IOTSTUDIO_TEST_FAST_PROGRESS
// makes the import print a progress line at every check, so that a test
// can send its signal part-way.
func init() {
	if os.Getenv("IOTSTUDIO_TEST_FAST_PROGRESS") == "1" {
		importProgressEvery = 0
	}
}

// export runs capture export --format jsonl of data to a new file and
// returns the file's path.
func exportJSONL(t *testing.T, data string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "capture.jsonl")
	if code, _, stderr := runInProcess([]string{"capture", "export", "--data", data, "--out", out}, ""); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	return out
}

// Export, import into an empty data dir, export again: the same bytes.
func TestCaptureImportRoundTrip(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	fillCapture(t, src, 600)
	first := exportJSONL(t, src)
	defer func(d time.Duration) { importProgressEvery = d }(importProgressEvery)
	importProgressEvery = 0 // a progress line at every check

	code, stdout, stderr := runInProcess([]string{"capture", "import", "--data", dst, first}, "")
	if code != 0 || stdout != fmt.Sprintf("imported 600 records from %s\n", first) {
		t.Fatalf("import: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, want := range []string{"checked 0 records (0%)\n", "checked 600 records (100%)\n", "imported 256 records (", "imported 512 records (", "imported 600 records (100%)\n"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q: no %q", stderr, want)
		}
	}
	second := exportJSONL(t, dst)
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if len(a) == 0 || string(a) != string(b) {
		t.Fatalf("export after import differs from the original (%d and %d bytes)", len(a), len(b))
	}
	if _, out, _ := runInProcess([]string{"capture", "stats", "--data", dst}, ""); !hasRow(out, "records", "600") {
		t.Fatalf("stats after import:\n%s", out)
	}
}

// A bad line anywhere: exit 1, FILE:LINE and the field on stderr, and not
// one record imported.
func TestCaptureImportBadFileImportsNothing(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	fillCapture(t, src, 300)
	file := exportJSONL(t, src)
	raw, _ := os.ReadFile(file)
	lines := strings.SplitAfter(string(raw), "\n")
	lines[299] = strings.Replace(lines[299], `"qos":0`, `"qos":7`, 1)
	if err := os.WriteFile(file, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runInProcess([]string{"capture", "import", "--data", dst, file}, "")
	if code != 1 || stdout != "" || !strings.Contains(stderr, file+`:300: field "qos" is 7; MQTT QoS is 0, 1 or 2`) || !strings.Contains(stderr, "nothing was imported") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, out, _ := runInProcess([]string{"capture", "stats", "--data", dst}, ""); !hasRow(out, "records", "0") {
		t.Fatalf("stats after a refused import:\n%s", out)
	}
}

// Records older than the retention would be deleted right after the
// import, so they are refused unless the import is told the limits that
// keep them (as serve is).
func TestCaptureImportRetention(t *testing.T) {
	data := t.TempDir()
	old := time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339Nano)
	file := filepath.Join(t.TempDir(), "old.jsonl")
	line := `{"time":"` + old + `","topic":"plant/a/power","payload":"1500"}` + "\n"
	if err := os.WriteFile(file, []byte(line+line), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runInProcess([]string{"capture", "import", "--data", data, file}, "")
	if code != 1 || stdout != "" || !strings.Contains(stderr, file+":1: 2 of the 2 records are older than the capture keeps records (maximum age 7d;") ||
		!strings.Contains(stderr, "nothing was imported") || !strings.Contains(stderr, "the capture keeps 1.0GiB for 7d") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, out, _ := runInProcess([]string{"capture", "stats", "--data", data}, ""); !hasRow(out, "records", "0") {
		t.Fatalf("stats after a refused import:\n%s", out)
	}
	code, stdout, stderr = runInProcess([]string{"capture", "import", "--data", data, "--capture-max-age", "60d", file}, "")
	if code != 0 || stdout != fmt.Sprintf("imported 2 records from %s\n", file) {
		t.Fatalf("with --capture-max-age 60d: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The 60 days are saved with the capture: a later command without
	// limits keeps the records.
	if _, out, _ := runInProcess([]string{"capture", "stats", "--data", data}, ""); !hasRow(out, "records", "2") {
		t.Fatalf("stats after the import:\n%s", out)
	}
}

func TestCaptureImportUsage(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "x.jsonl")
	if err := os.WriteFile(file, []byte(""), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.jsonl")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no file", []string{"--data", data}, 2, "give the JSONL FILE to import"},
		{"two files", []string{"--data", data, file, file}, 2, "one FILE at a time; got 2"},
		{"flag after file", []string{missing, "--data", data}, 1, missing + ": no such file or directory; nothing was imported"},
		{"unknown flag", []string{"--format", "csv", file}, 2, "flag provided but not defined: --format"},
		{"bad retention", []string{"--data", data, "--capture-max-age", "forever", file}, 2, `--capture-max-age: age "forever"`},
		{"directory", []string{"--data", data, data}, 2, data + " is a directory"},
		{"missing file", []string{"--data", data, missing}, 1, missing + ": no such file or directory; nothing was imported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runInProcess(append([]string{"capture", "import"}, tc.args...), "")
			if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d mentioning %q", code, stdout, stderr, tc.code, tc.want)
			}
			if names := dirNames(t, data); len(names) != 0 {
				t.Fatalf("data dir holds %v after a usage error", names)
			}
		})
	}
	code, stdout, stderr := runInProcess([]string{"capture", "import", "--data", data, file}, "")
	if code != 0 || stdout != fmt.Sprintf("imported 0 records from %s\n", file) {
		t.Fatalf("empty file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// Ctrl-C (SIGINT) part-way through a real process stops the import; what
// was imported stays, and the error says how much that is.
func TestCaptureImportInterrupted(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	fillCapture(t, src, 20_000)
	file := exportJSONL(t, src)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := command(ctx, "capture", "import", "--data", dst, file)
	cmd.Env = append(cmd.Env, "IOTSTUDIO_TEST_FAST_PROGRESS=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var rest strings.Builder
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		if !signalled && strings.HasPrefix(line, "imported 256 records") {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			signalled = true
			continue
		}
		if signalled {
			rest.WriteString(line + "\n")
		}
	}
	err = cmd.Wait()
	if !signalled {
		t.Fatalf("no progress line while importing; exit %v, stdout %q", err, stdout.String())
	}
	m := regexp.MustCompile(`cancelled after (\d+) of 20000 records; those (\d+) stay in the capture`).FindStringSubmatch(rest.String())
	if err == nil || cmd.ProcessState.ExitCode() != 1 || stdout.String() != "" || m == nil || m[1] != m[2] {
		t.Fatalf("exit %v, stdout %q, stderr after the signal %q", err, stdout.String(), rest.String())
	}
	t.Logf("after SIGINT: %s", m[0])
	if _, out, _ := runInProcess([]string{"capture", "stats", "--data", dst}, ""); !hasRow(out, "records", m[1]) {
		t.Fatalf("the error says %s records stay; stats says\n%s", m[1], out)
	}
}
