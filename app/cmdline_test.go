package app

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHelpExitsZeroAndShowsDoubleDashFlags: every way a user asks for help
// prints it on stdout and exits 0, with flags spelled as in the README.
func TestHelpExitsZeroAndShowsDoubleDashFlags(t *testing.T) {
	cases := []struct {
		args []string
		want []string // on stdout
	}{
		{[]string{"--help"}, []string{"commands:", "capture", "connections", "--mqtt HOST:PORT", "--no-capture"}},
		{[]string{"-h"}, []string{"commands:", "simulate"}},
		{[]string{"help"}, []string{"commands:", "--data DIR"}},
		{[]string{"capture", "--help"}, []string{"usage: iotstudio capture stats", "iotstudio capture replay"}},
		{[]string{"capture", "-h"}, []string{"usage: iotstudio capture stats"}},
		{[]string{"capture", "help"}, []string{"usage: iotstudio capture stats"}},
		{[]string{"users", "-h"}, []string{"usage: iotstudio users add NAME"}},
		{[]string{"users", "--help"}, []string{"usage: iotstudio users add NAME"}},
		{[]string{"connections", "-h"}, []string{"usage: iotstudio connections list"}},
		{[]string{"connections", "--help"}, []string{"usage: iotstudio connections list"}},
		{[]string{"saved", "-h"}, []string{"usage: iotstudio saved list"}},
		{[]string{"simulate", "-h"}, []string{"usage: iotstudio simulate run"}},
		{[]string{"ca", "-h"}, []string{"usage: iotstudio ca export --out FILE"}},
		{[]string{"ca", "--help"}, []string{"usage: iotstudio ca export --out FILE"}},
		{[]string{"capture", "query", "--help"}, []string{"usage: iotstudio capture query [--data DIR]", "\n  --topic FILTER", "\n  --format FORMAT"}},
		{[]string{"journal", "--help"}, []string{"usage: iotstudio journal query", "iotstudio journal stats"}},
		{[]string{"journal", "query", "--help"}, []string{"usage: iotstudio journal query [--data DIR]", "\n  --client ID", "\n  --event KINDS"}},
		{[]string{"serve", "--help"}, []string{"\n  --journal on", "\n  --journal-retention AGE"}},
		{[]string{"help", "capture", "query"}, []string{"usage: iotstudio capture query", "\n  --where EXPR"}},
		{[]string{"users", "add", "-h"}, []string{"usage: iotstudio users add NAME", "\n  --data DIR", "\n  --users FILE"}},
		{[]string{"serve", "--help"}, []string{"usage: iotstudio serve", "\n  --mqtt HOST:PORT", "\n  --capture-max-size SIZE"}},
		{[]string{"help", "serve"}, []string{"\n  --tls HOST:PORT"}},
		{[]string{"connect", "-h"}, []string{"usage: iotstudio connect --url URL", "\n  --sub FILTER"}},
		{[]string{"connections", "add", "--help"}, []string{"\n  --preset "}},
		{[]string{"simulate", "preview", "-h"}, []string{"usage: iotstudio simulate preview FILE", "\n  -n "}},
		{[]string{"ca", "export", "-h"}, []string{"\n  --out FILE"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runInProcess(tc.args, "")
			if code != 0 {
				t.Fatalf("exit %d, stderr %q; want 0", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, line := range strings.Split(stdout, "\n") {
				if strings.HasPrefix(line, "  -") && !strings.HasPrefix(line, "  --") && !strings.HasPrefix(line, "  -n ") {
					t.Errorf("flag shown with one dash: %q", line)
				}
			}
			if strings.Contains(stdout+stderr, "Usage of") {
				t.Errorf("the flag package's own usage page was printed:\n%s%s", stdout, stderr)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	for _, arg := range []string{"--version", "-version", "version"} {
		code, stdout, stderr := runInProcess([]string{arg}, "")
		if code != 0 || !strings.HasPrefix(stdout, "iotstudio ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want the version", arg, code, stdout, stderr)
		}
	}
}

// TestBadFlagSaysSoOnce: a wrong flag is one error line on stderr (exit 2),
// not the error twice and a page of flags.
func TestBadFlagSaysSoOnce(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, "flag provided but not defined: --bogus"},
		{[]string{"capture", "query", "--limit", "x"}, `invalid value "x" for flag --limit`},
		{[]string{"users", "add", "alice", "--data"}, "flag needs an argument: --data"},
		{[]string{"users", "add", "--nope", "alice"}, "flag provided but not defined: --nope"},
	}
	for _, tc := range cases {
		args := tc.args
		code, stdout, stderr := runInProcess(args, "pw\n")
		if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout, %q", args, code, stdout, stderr, tc.want)
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 || !strings.Contains(stderr, "--help") {
			t.Errorf("%v: stderr %q; want one line pointing to --help", args, stderr)
		}
	}
}

// TestFlagsAfterArguments: flags may follow positional arguments, as in
// `iotstudio users add alice --data DIR`.
func TestFlagsAfterArguments(t *testing.T) {
	cases := []struct {
		name string
		args func(dir string) []string
	}{
		{"flags first", func(dir string) []string { return []string{"users", "add", "--data", dir, "alice"} }},
		{"flags last", func(dir string) []string { return []string{"users", "add", "alice", "--data", dir} }},
		{"equals form last", func(dir string) []string { return []string{"users", "add", "alice", "--data=" + dir} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, stdout, stderr := runInProcess(tc.args(dir), "secret\n")
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.Contains(stdout, filepath.Join(dir, "users.yaml")) {
				t.Fatalf("stdout %q: want the user saved in %s", stdout, dir)
			}
			if _, err := os.Stat(filepath.Join(dir, "users.yaml")); err != nil {
				t.Fatal(err)
			}
			code, stdout, _ = runInProcess([]string{"users", "list", "--data", dir}, "")
			if code != 0 || !strings.HasPrefix(stdout, "alice\t") {
				t.Fatalf("users list: exit %d %q", code, stdout)
			}
		})
	}
}

func TestParseArgsInterspersed(t *testing.T) {
	cases := []struct {
		args     []string
		wantPos  []string
		wantName string
		wantOn   bool
	}{
		{[]string{"a", "--name", "x", "b"}, []string{"a", "b"}, "x", false},
		{[]string{"--on", "a", "-name=y"}, []string{"a"}, "y", true},
		{[]string{"a", "--", "--on", "b"}, []string{"a", "--on", "b"}, "", false},
		{[]string{"--name", "--", "a"}, []string{"a"}, "--", false}, // "--" as a flag's value
		{[]string{"-"}, []string{"-"}, "", false},
	}
	for _, tc := range cases {
		fs := newFlagSet("test", env{})
		name := fs.String("name", "", "")
		on := fs.Bool("on", false, "")
		pos, err := parseArgs(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.wantPos) || *name != tc.wantName || *on != tc.wantOn {
			t.Errorf("parseArgs(%q) = %q, %v, name %q, on %v; want %q, name %q, on %v",
				tc.args, pos, err, *name, *on, tc.wantPos, tc.wantName, tc.wantOn)
		}
	}
	fs := newFlagSet("test", env{})
	if _, err := parseArgs(fs, []string{"a", "--bogus"}); err == nil || err == flag.ErrHelp {
		t.Errorf("an unknown flag after an argument: err %v, want a usage error", err)
	}
}
