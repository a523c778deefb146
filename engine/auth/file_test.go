package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// testHash is a valid bcrypt hash (cost 4) for parser tests.
const testHash = "$2a$04$jYLyf7VHnoZcemW4rjpj0OI12hK9Dcz5hsXX5RlN73MuFNIdmcEYa"

const goodFile = `# IoT Studio broker users. Passwords are bcrypt hashes; add users with ` + "`iotstudio users add NAME`" + `.
anonymous: false        # allow clients without a user name
users:
  - name: alice
    password_hash: "` + testHash + `"
    acl:                 # first matching rule wins
      - {filter: "sensors/#", access: readwrite}
      - {filter: "secret/#", access: deny}
      - {filter: "cmd/+/set", access: write}
      - filter: "#"
        access: read
  - name: bob
    password_hash: ` + testHash + `
  - name: "carol smith"
    password_hash: '` + testHash + `'
    acl: []
`

func TestParseGood(t *testing.T) {
	u, err := Parse("users.yaml", []byte(goodFile))
	if err != nil {
		t.Fatal(err)
	}
	want := []User{
		{Name: "alice", PasswordHash: testHash, ACL: []Rule{
			{"sensors/#", ReadWrite}, {"secret/#", Deny}, {"cmd/+/set", Write}, {"#", Read},
		}},
		{Name: "bob", PasswordHash: testHash},
		{Name: "carol smith", PasswordHash: testHash, ACL: []Rule{}},
	}
	if u.Anonymous {
		t.Error("Anonymous = true, want false")
	}
	if !reflect.DeepEqual(u.List, want) {
		t.Errorf("List =\n%#v\nwant\n%#v", u.List, want)
	}

	for _, empty := range []string{"", "# only a comment\n", "---\n", "~\n", "users:\n", "anonymous: true\nusers: []\n"} {
		u, err := Parse("users.yaml", []byte(empty))
		if err != nil || len(u.List) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no users", empty, u, err)
		}
	}
	if u, _ := Parse("users.yaml", []byte("anonymous: true\n")); !u.Anonymous {
		t.Error("anonymous: true not parsed")
	}
}

