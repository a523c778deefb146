package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A replay field plays a captured topic's values back in order: the
// device sends what the real one sent. Without a capture holding that
// topic, the file is refused with words, not run with empty values.
func TestSimulateReplaysACapturedTopic(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	var jsonl strings.Builder
	start := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for i, v := range []float64{20.5, 21, 21.25, 22} {
		fmt.Fprintf(&jsonl, `{"time":%q,"source":"broker","client_id":"real-1","protocol":5,"topic":"plant/line1/temp","payload":"{\"value\":%v}","qos":0,"retain":false}`+"\n",
			start.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), v)
	}
	records := filepath.Join(dir, "records.jsonl")
	if err := os.WriteFile(records, []byte(jsonl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runInProcess([]string{"capture", "import", "--data", data, records}, ""); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	scenario := filepath.Join(dir, "replay.yaml")
	if err := os.WriteFile(scenario, []byte(`profiles:
  - name: twin
    streams:
      - name: temp
        topic: twin/{{.ID}}/temp
        every: 1s
        fields:
          value: {replay: {topic: plant/line1/temp, path: $.value}}
fleets:
  - profile: twin
    count: 1
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runInProcess([]string{"simulate", "preview", scenario, "--data", data, "-n", "6"}, "")
	if code != 0 {
		t.Fatalf("preview: exit %d: %s", code, stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		fields := strings.Split(line, "\t")
		got = append(got, fields[len(fields)-1])
	}
	want := []string{`{"value":20.5}`, `{"value":21}`, `{"value":21.25}`, `{"value":22}`, `{"value":20.5}`, `{"value":21}`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("replayed %v, want the captured values in order, looping: %v", got, want)
	}

	code, _, stderr = runInProcess([]string{"simulate", "validate", scenario, "--data", t.TempDir()}, "")
	if code != exitUsage || !strings.Contains(stderr, "plant/line1/temp") || !strings.Contains(stderr, "no message on that topic") {
		t.Fatalf("validate against an empty capture: exit %d, %s", code, stderr)
	}
}
