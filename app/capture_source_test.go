package app

import (
	"context"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
)

// The table of capture query says where each record came from: the
// embedded broker or which connection.
func TestCaptureQueryTableShowsSource(t *testing.T) {
	data := t.TempDir()
	store, err := capture.Open(captureDir(data), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Minute)
	for _, r := range []message.Message{
		{Time: at, Source: "broker", ClientID: "meter", Protocol: 5, Topic: "plant/a", Payload: []byte("1")},
		{Time: at.Add(time.Second), Source: "10.0.0.5:1883", Protocol: 4, Topic: "plant/b", Payload: []byte("2")},
	} {
		if err := store.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runInProcess([]string{"capture", "query", "--data", data, "--format", "table", "--oldest-first"}, "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.Contains(strings.Join(strings.Fields(lines[0]), " "), "TIME SOURCE TOPIC") {
		t.Fatalf("want a header with a SOURCE column and two rows:\n%s", stdout)
	}
	for i, want := range []string{"broker plant/a", "10.0.0.5:1883 plant/b"} {
		if row := strings.Join(strings.Fields(lines[i+1]), " "); !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
}

// connect --capture (and the other commands dialling --url) record the
// broker's host and port, as connect's help says, not the whole URL.
func TestDialedBrokerIsRecordedByHost(t *testing.T) {
	cases := []struct{ url, want string }{
		{"mqtt://10.0.0.5:1883", "10.0.0.5:1883"},
		{"mqtts://broker.example.com:8883", "broker.example.com:8883"},
		{"ws://127.0.0.1:8083/mqtt", "127.0.0.1:8083"},
		{"wss://[::1]:8084/mqtt", "[::1]:8084"},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		d := addDialFlags(fs, client.ProtocolAuto)
		if err := fs.Parse([]string{"--url", tc.url}); err != nil {
			t.Fatal(err)
		}
		p, _, err := d.profile()
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if p.Name != tc.want {
			t.Errorf("--url %s is recorded as %q, want %q", tc.url, p.Name, tc.want)
		}
	}
}

// One record is "1 record", not "1 records", in every capture command.
func TestOneRecordIsSingular(t *testing.T) {
	data := t.TempDir()
	store, err := capture.Open(captureDir(data), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Append(context.Background(), message.Message{Time: time.Now().Add(-time.Minute), Source: "broker", Protocol: 5, Topic: "a", Payload: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "one.jsonl")
	other := t.TempDir()
	steps := []struct {
		args []string
		code int
		want string // on stdout, or stderr when code != 0
	}{
		{[]string{"capture", "export", "--data", data, "--format", "jsonl", "--out", file}, 0, "exported 1 record to "},
		{[]string{"capture", "import", file, "--data", other}, 0, "imported 1 record from "},
		{[]string{"capture", "clear", "--data", data}, 2, "would delete 1 record in "},
		{[]string{"capture", "clear", "--data", data, "--yes"}, 0, "deleted 1 record from "},
	}
	for _, s := range steps {
		code, stdout, stderr := runInProcess(s.args, "")
		got := stdout
		if s.code != 0 {
			got = stderr
		}
		if code != s.code || !strings.Contains(got, s.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", s.args, code, stdout, stderr, s.code, s.want)
		}
	}
}
