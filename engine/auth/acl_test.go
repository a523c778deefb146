package auth

import (
	"math/rand/v2"
	"strings"
	"testing"

	mqtt "github.com/mochi-mqtt/server/v2"
)

func TestAccessStringAndParse(t *testing.T) {
	for _, a := range []Access{Deny, Read, Write, ReadWrite} {
		got, err := ParseAccess(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAccess(%q) = %v, %v; want %v", a.String(), got, err, a)
		}
	}
	if ReadWrite != Read|Write || Deny != 0 {
		t.Errorf("Access is not a bit set: Read|Write = %v", Read|Write)
	}
	for _, bad := range []string{"", "rw", "Read", "READWRITE", "none"} {
		if _, err := ParseAccess(bad); err == nil || !strings.Contains(err.Error(), "is not one of read, write, readwrite, deny") {
			t.Errorf("ParseAccess(%q) error = %v", bad, err)
		}
	}
	if s := Access(7).String(); s != "Access(7)" {
		t.Errorf("Access(7).String() = %q", s)
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/b", "a", false},
		{"a", "a/b", false},
		{"a/#", "a", true}, // parent level, [MQTT-4.7.1-2]
		{"a/#", "a/b/c", true},
		{"a/#", "ab", false},
		{"#", "a/b", true},
		{"#", "/", true},
		{"+", "a", true},
		{"+", "a/b", false},
		{"+/+", "/", true}, // + matches empty levels
		{"a/+/c", "a//c", true},
		{"a/+", "a", false},
		{"+/#", "a", true},
		{"#", "$SYS/uptime", false}, // [MQTT-4.7.2-1]
		{"+/uptime", "$SYS/uptime", false},
		{"$SYS/#", "$SYS/uptime", true},
		{"$SYS/+", "$SYS/uptime", true},
		{"a/$x", "a/$x", true},
		{"+/$x", "a/$x", true}, // only the first level is special
	}
	for _, tt := range tests {
		if got := matches(tt.filter, tt.topic); got != tt.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

func TestCoversAndOverlaps(t *testing.T) {
	tests := []struct {
		rule, sub       string
		covers, overlap bool
	}{
		{"sensors/#", "sensors/+/temp", true, true},
		{"sensors/#", "sensors/#", true, true},
		{"sensors/#", "sensors", true, true},
		{"sensors/#", "#", false, true},
		{"sensors/+", "sensors/#", false, true}, // sensors/# also matches sensors and sensors/a/b
		{"sensors/+", "sensors/+", true, true},
		{"+/#", "#", true, true},
		{"a/+/#", "a/#", false, true},
		{"+", "#", false, true},
		{"a/b", "a/+", false, true},
		{"a/b", "c/+", false, false},
		{"a/b/c", "a/#", false, true},
		{"a/#", "b/#", false, false},
		{"#", "$SYS/#", false, false},
		{"+/x", "$SYS/x", false, false},
		{"$SYS/#", "#", false, false}, // "#" never matches $SYS topics
		{"$SYS/#", "+/x", false, false},
		{"$SYS/#", "$SYS/+", true, true},
	}
	for _, tt := range tests {
		if got := covers(tt.rule, tt.sub); got != tt.covers {
			t.Errorf("covers(%q, %q) = %v, want %v", tt.rule, tt.sub, got, tt.covers)
		}
		if got := overlaps(tt.rule, tt.sub); got != tt.overlap {
			t.Errorf("overlaps(%q, %q) = %v, want %v", tt.rule, tt.sub, got, tt.overlap)
		}
		if got := overlaps(tt.sub, tt.rule); got != tt.overlap {
			t.Errorf("overlaps(%q, %q) = %v, want %v (symmetry)", tt.sub, tt.rule, got, tt.overlap)
		}
	}
}

func aclUsers() *Users {
	return &Users{List: []User{
		{Name: "alice", PasswordHash: testHash, ACL: []Rule{
			{"sensors/#", ReadWrite},
			{"secret/#", Deny},
			{"cmd/+/set", Write},
			{"status", Read},
		}},
		{Name: "reader", PasswordHash: testHash, ACL: []Rule{{"#", Read}}},
		{Name: "wide", PasswordHash: testHash, ACL: []Rule{{"+/#", Read}}},
		{Name: "sys", PasswordHash: testHash, ACL: []Rule{{"$SYS/#", Read}, {"#", Deny}}},
		{Name: "plus", PasswordHash: testHash, ACL: []Rule{{"a/+", Read}}},
		{Name: "denyfirst", PasswordHash: testHash, ACL: []Rule{{"a/#", Deny}, {"a/b", ReadWrite}}},
		{Name: "allowfirst", PasswordHash: testHash, ACL: []Rule{{"a/b", ReadWrite}, {"a/#", Deny}, {"#", Read}}},
		{Name: "root", PasswordHash: testHash}, // no rules = full access
	}}
}

func TestAllowed(t *testing.T) {
	const pub, sub = true, false
	tests := []struct {
		user, s string
		write   bool
		want    bool
	}{
		// PUBLISH: first rule matching the topic decides.
		{"alice", "sensors/temp", pub, true},
		{"alice", "sensors", pub, true}, // sensors/# matches sensors
		{"alice", "sensors/a/b/c", pub, true},
		{"alice", "secret/x", pub, false},
		{"alice", "secret", pub, false},
		{"alice", "cmd/lamp/set", pub, true},
		{"alice", "cmd//set", pub, true}, // + matches an empty level
		{"alice", "cmd/lamp/get", pub, false},
		{"alice", "status", pub, false}, // read-only rule matches first
		{"alice", "elsewhere", pub, false},
		{"reader", "x", pub, false},

		// SUBSCRIBE: a granting rule must cover the whole filter, a
		// refusing rule applies as soon as it overlaps.
		{"alice", "sensors/+/temp", sub, true},
		{"alice", "sensors/#", sub, true},
		{"alice", "sensors", sub, true},
		{"alice", "#", sub, false},      // not covered by sensors/#, overlaps secret/#
		{"alice", "+/temp", sub, false}, // could match secret/temp
		{"alice", "secret/x", sub, false},
		{"alice", "status", sub, true},
		{"alice", "cmd/lamp/set", sub, false}, // write-only rule
		{"alice", "cmd/#", sub, false},
		{"alice", "$share/g/sensors/#", sub, true}, // shared subscriptions: ACL on the filter
		{"alice", "$SHARE/g/sensors/x", sub, true},
		{"alice", "$share/g/secret/#", sub, false},
		{"alice", "$share/g", sub, false},
		{"reader", "#", sub, true},
		{"reader", "$SYS/#", sub, false}, // "#" does not match $-topics
		{"wide", "#", sub, true},
		{"wide", "$SYS/+", sub, false},
		{"sys", "$SYS/#", sub, true},
		{"sys", "#", sub, false},
		{"plus", "a/+", sub, true},
		{"plus", "a/b", sub, true},
		{"plus", "a/#", sub, false}, // a/# also matches a and a/b/c
		{"denyfirst", "a/b", sub, false},
		{"denyfirst", "a/b", pub, false},
		{"allowfirst", "a/b", sub, true},
		{"allowfirst", "a/b", pub, true},
		{"allowfirst", "a/c", sub, false},
		{"allowfirst", "b/#", sub, true},
		{"allowfirst", "#", sub, false}, // overlaps a/# deny

		// Per-delivery read checks: topic names.
		{"alice", "sensors/a/temp", sub, true},
		{"alice", "secret/a", sub, false},
		{"reader", "$SYS/broker/uptime", sub, false},
		{"sys", "$SYS/broker/uptime", sub, true},
		{"plus", "a", sub, false},

		// No rules: everything, including $SYS.
		{"root", "#", sub, true},
		{"root", "$SYS/#", sub, true},
		{"root", "anything/at/all", pub, true},

		// Unknown users and the empty name get nothing here.
		{"mallory", "sensors/a", pub, false},
		{"mallory", "sensors/a", sub, false},
		{"", "sensors/a", sub, false},
	}
	u := aclUsers()
	h := NewHook(u, false)
	for _, tt := range tests {
		if got := u.Allowed(tt.user, tt.s, tt.write); got != tt.want {
			t.Errorf("Allowed(%q, %q, write=%v) = %v, want %v", tt.user, tt.s, tt.write, got, tt.want)
		}
		// The hook's snapshot must agree.
		if got := h.state.Load().allowed([]byte(tt.user), tt.s, tt.write); got != tt.want {
			t.Errorf("hook allowed(%q, %q, write=%v) = %v, want %v", tt.user, tt.s, tt.write, got, tt.want)
		}
	}
}

// refMatch is a straightforward reference MQTT matcher for the brute-force test.
func refMatch(filter, topic string) bool {
	f, tp := strings.Split(filter, "/"), strings.Split(topic, "/")
	if strings.HasPrefix(topic, "$") && (f[0] == "+" || f[0] == "#") {
		return false
	}
	for i, l := range f {
		if l == "#" {
			return true
		}
		if i >= len(tp) || (l != "+" && l != tp[i]) {
			return false
		}
	}
	return len(f) == len(tp)
}

// universe enumerates all strings of 1..depth levels over alphabet.
func universe(alphabet []string, depth int) []string {
	var out, prev []string
	prev = []string{""}
	for d := 1; d <= depth; d++ {
		var next []string
		for _, p := range prev {
			for _, l := range alphabet {
				if d == 1 {
					next = append(next, l)
				} else {
					next = append(next, p+"/"+l)
				}
			}
		}
		out = append(out, next...)
		prev = next
	}
	return out
}

// TestBruteForce checks covers/overlaps exactly against a reference matcher
// over a small topic universe, and that a granted subscription never leads
// to a refused delivery.
func TestBruteForce(t *testing.T) {
	var filters []string
	for _, f := range universe([]string{"a", "$s", "", "+", "#"}, 3) {
		if filterProblem(f) == "" {
			filters = append(filters, f)
		}
	}
	topics := universe([]string{"a", "b", "$s", ""}, 4)
	sets := make(map[string][]bool, len(filters))
	for _, f := range filters {
		set := make([]bool, len(topics))
		for i, tp := range topics {
			set[i] = refMatch(f, tp)
		}
		sets[f] = set
	}
	for _, r := range filters {
		for _, s := range filters {
			subset, inter := true, false
			for i := range topics {
				subset = subset && (!sets[s][i] || sets[r][i])
				inter = inter || (sets[s][i] && sets[r][i])
			}
			if got := covers(r, s); got != subset {
				t.Fatalf("covers(%q, %q) = %v, reference %v", r, s, got, subset)
			}
			if got := overlaps(r, s); got != inter {
				t.Fatalf("overlaps(%q, %q) = %v, reference %v", r, s, got, inter)
			}
		}
		for i, tp := range topics {
			if got := matches(r, tp); got != sets[r][i] {
				t.Fatalf("matches(%q, %q) = %v, reference %v", r, tp, got, sets[r][i])
			}
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		rules := make([]Rule, 1+rng.IntN(4))
		for i := range rules {
			rules[i] = Rule{filters[rng.IntN(len(filters))], Access(rng.IntN(4))}
		}
		for i, tp := range topics { // topics: first matching rule decides
			for _, write := range []bool{false, true} {
				need, want := Read, false
				if write {
					need = Write
				}
				for _, r := range rules {
					if sets[r.Filter][i] {
						want = r.Access&need != 0
						break
					}
				}
				if got := allowed(rules, tp, write); got != want {
					t.Fatalf("rules %v: allowed(%q, write=%v) = %v, want %v", rules, tp, write, got, want)
				}
			}
		}
		for _, s := range filters { // granted subscription => all deliveries pass
			if !allowed(rules, s, false) {
				continue
			}
			for i, tp := range topics {
				if sets[s][i] && !allowed(rules, tp, false) {
					t.Fatalf("rules %v: subscription %q granted but delivery of %q refused", rules, s, tp)
				}
			}
		}
	}
}

func TestFilterProblem(t *testing.T) {
	tests := []struct{ filter, want string }{
		{"a/b", ""},
		{"#", ""},
		{"+", ""},
		{"a/+/#", ""},
		{"/", ""},
		{"$SYS/#", ""},
		{"", "empty"},
		{"a/#/b", "'#' before the last level"},
		{"#/a", "'#' before the last level"},
		{"a#", "'#' must be a whole level"},
		{"a/b#", "'#' must be a whole level"},
		{"a+/b", "'+' must be a whole level"},
		{"a/++", "'+' must be a whole level"},
		{"$share/g/a", "$share/"},
		{"a\x00b", "NUL"},
		{"\xff", "UTF-8"},
	}
	for _, tt := range tests {
		got := filterProblem(tt.filter)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("filterProblem(%q) = %q, want containing %q", tt.filter, got, tt.want)
		}
	}
}

// deliveryFixture is the per-delivery check of a user with a realistic ACL.
func deliveryFixture() (*Hook, *mqtt.Client, *mqtt.Client) {
	u := &Users{List: []User{{Name: "alice", PasswordHash: testHash, ACL: []Rule{
		{"secret/#", Deny},
		{"cmd/+/set", Write},
		{"home/+/+/status", Read},
		{"sensors/#", ReadWrite},
	}}}}
	h := NewHook(u, true)
	alice := &mqtt.Client{}
	alice.Properties.Username = []byte("alice")
	anon := &mqtt.Client{}
	return h, alice, anon
}

func TestAllowedDeliveryDoesNotAllocate(t *testing.T) {
	h, alice, anon := deliveryFixture()
	open := NewHook(nil, true)
	for name, check := range map[string]func() bool{
		"user":      func() bool { return h.OnACLCheck(alice, "sensors/building-1/floor-2/temp", false) },
		"denied":    func() bool { return !h.OnACLCheck(alice, "secret/building-1/keys", false) },
		"anonymous": func() bool { return h.OnACLCheck(anon, "sensors/x", false) },
		"open":      func() bool { return open.OnACLCheck(alice, "sensors/x", false) },
		"provides":  func() bool { return h.Provides(mqtt.OnACLCheck) },
	} {
		if !check() {
			t.Errorf("%s: unexpected result", name)
		}
		if n := testing.AllocsPerRun(200, func() { check() }); n != 0 {
			t.Errorf("%s: %v allocs per delivery check, want 0", name, n)
		}
	}
}

func BenchmarkAllowedDelivery(b *testing.B) {
	h, alice, anon := deliveryFixture()
	open := NewHook(nil, true)
	for _, bc := range []struct {
		name  string
		hook  *Hook
		cl    *mqtt.Client
		topic string
	}{
		{"user", h, alice, "sensors/building-1/floor-2/temp"},
		{"user-denied", h, alice, "secret/building-1/keys"},
		{"anonymous", h, anon, "sensors/x"},
		{"open", open, alice, "sensors/x"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.hook.OnACLCheck(bc.cl, bc.topic, false)
			}
		})
	}
}
