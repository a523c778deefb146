// Package builtin holds the device profiles that ship inside the binary
// (a climate sensor, a thermostat, a smart plug, a door contact, an energy
// meter, a GPS tracker and a Sparkplug B machine): starting points for
// `simulate new --from NAME`, the Devices panel's list, and profiles a
// scenario file's fleets may name without defining them.
package builtin

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

//go:embed profiles/*.yaml
var files embed.FS

// Entry is one built-in profile: its name and the file that defines it
// (the profile and an example fleet), as a user would edit it.
type Entry struct {
	Name        string
	Description string // the profile's own, for lists
	YAML        []byte
}

// List returns the built-in profiles by name.
func List() []Entry {
	names, _ := fs.Glob(files, "profiles/*.yaml")
	sort.Strings(names)
	out := make([]Entry, 0, len(names))
	for _, n := range names {
		b, _ := files.ReadFile(n)
		e := Entry{Name: strings.TrimSuffix(path.Base(n), ".yaml"), YAML: b}
		if f, err := scenario.Parse("builtin:"+e.Name, b); err == nil && len(f.Profiles) > 0 {
			e.Description = f.Profiles[0].Description
		}
		out = append(out, e)
	}
	return out
}

// Lookup returns the built-in profile file called name.
func Lookup(name string) (Entry, error) {
	var known []string
	for _, e := range List() {
		if e.Name == name {
			return e, nil
		}
		known = append(known, e.Name)
	}
	return Entry{}, fmt.Errorf("no built-in profile %q; built-in profiles: %s", name, strings.Join(known, ", "))
}

// Profiles parses every built-in file and returns their profiles, for
// fleets that name a built-in profile. The files are checked by this
// package's tests, so an error here means a broken build.
func Profiles() ([]scenario.Profile, error) { return parsed() }

// parsed parses the built-in files once: the editor compiles on every
// pause in typing.
var parsed = sync.OnceValues(func() ([]scenario.Profile, error) {
	var out []scenario.Profile
	for _, e := range List() {
		f, err := scenario.Parse("builtin:"+e.Name, e.YAML)
		if err != nil {
			return nil, fmt.Errorf("built-in profile %s: %w", e.Name, err)
		}
		out = append(out, f.Profiles...)
	}
	return slices.Clip(out), nil // callers append their own profiles
})

// Compile parses one scenario file and compiles it, its fleets free to
// name a built-in profile: what the window's editor checks on every
// pause in typing and starts.
func Compile(path string, data []byte, opt device.Options) (*device.Scenario, error) {
	f, err := scenario.Parse(path, data)
	if err != nil {
		return nil, err
	}
	known, err := Profiles()
	if err != nil {
		return nil, err
	}
	return device.Compile(f, known, opt)
}