func TestParseErrors(t *testing.T) {
	user := func(extra string) string {
		return "users:\n  - name: alice\n    password_hash: \"" + testHash + "\"\n" + extra
	}
	rule := func(r string) string { return user("    acl:\n      - " + r + "\n") } // the rule is on line 5
	tests := []struct {
		name, data string
		line       int
		want       []string
	}{
		{"bad access", rule(`{filter: "a/#", access: rw}`), 5,
			[]string{`access "rw" is not one of read, write, readwrite, deny`}},
		{"no password_hash", "anonymous: false\nusers:\n  - name: alice\n    password_hash: \"" + testHash + "\"\n  - name: bob\n", 5,
			[]string{`user "bob" has no password_hash; set one with: iotstudio users add bob`}},
		{"empty password_hash", "users:\n  - name: bob smith\n    password_hash: \"\"\n", 2,
			[]string{`user "bob smith" has no password_hash`, `iotstudio users add 'bob smith'`}},
		{"duplicate user", user("  - name: alice\n    password_hash: \"" + testHash + "\"\n"), 4,
			[]string{`user "alice" is defined twice (first at line 2)`}},
		{"hash not last", rule(`{filter: "a/#/b", access: read}`), 5,
			[]string{`"a/#/b"`, "'#' may only be the last level"}},
		{"hash inside level", rule(`{filter: "a/b#", access: read}`), 5,
			[]string{"'#' must be a whole level"}},
		{"plus inside level", rule(`{filter: "a/b+/c", access: read}`), 5,
			[]string{"'+' must be a whole level"}},
		{"empty filter", rule(`{filter: "", access: read}`), 5,
			[]string{"filter is empty"}},
		{"unquoted hash filter", user("    acl:\n      - access: read\n        filter: #\n"), 6,
			[]string{"filter is empty", `quoted, e.g. filter: "#"`}},
		{"shared filter", rule(`{filter: "$share/g/a", access: read}`), 5,
			[]string{"$share/ prefix"}},
		{"rule without access", rule(`{filter: "a"}`), 5,
			[]string{"acl rule has no access"}},
		{"rule without filter", rule(`{access: read}`), 5,
			[]string{"acl rule has no filter"}},
		{"rule not a mapping", rule(`"a/#"`), 5,
			[]string{"each acl rule must be a mapping"}},
		{"plaintext password", "users:\n  - name: bob\n    password_hash: hunter2\n", 3,
			[]string{`password_hash of user "bob" is not a bcrypt hash`, "iotstudio users add bob"}},
		{"bcrypt cost too high", "users:\n  - name: bob\n    password_hash: \"$2a$31$" + testHash[7:] + "\"\n", 3,
			[]string{"cost 31"}},
		{"unknown top-level key", "anonymus: true\nusers: []\n", 1,
			[]string{`unknown key "anonymus" at the top level; expected anonymous, anonymous_acl or users`}},
		{"unknown user key", user("    pasword: x\n"), 4,
			[]string{`unknown key "pasword" in a user entry; expected name, password_hash or acl`}},
		{"unknown rule key", rule(`{filter: "a", acess: read}`), 5,
			[]string{`unknown key "acess" in an acl rule; expected filter or access`}},
		{"duplicate key", user("    name: bob\n"), 4,
			[]string{`key "name" appears twice in a user entry (first at line 2)`}},
		{"anonymous not bool", "anonymous: yes\n", 1,
			[]string{`anonymous must be true or false, not "yes"`}},
		{"users not a list", "users:\n  alice: x\n", 2,
			[]string{"users must be a list"}},
		{"user without name", "users:\n  - password_hash: \"" + testHash + "\"\n", 2,
			[]string{"user entry has no name"}},
		{"name with colon", "users:\n  - name: \"a:b\"\n    password_hash: \"" + testHash + "\"\n", 2,
			[]string{`user name "a:b" contains ':'`}},
		{"name with control char", "users:\n  - name: \"a\\tb\"\n    password_hash: \"" + testHash + "\"\n", 2,
			[]string{"control character"}},
		{"top level is a list", "- alice\n", 1,
			[]string{"expected a mapping with the keys anonymous, anonymous_acl and users"}},
		{"bad anonymous_acl rule", "anonymous: true\nanonymous_acl:\n  - {filter: \"secret/#/x\", access: deny}\n", 3,
			[]string{"'#' may only be the last level"}},
		{"yaml syntax", "anonymous: false\nusers:\n  - name: a: b\n", 3,
			[]string{"invalid YAML", "mapping values are not allowed"}},
		{"yaml unterminated quote", "anonymous: false\nusers:\n  - name: \"alice\n", 3,
			[]string{"invalid YAML", "end of stream"}},
		{"yaml tab", "users:\n\t- name: alice\n", 2,
			[]string{"invalid YAML"}},
		{"two documents", "anonymous: false\n---\nanonymous: true\n", 2,
			[]string{"second YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse("users.yaml", []byte(tt.data))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want an error\n%s", u, tt.data)
			}
			msg := err.Error()
			prefix := fmt.Sprintf("users.yaml line %d: ", tt.line)
			if !strings.Contains(msg, prefix) {
				t.Errorf("error %q does not mention %q", msg, prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != tt.line || pe.File != "users.yaml" {
				t.Errorf("errors.As(*ParseError) = %+v, want line %d", pe, tt.line)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	data := "users:\n  - name: a\n    password_hash: x\n  - name: b\n    acl:\n      - {filter: \"#/a\", access: read}\n"
	_, err := Parse("users.yaml", []byte(data))
	for _, w := range []string{"line 3: password_hash", `line 4: user "b" has no password_hash`, "line 6: filter"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not contain %q", err, w)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadUsesFileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker-users.yaml")
	if err := os.WriteFile(path, []byte("users:\n  - name: bob\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "broker-users.yaml line 2: ") {
		t.Fatalf("Load error = %v, want one naming broker-users.yaml line 2", err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "users.yaml")
	u := &Users{Anonymous: true, AnonymousACL: []Rule{{"secret/#", Deny}, {"#", ReadWrite}}, List: []User{
		{Name: "alice", PasswordHash: testHash, ACL: []Rule{
			{"sensors/#", ReadWrite}, {"#", Deny}, {"+", Read}, {"cmd/+/set", Write}, {"$SYS/#", Read},
		}},
		{Name: "bob smith", PasswordHash: testHash},
		{Name: "ünïcode: no", PasswordHash: testHash}, // invalid: ':' -> Save must refuse
	}}
	if err := u.Save(path); err == nil || !strings.Contains(err.Error(), "contains ':'") {
		t.Fatalf("Save with an invalid name = %v, want refusal", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("refused Save left a file behind: %v", err)
	}
	u.List[2].Name = "ünïcode"
	if err := u.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Anonymous != u.Anonymous || !reflect.DeepEqual(got.List, u.List) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got.List, u.List)
	}
	if !reflect.DeepEqual(got.AnonymousACL, u.AnonymousACL) {
		t.Errorf("anonymous_acl round trip: got %+v, want %+v", got.AnonymousACL, u.AnonymousACL)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), DefaultHeader+"\n") {
		t.Errorf("saved file does not start with the default header:\n%s", data)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	// A loaded file's own header is kept; saving again is stable.
	custom := "# my broker users\n# managed by hand\n\nanonymous: false\nusers: []\n"
	if err := os.WriteFile(path, []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Save(path); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(first), "# my broker users\n# managed by hand\n") {
		t.Errorf("custom header not kept:\n%s", first)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode after overwrite = %v, want 0600", fi.Mode().Perm())
		}
	}
	again, _ := Load(path)
	if err := again.Save(path); err != nil {
		t.Fatal(err)
	}
	if second, _ := os.ReadFile(path); string(second) != string(first) {
		t.Errorf("Save is not stable:\n%s\n---\n%s", first, second)
	}
}

func TestSaveHasNoPlaintextPassword(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "users.yaml")
	const secret = "correct horse battery staple"
	u := &Users{}
	if err := u.SetPassword("alice", []byte(secret)); err != nil {
		t.Fatal(err)
	}
	if err := u.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) || strings.Contains(string(data), "horse") {
		t.Fatalf("plaintext password in saved file:\n%s", data)
	}
	if !strings.Contains(string(data), `password_hash: "$2a$10$`) {
		t.Errorf("no cost-10 bcrypt hash in saved file:\n%s", data)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Authenticate("alice", []byte(secret)) {
		t.Error("Authenticate after Save/Load failed")
	}
}
