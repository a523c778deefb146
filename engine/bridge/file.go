package bridge

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/iotstudio/iotstudio/engine/client"
)

// File is a bridges file (serve --bridge FILE); testdata/bridge/example.yaml
// shows every field.
type File struct {
	Bridges []Config `yaml:"bridges"`
}

// FileError is one problem in a bridges file, at a line.
type FileError struct {
	Path string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// Planned is one bridge of a file with the saved connection it names.
type Planned struct {
	Config  Config
	Profile client.Profile
}

// LoadFile reads and checks the bridges file at path against the saved
// connections. Every problem found is reported, each as path:line: what.
func LoadFile(path string, saved []client.Profile) ([]Planned, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the bridges file: %w", err)
	}
	return Parse(path, data, saved)
}

// Parse is LoadFile on data already read; path only names the file.
func Parse(path string, data []byte, saved []client.Profile) ([]Planned, error) {
	tree, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(path, err)
	}
	var f File
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.Strict()); err != nil {
		return nil, yamlError(path, err)
	}
	if len(f.Bridges) == 0 {
		return nil, &FileError{Path: path, Line: 1, Msg: "no bridges: the file needs a list under bridges: (see testdata/bridge/example.yaml)"}
	}
	var errs []error
	at := func(field, format string, args ...any) {
		errs = append(errs, &FileError{Path: path, Line: lineOf(tree, field), Msg: fmt.Sprintf(format, args...)})
	}
	var plans []Planned
	names := map[string]bool{}
	for i, c := range f.Bridges {
		base := fmt.Sprintf("bridges[%d]", i)
		if names[c.Name] && c.Name != "" {
			at(base+".name", "two bridges are named %q; names must be unique (each names its queue)", c.Name)
		}
		names[c.Name] = true
		p, ok := findProfile(saved, c.Connection)
		if !ok {
			at(base+".connection", "%s", unknownConnection(c.Connection, saved))
			p.Protocol = client.MQTT311 // still check the rules, strictly
		}
		for _, pr := range c.Check(p.Protocol) {
			at(base+"."+pr.Field, "bridge %q: %s", c.Name, pr.Msg)
		}
		plans = append(plans, Planned{Config: c, Profile: p})
	}
	for _, l := range crossLoops(plans) {
		at(l.field, "%s", l.msg)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return plans, nil
}

func findProfile(saved []client.Profile, name string) (client.Profile, bool) {
	i := slices.IndexFunc(saved, func(p client.Profile) bool { return p.Name == name })
	if i < 0 {
		return client.Profile{}, false
	}
	return saved[i], true
}

func unknownConnection(name string, saved []client.Profile) string {
	var names []string
	for _, p := range saved {
		names = append(names, fmt.Sprintf("%q", p.Name))
	}
	what := fmt.Sprintf("no saved connection is named %q", name)
	if name == "" {
		what = "missing connection: give the name of a saved connection"
	}
	if len(names) == 0 {
		return what + "; there are no saved connections yet: add one in the window's Connections panel or with `iotstudio connections import`"
	}
	return what + "; the saved ones are " + strings.Join(names, ", ")
}

type crossLoop struct{ field, msg string }

// crossLoops finds loops through two bridges to the same connection, which
// no-local cannot stop (they are two clients of the remote): one sends
// local topics out to remote filters the other brings back in to local
// topics the first sends out again.
func crossLoops(plans []Planned) []crossLoop {
	var out []crossLoop
	for i, a := range plans {
		for j, b := range plans {
			if i == j || a.Config.Connection != b.Config.Connection {
				continue
			}
			for ri, ra := range a.Config.Rules {
				for rj, rb := range b.Config.Rules {
					if !ra.Direction.out() || !rb.Direction.in() || !overlap(ra.Remote, rb.Remote) || !overlap(ra.Local, rb.Local) {
						continue
					}
					out = append(out, crossLoop{
						field: fmt.Sprintf("bridges[%d].rules[%d].remote", j, rj),
						msg: fmt.Sprintf("bridges %q and %q would loop through connection %q: %s of %q sends local %s to remote %s, and %s of %q brings remote %s back to local %s, which the first sends out again; make the remote or the local filters disjoint, or put both rules in one bridge",
							a.Config.Name, b.Config.Name, a.Config.Connection, ra.label(ri), a.Config.Name, ra.Local, ra.Remote, rb.label(rj), b.Config.Name, rb.Remote, rb.Local),
					})
				}
			}
		}
	}
	return out
}

// lineOf finds the line of a field ("bridges[0].rules[1].local"), or of
// the closest enclosing one that is in the file.
func lineOf(tree *ast.File, field string) int {
	for field != "" {
		if p, err := yaml.PathString("$." + field); err == nil {
			if n, err := p.FilterFile(tree); err == nil && n != nil && n.GetToken() != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 0
}

// yamlError words a goccy/go-yaml error as path:line: message.
func yamlError(path string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := 0
		if t := ye.GetToken(); t != nil && t.Position != nil {
			line = t.Position.Line
		}
		msg := ye.GetMessage()
		var tf *yaml.TypeError
		if errors.As(err, &tf) && tf.Token != nil {
			want := "text"
			switch tf.DstType.Kind() {
			case reflect.Uint8, reflect.Int:
				want = "a whole number"
			case reflect.Slice:
				want = "a list (lines starting with -)"
			case reflect.Struct:
				want = "a mapping (key: value lines)"
			}
			msg = fmt.Sprintf("%q is not valid here: give %s", tf.Token.Value, want)
		}
		return &FileError{Path: path, Line: line, Msg: msg}
	}
	return &FileError{Path: path, Msg: err.Error()}
}
