// Package auth holds the broker's users file (bcrypt-hashed passwords and
// per-user ACLs) and a mochi-mqtt hook that enforces it.
//
// mochi's own auth.Ledger is deliberately not used: it compares plaintext
// passwords, keeps ACL filters in a map (so overlapping rules are evaluated
// in random order) and its matcher does not let "a/#" match "a".
package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// MaxPasswordLen is bcrypt's input limit. Longer passwords are rejected
// rather than silently truncated.
const MaxPasswordLen = 72

// maxHashCost bounds the bcrypt cost accepted from the file: every CONNECT
// pays it, and cost 16+ takes seconds per login.
const maxHashCost = 15

// User is one broker account.
type User struct {
	Name         string
	PasswordHash string // bcrypt hash, never the password
	ACL          []Rule // first applicable rule wins; empty = full access
}

// Users is the content of the users file.
//
// A Users value is not safe for concurrent mutation; the Hook works on its
// own copy taken by NewHook / Reload.
type Users struct {
	// Anonymous asks for clients without a user name to be accepted. The
	// broker only honours it when every listener is on loopback.
	Anonymous bool
	// AnonymousACL is what clients without a user name may do (they must
	// be admitted first: Anonymous, or no users at all). Empty means full
	// access; rules are evaluated like a user's.
	AnonymousACL []Rule
	List         []User

	header string // leading comment block of the loaded file, kept by Save
}

// DefaultHeader is the comment written at the top of a users file that has
// none of its own.
const DefaultHeader = `# IoT Studio broker users. Passwords are bcrypt hashes; add users with ` + "`iotstudio users add NAME`" + `.
# anonymous: allow clients without a user name (only honoured when every listener is on loopback).
# acl (optional, per user): rules {filter: TOPIC-FILTER, access: read|write|readwrite|deny}.
#   The first matching rule wins; no rules = full access; rules but no match = deny.
# anonymous_acl (optional): the same rules for clients without a user name.`

// hashCost is the bcrypt cost of new hashes. Tests lower it; it is
// bcrypt.DefaultCost (10) otherwise.
var hashCost = bcrypt.DefaultCost

// Find returns the user called name, or nil.
func (u *Users) Find(name string) *User {
	for i := range u.List {
		if u.List[i].Name == name {
			return &u.List[i]
		}
	}
	return nil
}

// SetPassword adds user name with password, or replaces the password of an
// existing user (keeping its ACL). The password is stored as a bcrypt hash
// with bcrypt.DefaultCost.
func (u *Users) SetPassword(name string, password []byte) error {
	if p := nameProblem(name); p != "" {
		return errors.New(p)
	}
	if p := passwordProblem(password); p != "" {
		return errors.New(p)
	}
	hash, err := bcrypt.GenerateFromPassword(password, hashCost)
	if err != nil {
		return fmt.Errorf("hashing password for user %q: %w", name, err)
	}
	if usr := u.Find(name); usr != nil {
		usr.PasswordHash = string(hash)
		return nil
	}
	u.List = append(u.List, User{Name: name, PasswordHash: string(hash)})
	return nil
}

// Remove deletes user name and reports whether it existed.
func (u *Users) Remove(name string) bool {
	for i := range u.List {
		if u.List[i].Name == name {
			u.List = append(u.List[:i], u.List[i+1:]...)
			return true
		}
	}
	return false
}

// Authenticate reports whether password is right for user name. Unknown
// users cost as much time as known ones, so timing does not reveal names.
// The empty name (anonymous) never authenticates here: whether anonymous
// clients may connect is the broker's decision (see NewHook).
func (u *Users) Authenticate(name string, password []byte) bool {
	var hash []byte
	if usr := u.Find(name); usr != nil && name != "" {
		hash = []byte(usr.PasswordHash)
	}
	return checkPassword(hash, password)
}

// Allowed reports whether user name may publish to topic (write=true) or
// subscribe to filter / receive a message on topic (write=false). A
// "$share/GROUP/" prefix on a subscription filter is ignored. Unknown users,
// including the empty name, get false; anonymous access is the Hook's
// decision.
func (u *Users) Allowed(name, topicOrFilter string, write bool) bool {
	usr := u.Find(name)
	if usr == nil || name == "" {
		return false
	}
	return allowed(usr.ACL, topicOrFilter, write)
}

// dummyHash is compared against when the user does not exist.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("iotstudio: no such user"), bcrypt.DefaultCost)
	if err != nil {
		panic(err)
	}
	return h
})

