package builtin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// Every built-in file must parse: a broken one would fail `simulate new`
// and every scenario naming it.
func TestBuiltinFilesParse(t *testing.T) {
	list := List()
	if len(list) < 7 {
		t.Fatalf("%d built-in profiles, want the issue's seven", len(list))
	}
	for _, e := range list {
		f, err := scenario.Parse("builtin:"+e.Name, e.YAML)
		if err != nil {
			t.Errorf("%s:\n%v", e.Name, err)
			continue
		}
		if len(f.Profiles) != 1 || f.Profiles[0].Name != e.Name {
			t.Errorf("%s: the file must define exactly the profile %q", e.Name, e.Name)
		}
		if e.Description == "" {
			t.Errorf("%s: no description for simulate list", e.Name)
		}
	}
}

func TestLookupUnknownListsTheKnown(t *testing.T) {
	_, err := Lookup("thermostst")
	if err == nil || !strings.Contains(err.Error(), "thermostat") {
		t.Fatalf("Lookup of a typo: %v, want the list of built-in names", err)
	}
}

// Every built-in file compiles into devices whose first messages come
// out: a profile that parses but names an unknown field in an expression,
// say, would fail only here.
func TestBuiltinFilesCompileAndPublish(t *testing.T) {
	known, err := Profiles()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, e := range List() {
		f, err := scenario.Parse("builtin:"+e.Name, e.YAML)
		if err != nil {
			t.Fatal(err)
		}
		s, err := device.Compile(f, known, device.Options{Protocol: 5})
		if err != nil {
			t.Errorf("%s:\n%v", e.Name, err)
			continue
		}
		msgs := device.Preview(s.Fleets[0], 0, 3, start)
		if len(msgs) < 3 {
			t.Errorf("%s: preview gave %d messages, want 3", e.Name, len(msgs))
		}
		for _, m := range msgs {
			if m.Topic == "" || len(m.Payload) == 0 {
				t.Errorf("%s: empty message %+v", e.Name, m)
			}
			// A field whose expression or generator failed comes out null.
			if bytes.Contains(m.Payload, []byte("null")) {
				t.Errorf("%s: %s has a failed field: %s", e.Name, m.Topic, m.Payload)
			}
		}
	}
}

// The Sparkplug B machine's messages are what the inspector shows as
// Sparkplug B: detected from the topic, decoded without error, with the
// metrics the profile defines (their numbers offered to the chart).
func TestSparkplugMachineDecodesInTheInspector(t *testing.T) {
	e, err := Lookup("sparkplug-machine")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile("builtin:sparkplug-machine", e.YAML, device.Options{Protocol: 5})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Fleets[0].NewDevice(0)
	start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	msgs := append(d.Online(start), device.Preview(s.Fleets[0], 0, 4, start)...)
	seen := map[string]bool{}
	for _, m := range msgs {
		if f := decode.Detect(m.Topic, m.Payload, ""); f != decode.SparkplugB {
			t.Fatalf("%s detected as %v, want Sparkplug B", m.Topic, f)
		}
		r := decode.Decode(decode.Auto, m.Topic, m.Payload, "")
		if r.Err != nil || r.Format != decode.SparkplugB {
			t.Fatalf("%s: decoded as %v with %v", m.Topic, r.Format, r.Err)
		}
		for _, f := range decode.NumericFields(decode.Auto, m.Topic, m.Payload) {
			seen[f.Path] = true
		}
	}
	for _, metric := range []string{"bdSeq", "uptime_s", "rpm", "temperature_c", "parts_made"} {
		if !seen[metric] {
			t.Errorf("metric %s not among the chartable fields %v", metric, seen)
		}
	}
}
