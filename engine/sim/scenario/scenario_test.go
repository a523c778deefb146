package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// withoutPositions zeroes every At so files that differ only in layout
// compare equal.
func withoutPositions(f *File) *File {
	c := *f
	c.Path = ""
	clearAt(reflect.ValueOf(&c).Elem())
	return &c
}

func clearAt(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			clearAt(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Pos]() {
			v.SetZero()
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				clearAt(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			clearAt(v.Index(i))
		}
	}
}

func goodFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good files: %v", err)
	}
	return files
}

func TestParseGoodFilesRoundTrip(t *testing.T) {
	for _, path := range goodFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(path, data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, err := Marshal(f)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			g, err := Parse("marshalled", out)
			if err != nil {
				t.Fatalf("Parse(Marshal(f)): %v\n%s", err, out)
			}
			if !reflect.DeepEqual(withoutPositions(f), withoutPositions(g)) {
				t.Fatalf("round trip changed the file:\nfirst  %+v\nsecond %+v\nyaml:\n%s", f, g, out)
			}
		})
	}
}

// wantErrors checks that Parse fails with exactly these errors, each given
// as "line:col: words the message must contain".
func wantErrors(t *testing.T, path string, data []byte, want []string) {
	t.Helper()
	f, err := Parse(path, data)
	if err == nil {
		t.Fatalf("Parse accepted the file: %+v", f)
	}
	if f != nil {
		t.Errorf("Parse returned a File along with errors")
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want *Errors: %v", err, err)
	}
	if len(*errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(*errs), len(want), err)
	}
	for i, e := range *errs {
		pos, words, _ := strings.Cut(want[i], ": ")
		got := e.Error()
		if !strings.HasPrefix(got, path+":"+pos+": ") || !strings.Contains(e.Msg, words) {
			t.Errorf("error %d = %q, want at %s containing %q", i, got, pos, words)
		}
	}
}

const fleetOnly = "fleets:\n  - profile: thermostat\n    count: 1\n"