// checkPassword compares password with hash (nil hash: unknown user; the
// comparison still runs so the failure takes the usual time).
func checkPassword(hash, password []byte) bool {
	ok := hash != nil
	if !ok {
		hash = dummyHash()
	}
	if len(password) == 0 || len(password) > MaxPasswordLen {
		// bcrypt would silently truncate long passwords; SetPassword never
		// stores them, so they cannot be right.
		ok = false
	}
	return bcrypt.CompareHashAndPassword(hash, password) == nil && ok
}

func nameProblem(name string) string {
	switch {
	case name == "":
		return "user name is empty"
	case len(name) > 65535:
		return "user name is longer than 65535 bytes (the MQTT limit)"
	case !utf8.ValidString(name):
		return fmt.Sprintf("user name %q is not valid UTF-8", name)
	case strings.ContainsRune(name, ':'):
		return fmt.Sprintf("user name %q contains ':'; choose a name without ':'", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Sprintf("user name %q contains a control character (tab, newline, ...)", name)
	}
	return ""
}

func passwordProblem(password []byte) string {
	switch {
	case len(password) == 0:
		return "password is empty"
	case len(password) > MaxPasswordLen:
		return fmt.Sprintf("password is %d bytes long; bcrypt only uses the first %d bytes, so use a password of at most %d bytes",
			len(password), MaxPasswordLen, MaxPasswordLen)
	}
	return ""
}

var bcryptHashRE = regexp.MustCompile(`^\$2[aby]?\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)

func hashProblem(name, hash string) string {
	fix := "set the password with: " + addCommand(name)
	if hash == "" {
		return fmt.Sprintf("user %q has no password_hash; set one with: %s", name, addCommand(name))
	}
	if !bcryptHashRE.MatchString(hash) {
		return fmt.Sprintf("password_hash of user %q is not a bcrypt hash (expected \"$2a$10$\" followed by 53 characters; never put a plain password here); %s", name, fix)
	}
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return fmt.Sprintf("password_hash of user %q is not a valid bcrypt hash (%v); %s", name, err, fix)
	}
	if cost > maxHashCost {
		return fmt.Sprintf("password_hash of user %q has bcrypt cost %d, which makes every login take seconds (at most %d); %s", name, cost, maxHashCost, fix)
	}
	return ""
}

var bareNameRE = regexp.MustCompile(`^[A-Za-z0-9._@+-]+$`)

// addCommand is the CLI command that sets name's password, quoted for a shell.
func addCommand(name string) string {
	if !bareNameRE.MatchString(name) {
		name = "'" + strings.ReplaceAll(name, "'", `'\''`) + "'"
	}
	return "iotstudio users add " + name
}

// Validate checks what Parse checks, for Users built in code.
func (u *Users) Validate() error {
	var errs []error
	seen := make(map[string]bool, len(u.List))
	for i, usr := range u.List {
		if p := nameProblem(usr.Name); p != "" {
			errs = append(errs, fmt.Errorf("user #%d: %s", i+1, p))
			continue
		}
		if seen[usr.Name] {
			errs = append(errs, fmt.Errorf("user %q is defined twice", usr.Name))
		}
		seen[usr.Name] = true
		if p := hashProblem(usr.Name, usr.PasswordHash); p != "" {
			errs = append(errs, errors.New(p))
		}
		errs = append(errs, ruleProblems(fmt.Sprintf("user %q acl", usr.Name), usr.ACL)...)
	}
	errs = append(errs, ruleProblems("anonymous_acl", u.AnonymousACL)...)
	return errors.Join(errs...)
}

func ruleProblems(where string, rules []Rule) []error {
	var errs []error
	for j, r := range rules {
		if p := filterProblem(r.Filter); p != "" {
			errs = append(errs, fmt.Errorf("%s rule #%d: %s", where, j+1, p))
		}
		if r.Access < Deny || r.Access > ReadWrite {
			errs = append(errs, fmt.Errorf("%s rule #%d: invalid access %v", where, j+1, r.Access))
		}
	}
	return errs
}

// Load reads and parses the users file at path. A missing file gives an error
// wrapping fs.ErrNotExist.
func Load(path string) (*Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading users file: %w", err)
	}
	return Parse(filepath.Base(path), data)
}

// Save writes u to path atomically (temporary file in the same directory,
// then rename) with mode 0600. The header comment of the loaded file, or
// DefaultHeader, is kept; other comments are not.
func (u *Users) Save(path string) (err error) {
	if err := u.Validate(); err != nil {
		return fmt.Errorf("not saving users file %s: %w", path, err)
	}
	data, err := u.marshal()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("saving users file: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("saving users file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("saving users file: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("saving users file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("saving users file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("saving users file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("saving users file: %w", err)
	}
	if runtime.GOOS != "windows" {
		if d, derr := os.Open(dir); derr == nil { // persist the rename; best effort
			d.Sync()
			d.Close()
		}
	}
	return nil
}
