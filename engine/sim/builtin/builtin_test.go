package builtin

import (
	"bytes"
	"strings"
	"testing"
	"time"

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
