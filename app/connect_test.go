package app

import (
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/iotstudio/iotstudio/engine/client"
)

// connect publishes (retained, so that order does not matter), a second
// connect on each protocol receives it, prints it and records it in the
// capture with the broker's host as the source.
func TestConnectPublishesReceivesAndCaptures(t *testing.T) {
	url := startReplayTarget(t).url
	code, _, stderr := runInProcess([]string{"connect", "--url", url, "--protocol", "3.1.1", "--pub", "lab/door", "--message", "open", "--retain", "--qos", "1"}, "")
	if code != 0 || !strings.Contains(stderr, "published 4 bytes to lab/door") {
		t.Fatalf("publish: exit %d, stderr %q", code, stderr)
	}
	data := t.TempDir()
	for _, c := range []struct{ protocol, format, want string }{
		{"5", "text", "lab/door open\n"},
		{"3.1.1", "jsonl", ""},
	} {
		code, stdout, stderr := runInProcess([]string{"connect", "--url", url, "--protocol", c.protocol, "--sub", "lab/#",
			"--count", "1", "--wait", "10s", "--format", c.format, "--capture", "--data", data}, "")
		if code != 0 || !strings.Contains(stderr, "subscribed to lab/# (QoS 0 granted)") || !strings.Contains(stderr, "received 1 message\n") {
			t.Fatalf("MQTT %s: exit %d, stderr %q", c.protocol, code, stderr)
		}
		if c.format == "text" {
			if stdout != c.want {
				t.Fatalf("MQTT %s text: %q, want %q", c.protocol, stdout, c.want)
			}
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(stdout), &m); err != nil || m["topic"] != "lab/door" || m["payload"] != "open" || m["retain"] != true {
			t.Fatalf("MQTT %s jsonl: %q (%v)", c.protocol, stdout, err)
		}
	}
	code, stdout, _ := runInProcess([]string{"capture", "query", "--data", data, "--format", "jsonl"}, "")
	if code != 0 || strings.Count(stdout, "\n") != 2 || !strings.Contains(stdout, `"source":"`+brokerSource(url)+`"`) || strings.Contains(stdout, "mqtt://") {
		t.Fatalf("capture after two connects: exit %d\n%s", code, stdout)
	}
}

func TestConnectBadInput(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"connect", "--sub", "a"}, 2, "--url URL is required"},
		{[]string{"connect", "--url", "http://x:1", "--sub", "a"}, 2, `unsupported scheme "http"`},
		{[]string{"connect", "--url", "mqtt://127.0.0.1:1", "--protocol", "4.0", "--sub", "a"}, 2, `--protocol "4.0"`},
		{[]string{"connect", "--url", "mqtt://127.0.0.1:1", "--qos", "3", "--sub", "a"}, 2, "--qos 3"},
		{[]string{"connect", "--url", "mqtt://127.0.0.1:1"}, 2, "nothing to do"},
		{[]string{"connect", "--url", "mqtt://127.0.0.1:1", "--pub", "a/#"}, 2, "no wildcards"},
		{[]string{"connect", "--url", "mqtt://127.0.0.1:1", "--sub", "a/#/b"}, 2, "--sub"},
		{[]string{"connect", "--url", "mqtt://127.0.0.1:1", "--sub", "a"}, 1, "connection refused"},
	}
	for _, c := range cases {
		code, _, stderr := runInProcess(c.args, "")
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

// connect and saved publish build a custom profile from their flags; it
// must not subscribe to # on connect as a saved custom connection does
// (saved publish would receive the whole broker's traffic to send one
// message).
func TestDialFlagsSubscribeToNothingOnConnect(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	d := addDialFlags(fs, client.ProtocolAuto)
	t.Setenv(replayPasswordEnv, "pw")
	if err := fs.Parse([]string{"--url", "mqtt://10.0.0.5:1883", "--user", "op", "--protocol", "3.1.1"}); err != nil {
		t.Fatal(err)
	}
	p, creds, err := d.profile()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Subscribe) != 0 || p.Protocol != client.MQTT311 || p.Username != "op" || creds.Password != "pw" {
		t.Errorf("profile %+v, password %q", p, creds.Password)
	}
}

// Without --capture there is no store: what arrives is printed, and the
// absent capture must not become a sink that panics on the first message.
func TestConnectWithoutCaptureReceives(t *testing.T) {
	url := startReplayTarget(t).url
	if code, _, stderr := runInProcess([]string{"connect", "--url", url, "--pub", "lab/window", "--message", "shut", "--retain"}, ""); code != 0 {
		t.Fatalf("publish: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := runInProcess([]string{"connect", "--url", url, "--sub", "lab/#", "--count", "1", "--wait", "10s"}, "")
	if code != 0 || stdout != "lab/window shut\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
