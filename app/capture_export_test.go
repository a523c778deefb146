package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
)

// fillCapture writes n records to DATA/capture, alternating between two
// topics, and closes the store.
func fillCapture(t *testing.T, data string, n int) {
	t.Helper()
	store, err := capture.Open(captureDir(data), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	base := time.Now().Add(-time.Hour)
	for i := range n {
		topic := "plant/a/power"
		if i%2 == 1 {
			topic = "office/temp"
		}
		payload := fmt.Sprintf(`{"n": %d, "text": "a,b\n\"c\""}`, i)
		if !store.Ingest(message.Message{Time: base.Add(time.Duration(i) * time.Millisecond), Source: "broker", ClientID: "meter", Protocol: 4, Topic: topic, Payload: []byte(payload)}) {
			t.Fatal("ingest dropped a record")
		}
	}
	if err := store.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestCaptureExportJSONL(t *testing.T) {
	data, outDir := t.TempDir(), t.TempDir()
	fillCapture(t, data, 600)
	out := filepath.Join(outDir, "all.jsonl")
	defer func(d time.Duration) { exportProgressEvery = d }(exportProgressEvery)
	exportProgressEvery = 0 // a progress line at every check

	code, stdout, stderr := runInProcess([]string{"capture", "export", "--data", data, "--format", "jsonl", "--out", out}, "")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	if want := fmt.Sprintf("exported 600 records to %s\n", out); stdout != want {
		t.Fatalf("stdout %q, want %q", stdout, want)
	}
	if !strings.Contains(stderr, "exported 256 records\n") || !strings.Contains(stderr, "exported 512 records\n") {
		t.Fatalf("stderr %q: want progress lines", stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 600 {
		t.Fatalf("%d lines, want 600", len(lines))
	}
	topics := map[string]int{}
	var lastSeq float64
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		topics[m["topic"].(string)]++
		if seq := m["seq"].(float64); seq <= lastSeq {
			t.Fatalf("line %d: seq %v after %v; want oldest first", i, seq, lastSeq)
		} else {
			lastSeq = seq
		}
		if want := fmt.Sprintf(`{"n": %d, "text": "a,b\n\"c\""}`, i); m["payload"] != want {
			t.Fatalf("line %d payload %q, want %q", i, m["payload"], want)
		}
	}
	if topics["plant/a/power"] != 300 || topics["office/temp"] != 300 || len(topics) != 2 {
		t.Fatalf("topics %v", topics)
	}
	if names := dirNames(t, outDir); len(names) != 1 {
		t.Fatalf("out dir holds %v, want only all.jsonl", names)
	}

	// A filter selects; the file is replaced as a whole.
	code, stdout, stderr = runInProcess([]string{"capture", "export", "--data", data, "--out", out, "--topic", "office/#", "--contains", `"n": 1`}, "")
	if code != 0 {
		t.Fatalf("filtered export: exit %d: %s", code, stderr)
	}
	raw, _ = os.ReadFile(out)
	// office/temp has the odd n; those containing `"n": 1` are 1, 11, 13, ..., 19, 101, 103, ..., 199.
	if n := strings.Count(string(raw), "\n"); n != 1+5+50 || !strings.HasPrefix(stdout, "exported 56 records") {
		t.Fatalf("filtered export: %d lines, stdout %q", n, stdout)
	}
}

func TestCaptureExportCSV(t *testing.T) {
	data := t.TempDir()
	fillCapture(t, data, 10)
	out := filepath.Join(t.TempDir(), "all.csv")
	code, stdout, stderr := runInProcess([]string{"capture", "export", "--data", data, "--format", "csv", "--out", out}, "")
	if code != 0 || !strings.HasPrefix(stdout, "exported 10 records") {
		t.Fatalf("export: exit %d, %q: %s", code, stdout, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 11 || strings.Join(rows[0], ",") != strings.Join(capture.CSVHeader, ",") {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	for i, row := range rows[1:] {
		if want := fmt.Sprintf(`{"n": %d, "text": "a,b\n\"c\""}`, i); row[8] != want || row[5] == "" {
			t.Fatalf("row %d = %v, want payload %q", i+1, row, want)
		}
	}

	// An empty selection still writes the header.
	code, _, stderr = runInProcess([]string{"capture", "export", "--data", data, "--format", "csv", "--out", out, "--topic", "nothing/here"}, "")
	if raw, _ := os.ReadFile(out); code != 0 || string(raw) != strings.Join(capture.CSVHeader, ",")+"\n" {
		t.Fatalf("empty export: exit %d (%s), file %q", code, stderr, raw)
	}
}

func TestCaptureExportLeavesNoFileOnFailure(t *testing.T) {
	data := t.TempDir()
	fillCapture(t, data, 5)
	outDir := t.TempDir()
	existing := filepath.Join(outDir, "keep.jsonl")
	if err := os.WriteFile(existing, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"invalid filter", []string{"--out", filepath.Join(outDir, "x.jsonl"), "--topic", "a/#/b"}, 2, "a/#/b"},
		{"invalid filter, existing file", []string{"--out", existing, "--topic", "a/#/b"}, 2, "a/#/b"},
		{"bad since", []string{"--out", existing, "--since", "yesterday"}, 2, "--since"},
		{"table format", []string{"--out", existing, "--format", "table"}, 2, "--format"},
		{"no out", []string{}, 2, "--out FILE is required"},
		{"out is a directory", []string{"--out", outDir}, 2, "is a directory"},
		{"missing directory", []string{"--out", filepath.Join(outDir, "no", "such", "x.jsonl")}, 1, "no such file or directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"capture", "export", "--data", data}, tc.args...)
			code, _, stderr := runInProcess(args, "")
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.want)
			}
			if names := dirNames(t, outDir); len(names) != 1 || names[0] != "keep.jsonl" {
				t.Fatalf("out dir holds %v", names)
			}
			if raw, _ := os.ReadFile(existing); string(raw) != "old\n" {
				t.Fatalf("existing file changed to %q", raw)
			}
		})
	}

	t.Run("directory not writable", func(t *testing.T) {
		ro := t.TempDir()
		if err := os.Chmod(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(ro, 0o700)
		if f, err := os.CreateTemp(ro, "probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			t.Skip("running with privileges that ignore directory permissions")
		}
		out := filepath.Join(ro, "x.jsonl")
		code, stdout, stderr := runInProcess([]string{"capture", "export", "--data", data, "--out", out}, "")
		if code != 1 || !strings.Contains(stderr, out) || stdout != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 naming %s", code, stdout, stderr, out)
		}
		if names := dirNames(t, ro); len(names) != 0 {
			t.Fatalf("unwritable dir holds %v", names)
		}
	})
}

func TestCaptureClear(t *testing.T) {
	data := t.TempDir()
	fillCapture(t, data, 7)
	dir := captureDir(data)

	code, stdout, stderr := runInProcess([]string{"capture", "clear", "--data", data}, "")
	if code != 2 || !strings.Contains(stderr, "would delete 7 records") || !strings.Contains(stderr, dir) || !strings.Contains(stderr, "--yes") {
		t.Fatalf("clear without --yes: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, out, _ := runInProcess([]string{"capture", "stats", "--data", data}, ""); !hasRow(out, "records", "7") {
		t.Fatalf("records gone after a refused clear:\n%s", out)
	}

	code, stdout, stderr = runInProcess([]string{"capture", "clear", "--data", data, "--yes"}, "")
	if code != 0 || stdout != fmt.Sprintf("deleted 7 records from %s\n", dir) {
		t.Fatalf("clear --yes: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if names := dirNames(t, data); len(names) != 0 {
		t.Fatalf("data dir holds %v after clear, want nothing", names)
	}
	code, stdout, _ = runInProcess([]string{"capture", "clear", "--data", data, "--yes"}, "")
	if code != 0 || !strings.Contains(stdout, "nothing to clear") {
		t.Fatalf("clear of nothing: exit %d, %q", code, stdout)
	}
	if _, out, _ := runInProcess([]string{"capture", "stats", "--data", data}, ""); !hasRow(out, "records", "0") {
		t.Fatalf("stats after clear:\n%s", out)
	}
}

func TestCaptureClearRefusesLockedOrDamagedStore(t *testing.T) {
	data := t.TempDir()
	fillCapture(t, data, 3)
	dir := captureDir(data)
	abs, _ := filepath.Abs(dir)
	held, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--yes"}, {}} {
		code, stdout, stderr := runInProcess(append([]string{"capture", "clear", "--data", data}, args...), "")
		if code == 0 || !strings.Contains(stderr, abs) || !strings.Contains(stderr, "nothing was deleted") || !strings.Contains(stderr, "another IoT Studio") {
			t.Fatalf("clear %v of a held store: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	if names := dirNames(t, data); len(names) != 1 || names[0] != "capture" {
		t.Fatalf("data dir holds %v", names)
	}
	if st, err := held.Stats(); err != nil || st.Records != 3 {
		t.Fatalf("held store after refused clear: %+v, %v", st, err)
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}

	// A damaged store is not deleted either.
	manifest := filepath.Join(dir, "MANIFEST")
	if err := os.WriteFile(manifest, []byte("definitely not a manifest"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := dirNames(t, dir)
	code, _, stderr := runInProcess([]string{"capture", "clear", "--data", data, "--yes"}, "")
	if code == 0 || !strings.Contains(stderr, abs) || !strings.Contains(stderr, "nothing was deleted") {
		t.Fatalf("clear of a damaged store: exit %d, stderr %q", code, stderr)
	}
	if after := dirNames(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("damaged store changed from %v to %v", before, after)
	}
	if raw, _ := os.ReadFile(manifest); string(raw) != "definitely not a manifest" {
		t.Fatalf("MANIFEST rewritten: %q", raw)
	}
}
