package client

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestKeptSubscriptionsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k := NewKeptSubscriptions(dir)
	if subs, err := k.For("plant"); err != nil || len(subs) != 0 {
		t.Fatalf("no file: %v, %v", subs, err)
	}
	a := Subscription{Filter: "sensors/#", QoS: 1}
	b := Subscription{Filter: "alarms/+", QoS: 2, NoLocal: true, RetainHandling: 2}
	for _, step := range []func() error{
		func() error { return k.Keep("plant", a) },
		func() error { return k.Keep("plant", b) },
		func() error { return k.Keep("office", a) },
		func() error { return k.Keep("plant", Subscription{Filter: "sensors/#", QoS: 0}) }, // replaces a
		func() error { return k.Drop("office", "sensors/#") },
		func() error { return k.Drop("office", "never/kept") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	// A new value over the same file, as at the next start.
	k = NewKeptSubscriptions(dir)
	got, err := k.For("plant")
	if want := []Subscription{{Filter: "sensors/#"}, b}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("plant: %+v, %v; want %+v", got, err, want)
	}
	if got, _ := k.For("office"); len(got) != 0 {
		t.Fatalf("office: %+v after its only subscription was dropped", got)
	}
}

func TestKeptSubscriptionsDamagedFileIsReportedAndKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeptFile)
	for name, content := range map[string]string{
		"not JSON":      "{connections:",
		"other version": `{"version": 9, "connections": {}}`,
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		k := NewKeptSubscriptions(dir)
		if _, err := k.For("plant"); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: For: %v, want an error naming %s", name, err, path)
		}
		if err := k.Keep("plant", Subscription{Filter: "a"}); err == nil {
			t.Errorf("%s: Keep wrote over a file it could not read", name)
		}
		if data, _ := os.ReadFile(path); string(data) != content {
			t.Errorf("%s: the file changed to %q", name, data)
		}
	}
}
