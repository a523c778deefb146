package auth

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// fastHashing makes SetPassword use the minimum bcrypt cost for the rest of
// a (non-parallel) test, to keep -race runs quick. The real cost is checked
// in TestSetPasswordDefaultCost.
func fastHashing(t *testing.T) {
	hashCost = bcrypt.MinCost
	t.Cleanup(func() { hashCost = bcrypt.DefaultCost })
}

func TestSetPasswordDefaultCost(t *testing.T) {
	t.Parallel()
	u := &Users{}
	if err := u.SetPassword("alice", []byte("s3cret")); err != nil {
		t.Fatal(err)
	}
	h := u.Find("alice").PasswordHash
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != bcrypt.DefaultCost || !strings.HasPrefix(h, "$2a$10$") {
		t.Fatalf("hash %q: cost %d, %v; want %d", h, cost, err, bcrypt.DefaultCost)
	}
	if !u.Authenticate("alice", []byte("s3cret")) || u.Authenticate("alice", []byte("s3creT")) {
		t.Error("Authenticate with a cost-10 hash is wrong")
	}
}

func TestSetPasswordAuthenticate(t *testing.T) {
	fastHashing(t)
	u := &Users{}
	if err := u.SetPassword("alice", []byte("s3cret")); err != nil {
		t.Fatal(err)
	}
	h := u.Find("alice").PasswordHash
	if strings.Contains(h, "s3cret") {
		t.Fatal("hash contains the password")
	}
	tests := []struct {
		name, password string
		want           bool
	}{
		{"alice", "s3cret", true},
		{"alice", "S3cret", false},
		{"alice", "s3cret ", false},
		{"alice", "", false},
		{"bob", "s3cret", false},
		{"", "s3cret", false},
	}
	for _, tt := range tests {
		if got := u.Authenticate(tt.name, []byte(tt.password)); got != tt.want {
			t.Errorf("Authenticate(%q, %q) = %v, want %v", tt.name, tt.password, got, tt.want)
		}
	}

	// Updating keeps the ACL and the position; the old password stops working.
	u.Find("alice").ACL = []Rule{{"a/#", Read}}
	if err := u.SetPassword("alice", []byte("n3w")); err != nil {
		t.Fatal(err)
	}
	if len(u.List) != 1 || len(u.List[0].ACL) != 1 {
		t.Fatalf("update changed the list: %+v", u.List)
	}
	if u.Authenticate("alice", []byte("s3cret")) || !u.Authenticate("alice", []byte("n3w")) {
		t.Error("password update not effective")
	}

	if !u.Remove("alice") || u.Remove("alice") || len(u.List) != 0 {
		t.Errorf("Remove: list now %+v", u.List)
	}
}

func TestSetPasswordRejects(t *testing.T) {
	tests := []struct {
		name     string
		password []byte
		want     string
	}{
		{"", []byte("pw"), "user name is empty"},
		{"a:b", []byte("pw"), "contains ':'"},
		{"a\nb", []byte("pw"), "control character"},
		{"a\x7fb", []byte("pw"), "control character"},
		{"bad\xffutf8", []byte("pw"), "not valid UTF-8"},
		{"alice", nil, "password is empty"},
		{"alice", []byte(strings.Repeat("x", 73)), "password is 73 bytes long; bcrypt only uses the first 72 bytes"},
	}
	for _, tt := range tests {
		u := &Users{}
		err := u.SetPassword(tt.name, tt.password)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SetPassword(%q, %d bytes) = %v, want error containing %q", tt.name, len(tt.password), err, tt.want)
		}
		if len(u.List) != 0 {
			t.Errorf("SetPassword(%q) added a user despite the error", tt.name)
		}
	}
}

func TestAuthenticateRejectsOverlongPassword(t *testing.T) {
	fastHashing(t)
	// A hash of a 72-byte password also "matches" any longer password with
	// the same first 72 bytes in bcrypt; Authenticate must not accept those.
	pw := []byte(strings.Repeat("p", 72))
	u := &Users{}
	if err := u.SetPassword("alice", pw); err != nil {
		t.Fatal(err)
	}
	if !u.Authenticate("alice", pw) {
		t.Fatal("72-byte password refused")
	}
	if u.Authenticate("alice", append(pw, 'X')) {
		t.Fatal("73-byte password accepted")
	}
}
