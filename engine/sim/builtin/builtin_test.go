package builtin

import (
	"strings"
	"testing"

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
