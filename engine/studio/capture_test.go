package studio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// damaged makes dir look like a capture whose MANIFEST is garbage and
// returns the garbage: all moveAside needs.
func damaged(t *testing.T, dir string) []byte {
	t.Helper()
	garbage := []byte("not a badger manifest")
	if err := os.MkdirAll(filepath.Join(dir, "blocks"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	return garbage
}

func TestMoveAsideKeepsTheOldDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "capture")
	garbage := damaged(t, dir)
	before, _ := os.ReadDir(dir)
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600))

	to, err := moveAside(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := dir + ".damaged-20260304T040607Z"; to != want {
		t.Errorf("moved to %s, want %s (UTC)", to, want)
	}
	after, _ := os.ReadDir(to)
	if len(after) != len(before) {
		t.Errorf("%d files before, %d after the move", len(before), len(after))
	}
	if b, _ := os.ReadFile(filepath.Join(to, "MANIFEST")); !bytes.Equal(b, garbage) {
		t.Error("the moved MANIFEST changed")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists: %v", dir, err)
	}

	// The same second again (a new store damaged at once): a new name.
	damaged(t, dir)
	to2, err := moveAside(dir, now)
	if err != nil || to2 != to+"-2" {
		t.Errorf("second move: %s, %v", to2, err)
	}
	if _, err := os.Stat(filepath.Join(to, "MANIFEST")); err != nil {
		t.Errorf("the first moved store is gone: %v", err)
	}
	if _, err := moveAside(filepath.Join(t.TempDir(), "missing"), now); err == nil {
		t.Error("moving a missing dir succeeded")
	}
}

func TestCaptureKeepsTheStoresRetention(t *testing.T) {
	data := t.TempDir()
	dir := CaptureDir(data)
	s, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetRetention(300<<20, 48*time.Hour) // as the Retention dialog or serve --capture-max-age do
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	eng, err := Open(testConfig(data, true))
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, eng.Serve)
	st, err := eng.Capture.Store().Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.MaxBytes != 300<<20 || st.MaxAge != 48*time.Hour {
		t.Errorf("the app keeps %d bytes / %v, want the store's 300 MiB / 48h", st.MaxBytes, st.MaxAge)
	}
}

func TestLoopbackURL(t *testing.T) {
	run := func(ls ...broker.Listener) broker.State { return broker.State{Status: broker.Running, Listeners: ls} }
	for _, tt := range []struct {
		st   broker.State
		want string
	}{
		{broker.State{Status: broker.Stopped}, ""},
		{run(broker.Listener{Name: "mqtt", Address: "127.0.0.1:1883"}), "mqtt://127.0.0.1:1883"},
		{run(broker.Listener{Name: "mqtt", Address: "0.0.0.0:1884"}), "mqtt://127.0.0.1:1884"},
		{run(broker.Listener{Name: "mqtt", Address: "[::]:1885"}), "mqtt://[::1]:1885"},
		{run(broker.Listener{Name: "ws", Address: "127.0.0.1:8083"}, broker.Listener{Name: "mqtt", Address: "127.0.0.1:1"}), "mqtt://127.0.0.1:1"},
		{run(broker.Listener{Name: "ws", Address: "127.0.0.1:8083"}), "ws://127.0.0.1:8083/mqtt"},
		{run(broker.Listener{Name: "tls", Address: "127.0.0.1:8883"}), ""},
	} {
		if got := LoopbackURL(tt.st); got != tt.want {
			t.Errorf("LoopbackURL(%v) = %q, want %q", tt.st.Listeners, got, tt.want)
		}
	}
}
