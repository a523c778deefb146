package capture

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

func TestJSONLKeepsTextAndBinaryPayloads(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	recs := []message.Message{
		{Seq: 1, Time: at, Source: "broker", ClientID: "c", Protocol: 5, Topic: "t/text", Payload: []byte(`{"temp": 21.5, "note": "héllo"}`), QoS: 1},
		{Seq: 2, Time: at, Source: "broker", ClientID: "c", Protocol: 4, Topic: "t/bin", Payload: []byte{0, 0xff, 0xfe}, Retain: true,
			UserProps: []message.UserProp{{Key: "k", Value: "v"}}},
	}
	var out bytes.Buffer
	w := NewJSONLWriter(&out)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per record:\n%s", len(lines), out.String())
	}
	var text, bin jsonRecord
	if err := json.Unmarshal([]byte(lines[0]), &text); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &bin); err != nil {
		t.Fatal(err)
	}
	if text.Payload != string(recs[0].Payload) || text.PayloadBase64 || !text.Time.Equal(at) {
		t.Errorf("text record came out as %+v", text)
	}
	raw, err := base64.StdEncoding.DecodeString(bin.Payload)
	if !bin.PayloadBase64 || err != nil || !bytes.Equal(raw, recs[1].Payload) || !bin.Retain || bin.UserProps[0].Value != "v" {
		t.Errorf("binary record came out as %+v", bin)
	}
}

func TestCSVOneRowPerMessageWhateverThePayload(t *testing.T) {
	// (encoding/csv's reader folds \r\n inside a field to \n; JSONL is the
	// lossless format.)
	payloads := []string{"plain", "a,b,c", `she said "hi"`, "line1\nline2\nline3", ""}
	var out bytes.Buffer
	w := NewCSVWriter(&out)
	for i, p := range payloads {
		if err := w.Write(message.Message{Seq: uint64(i + 1), Time: time.Unix(0, 0).UTC(), Topic: "t", Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(payloads)+1 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("%d rows (want header + %d): %q", len(rows), len(payloads), rows)
	}
	for i, p := range payloads {
		if got := rows[i+1][8]; got != p {
			t.Errorf("row %d payload %q, want %q", i+1, got, p)
		}
	}
}

func TestCSVEmptyStillHasHeader(t *testing.T) {
	var out bytes.Buffer
	if err := NewCSVWriter(&out).Flush(); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != strings.Join(CSVHeader, ",") {
		t.Fatalf("empty export %q", out.String())
	}
}

// A message that did not come from a capture has no seq, and one whose
// publisher is unknown (a remote broker does not say) no client ID: JSON
// Lines leave those fields out rather than print "seq":0 and
// "client_id":"" as if they were known; known ones stay, and a line
// without them still imports.
func TestJSONLLeavesOutUnknownFields(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		msg     message.Message
		present []string
		absent  []string
	}{
		{"received by connect", message.Message{Time: at, Source: "10.0.0.5:1883", Protocol: 5, Topic: "t", Payload: []byte("1")},
			[]string{`"source":"10.0.0.5:1883"`, `"topic":"t"`, `"qos":0`, `"retain":false`}, []string{`"seq"`, `"client_id"`}},
		{"read from the capture", message.Message{Seq: 42, Time: at, Source: "broker", ClientID: "meter", Protocol: 4, Topic: "t", Payload: []byte("1")},
			[]string{`"seq":42`, `"client_id":"meter"`, `"source":"broker"`}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewJSONLWriter(&out)
			if err := w.Write(tc.msg); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			line := out.String()
			for _, p := range tc.present {
				if !strings.Contains(line, p) {
					t.Errorf("%s lacks %s", line, p)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(line, a) {
					t.Errorf("%s has %s, which is unknown", line, a)
				}
			}
			got, err := NewJSONLReader(strings.NewReader(line), "line").Read()
			if err != nil || got.Seq != tc.msg.Seq || got.ClientID != tc.msg.ClientID || got.Source != tc.msg.Source {
				t.Errorf("read back %+v, %v; want seq %d, client %q, source %q", got, err, tc.msg.Seq, tc.msg.ClientID, tc.msg.Source)
			}
		})
	}
}
