package auth

import "testing"

// The example users file shipped in testdata/ is what the README points
// people to; it must load and mean what its comments say.
func TestExampleUsersFile(t *testing.T) {
	u, err := Load("../../testdata/users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Authenticate("alice", []byte("alice-demo")) || !u.Authenticate("sensor", []byte("sensor-demo")) {
		t.Fatal("documented demo passwords do not authenticate")
	}
	cases := []struct {
		user, topic string
		write, want bool
	}{
		{"alice", "anything/at/all", true, true},
		{"sensor", "sensors/t1/temp", true, true},
		{"sensor", "sensors/t1/config", false, true},
		{"sensor", "sensors/t1/config", true, false}, // the read rule comes first and does not grant write
		{"sensor", "sensors/#", false, false},
		{"sensor", "cmd/reboot", true, false},
	}
	for _, tc := range cases {
		if got := u.Allowed(tc.user, tc.topic, tc.write); got != tc.want {
			t.Errorf("Allowed(%s, %s, write=%v) = %v, want %v", tc.user, tc.topic, tc.write, got, tc.want)
		}
	}
}