func TestParseBadFiles(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown generator", `
profiles:
  - name: p
    streams:
      - name: s
        topic: t
        every: 1s
        fields:
          x:
            sinus: {min: 0, max: 1, period: 1m}
`, []string{"10:13: unknown generator `sinus`; did you mean `sine`?"}},
		{"unknown key in stream", `
profiles:
  - name: p
    streams:
      - name: s
        topic: t
        evry: 1s
        template: x
`, []string{"5:9: stream is missing `every`", "7:9: unknown key `evry` in stream; did you mean `every`?"}},
		{"bad duration", `
profiles:
  - name: p
    streams:
      - name: s
        topic: t
        every: fast
        template: x
`, []string{"7:16: `every`: expected a duration like 1s or 250ms, got `fast`"}},
		{"two generators", `
profiles:
  - name: p
    streams:
      - name: s
        topic: t
        every: 1s
        fields:
          x: {walk: {min: 0, max: 1, step: 0.1}, sine: {min: 0, max: 1, period: 1m}}
`, []string{"9:50: field `x` has two generators, `walk` and `sine`; keep one"}},
		{"no generator", `
profiles:
  - name: p
    streams:
      - name: s
        topic: t
        every: 1s
        fields:
          x: {noise: 1}
          y:
`, []string{"9:14: field `x` has no generator; add one of const", "10:13: field `y` has no value"}},
		{"ranges and qos", `
profiles:
  - name: p
    streams:
      - name: s
        topic: a/+/b
        every: 0s
        qos: 3
        fields:
          u: {uniform: {min: 5, max: 1}}
          b: {bool: {p: 1.5}}
          c: {choice: {values: [a, b], weights: [1]}}
          w: {sine: {min: 0, max: 1, period: -1s}}
          ts: {timestamp: unix_sec}
`, []string{
			"6:16: cannot hold the wildcards + or #",
			"7:16: `every` must be longer than 0",
			"8:14: `qos` must be 0, 1 or 2, got 3",
			"10:38: `max` (1) is below `min` (5)",
			"11:25: `p` must be between 0 and 1, got 1.5",
			"12:49: `weights` has 1 entries but `values` has 2",
			"13:46: `period`: must not be negative",
			"14:27: unknown timestamp format `unix_sec`; expected one of unix, unix_ms, rfc3339",
		}},
		{"markov", `
profiles:
  - name: p
    streams:
      - name: s
        topic: t
        every: 1s
        fields:
          m:
            markov:
              start: idle
              transitions:
                on: {off: 0.7, on: 0.5}
                off: {of: 0.1}
`, []string{
			"11:22: `start` state `idle` is not in `transitions`",
			"13:21: the probabilities out of `on` add up to 1.2",
			"14:23: state `off` moves to `of`, which is not a state",
		}},
		{"templates and wrong types", `
profiles:
  - name: p
    streams:
      - name: s
        topic: "t/{{.ID"
        every: 1s
        retain: maybe
        template: "{{if}}"
fleets:
  - profile: p
    count: many
    ramp: fast
  - profile: p
    count: 0
    ramp: 0/s
`, []string{
			"6:16: `topic`: bad template: unclosed action",
			"8:17: `retain`: expected true or false, got `maybe`",
			"9:19: `template`: bad template: missing value for if",
			"12:12: `count`: expected a whole number, got `many`",
			"13:11: `ramp`: expected connections per second like 200/s or a duration like 30s, got `fast`",
			"14:5: two fleets are named `p`",
			"15:12: `count` must be at least 1, got 0",
			"16:11: `ramp`: the rate must be above 0/s",
		}},
		{"duplicates and references", `
profiles:
  - name: p
    streams:
      - {name: s, topic: t, every: 1s, template: x}
      - {name: s, topic: t, every: 1s, template: x, template: y}
    handlers:
      - name: h
        filter: cmd
        actions:
          - stream: {name: z, on: true}
          - {}
          - {delay: 1s, reply: {payload: ok}}
  - name: p
    state: {a: 1, a: 2}
`, []string{
			"6:9: profile `p` has two streams named `s`",
			"6:53: `template` is given twice",
			"11:13: action switches stream `z`, which profile `p` does not have",
			"12:13: an action needs one of set, reply",
			"13:21: an action has both `reply` and `delay`; keep one",
			"14:5: two profiles are named `p`",
			"15:19: `a` is given twice",
		}},
		{"filters and limits", `
profiles:
  - name: p
    handlers:
      - {name: a, filter: "cmd/#/x", actions: [{delay: 1s}]}
      - {name: b, filter: "cmd/a+", actions: [{delay: 1s}]}
      - {name: c, filter: "{{.ID}}/+/#", actions: [{delay: 1s}]}
    streams:
      - name: s
        topic: t
        every: 1s
        template: x
        properties: {user: {a: "{{.ID}}", b: "{{.ID"}}
    lifecycle:
      keep_alive: 24h
      session: {expiry: 2000000h}
`, []string{
			"5:27: `filter`: `cmd/#/x` is not a topic filter",
			"6:27: `filter`: `cmd/a+` is not a topic filter",
			"13:46: `b`: bad template: unclosed action",
			"15:19: `keep_alive` can be at most 18h12m15s",
			"16:25: `expiry` can be at most 4294967295 seconds",
		}},
		{"empty", "", []string{"1:1: the file is empty"}},
		{"nothing", "{}\n", []string{"1:1: the file defines no profiles and no fleets"}},
		{"not a mapping", "- a\n", []string{"1:1: `file`: expected a mapping with profiles, fleets, got a list"}},
		{"syntax", "profiles: [\n", []string{"1:11: YAML syntax: sequence end token ']' not found"}},
		// The yaml package says where a construct began, or line 1, and no
		// column; these are where the mistake is.
		{"unclosed quote", "profiles:\n  - name: x\n    streams:\n      - name: a\n        topic: \"t\n        every: 1s\n",
			[]string{"5:16: YAML syntax: could not find end character of double-quoted text"}},
		{"unclosed flow sequence", "fleets:\n  - profile: x\n    count: [1, 2\n", []string{"3:12: YAML syntax: sequence end token ']' not found"}},
		{"unclosed flow mapping", "profiles:\n  - name: x\n    vars: {a: 1, b: 2\n    streams: []\n", []string{"4:5: YAML syntax: ',' or '}' must be specified"}},
		// Beyond locateSyntax's bounds, the yaml package's words and line.
		{"deeply nested", "a: " + strings.Repeat("[", 1001) + "\n", []string{"1:1: YAML syntax: did not find expected node content"}},
		{"tab indentation", "profiles:\n\t- name: x\n", []string{"2:1: YAML syntax: found character '\t' that cannot start any token"}},
		{"unquoted template in a flow mapping", "profiles:\n  - name: p\n    lifecycle:\n      status: {topic: home/{{.ID}}/status, qos: 1}\n",
			[]string{"4:28: YAML syntax: ',' or '}' must be specified; a {{template}} inside a { } mapping must be quoted"}},
		{"two documents", fleetOnly + "---\n" + fleetOnly, []string{"4:1: a second YAML document"}},
		{"alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nprofiles:\n  - name: p\n    state: {x: *f}\n",
			[]string{"1:1: unknown key `a`", "1:8: the file expands to more than 1048576 values", "2:1: unknown key `b`", "3:1: unknown key `c`", "4:1: unknown key `d`", "5:1: unknown key `e`", "6:1: unknown key `f` in the file; did you mean `fleets`?"}},
		{"self alias", "profiles:\n  - &p\n    name: p\n    state: {x: [*p]}\n", []string{"2:5: nested more than 64 deep"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErrors(t, "bad.yaml", []byte(c.yaml), c.want)
		})
	}
}

// TestParseBadTestdata checks the bad files kept as fuzz seeds; each
// lists its expected errors in "# want line:col: words" lines.
func TestParseBadTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no bad files")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if w, ok := strings.CutPrefix(line, "# want "); ok {
					want = append(want, w)
				}
			}
			if len(want) == 0 {
				t.Fatal("the file lists no `# want` errors")
			}
			wantErrors(t, path, data, want)
		})
	}
}

func TestParseCapsTheErrors(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		b.WriteString("k" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + strings.Repeat("y", i/26) + ": 1\n")
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	var errs *Errors
	if !errors.As(err, &errs) || len(*errs) != maxErrors+1 {
		t.Fatalf("got %v errors, want %d and a last one saying there are more", err, maxErrors+1)
	}
	if last := (*errs)[len(*errs)-1]; !strings.Contains(last.Msg, "more than 200 problems") {
		t.Errorf("last error = %v", last)
	}
}
