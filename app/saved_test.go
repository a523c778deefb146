package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/saved"
)

// savedData writes a data dir with two saved messages, as the Publish
// panel would.
func savedData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := saved.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	exp := uint32(300)
	for _, m := range []saved.Message{
		{Name: "start", Format: "hex", Message: client.Message{Topic: "lab/pump", Payload: []byte{0x01, 0xff}, QoS: 1, Retain: true}},
		{Name: "status please", Format: "json", Message: client.Message{Topic: "lab/pump/ask", Payload: []byte(`{"want": "status"}`),
			ContentType: "application/json", MessageExpiry: &exp, ResponseTopic: "lab/pump/reply",
			UserProps: []message.UserProp{{Key: "from", Value: "cli"}}}},
	} {
		if err := s.Put("pump", m); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSavedListAndPublish(t *testing.T) {
	data := savedData(t)
	code, stdout, stderr := runInProcess([]string{"saved", "list", "--data", data}, "")
	if code != 0 {
		t.Fatalf("list: exit %d, %s", code, stderr)
	}
	for _, want := range []string{"pump/start", "lab/pump ", "(2 bytes of binary)", "pump/status please", `{"want": "status"}`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, stdout)
		}
	}

	rt := startReplayTarget(t)
	code, _, stderr = runInProcess([]string{"saved", "publish", "pump/status please", "--url", rt.url, "--data", data}, "")
	if code != 0 || !strings.Contains(stderr, "published pump/status please: 18 bytes to lab/pump/ask") {
		t.Fatalf("publish: exit %d, stderr %q", code, stderr)
	}
	p := rt.take(t, 1)[0].p
	if p.Topic != "lab/pump/ask" || string(p.Payload) != `{"want": "status"}` || p.Properties == nil ||
		p.Properties.ContentType != "application/json" || p.Properties.ResponseTopic != "lab/pump/reply" ||
		p.Properties.MessageExpiry == nil || len(p.Properties.User) != 1 || p.Properties.User[0].Value != "cli" {
		t.Fatalf("the broker got %+v (properties %+v)", p, p.Properties)
	}

	// Flags before the name work too, on MQTT 3.1.1 for a message without
	// properties.
	code, _, stderr = runInProcess([]string{"saved", "publish", "--url", rt.url, "--protocol", "3.1.1", "--data", data, "pump/start"}, "")
	if code != 0 {
		t.Fatalf("publish 3.1.1: exit %d, stderr %q", code, stderr)
	}
	if p := rt.take(t, 1)[0].p; p.Topic != "lab/pump" || string(p.Payload) != "\x01\xff" || p.QoS != 1 || !p.Retain {
		t.Fatalf("the broker got %+v", p)
	}

	// MQTT 3.1.1 cannot carry the properties: refused, not sent without them.
	code, _, stderr = runInProcess([]string{"saved", "publish", "pump/status please", "--url", rt.url, "--protocol", "3.1.1", "--data", data}, "")
	if code != 1 || !strings.Contains(stderr, "need MQTT 5; this connection speaks MQTT 3.1.1") {
		t.Fatalf("properties on 3.1.1: exit %d, stderr %q", code, stderr)
	}

	h, err := saved.OpenHistory(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if es := h.Entries(); len(es) != 2 || es[0].Message.Topic != "lab/pump" || es[0].Connection != rt.url {
		t.Fatalf("history after two publishes: %+v", es)
	}
}

func TestSavedBadInput(t *testing.T) {
	data := savedData(t)
	damaged := t.TempDir()
	if err := os.WriteFile(filepath.Join(damaged, saved.SavedFile), []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"saved"}, 2, "list or publish?"},
		{[]string{"saved", "send"}, 2, `saved "send": use list or publish`},
		{[]string{"saved", "publish", "--url", "mqtt://127.0.0.1:1", "--data", data}, 2, "which message? give COLLECTION/NAME"},
		{[]string{"saved", "publish", "pump", "--url", "mqtt://127.0.0.1:1", "--data", data}, 2, `"pump": name a saved message as COLLECTION/NAME`},
		{[]string{"saved", "publish", "pump/stop", "--url", "mqtt://127.0.0.1:1", "--data", data}, 2, "no saved message pump/stop"},
		{[]string{"saved", "publish", "pump/start", "--data", data}, 2, "--url URL is required"},
		{[]string{"saved", "publish", "pump/start", "--url", "mqtt://127.0.0.1:1", "--data", data}, 1, "connection refused"},
		{[]string{"saved", "list", "--data", damaged}, 1, "line 1, column 2"},
	}
	for _, c := range cases {
		code, _, stderr := runInProcess(c.args, "")
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(damaged, saved.SavedFile)); string(b) != "{oops" {
		t.Fatalf("the damaged file became %q", b)
	}
}
