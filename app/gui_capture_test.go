package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// damage closes nothing: it writes garbage over a closed store's MANIFEST.
func damage(t *testing.T, dir string) []byte {
	t.Helper()
	s, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Ingest(message.Message{Topic: "old/data", Payload: []byte("keep me")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	garbage := []byte("not a badger manifest")
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	return garbage
}

func TestMoveAsideKeepsTheOldDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "capture")
	garbage := damage(t, dir)
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
	damage(t, dir)
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

// find returns the first visible button under o labelled text.
func find(o fyne.CanvasObject, text string) *widget.Button {
	if o == nil || !o.Visible() {
		return nil
	}
	if b, ok := o.(*widget.Button); ok && b.Text == text {
		return b
	}
	var kids []fyne.CanvasObject
	switch c := o.(type) {
	case fyne.Widget:
		kids = test.WidgetRenderer(c).Objects()
	case *fyne.Container:
		kids = c.Objects
	}
	for _, k := range kids {
		if b := find(k, text); b != nil {
			return b
		}
	}
	return nil
}

func TestGUIOffersToMoveADamagedCaptureAndCapturesAfter(t *testing.T) {
	a := test.NewTempApp(t)
	dir := filepath.Join(t.TempDir(), "capture")
	damage(t, dir)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	g, err := newGUICapture(dir, log)
	if !errors.Is(err, capture.ErrCorrupt) {
		t.Fatalf("open: %v, want ErrCorrupt", err)
	}
	if g.rec.Ingest(message.Message{Topic: "x"}) {
		t.Error("a record was accepted without a store")
	}
	ui := make(chan func(), 4) // the test goroutine plays the Fyne goroutine
	g.do = func(fn func()) { ui <- fn }
	w := shell.NewMainWindow(a)
	t.Cleanup(w.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g.show(ctx, w, err)
	tabs := w.Content().(*container.AppTabs)
	if len(tabs.Items) != 0 {
		t.Fatal("a Capture panel without a store")
	}
	top := w.Canvas().Overlays().Top()
	move := find(top, "Move aside and start a new capture")
	if move == nil {
		t.Fatal("the dialog offers no move aside")
	}
	test.Tap(move)
	select {
	case fn := <-ui:
		fn()
	case <-time.After(20 * time.Second):
		t.Fatal("no new capture after moving the old one aside")
	}
	if g.rec.store.Load() == nil || len(tabs.Items) != 1 {
		t.Fatalf("after the move: store %v, %d tabs", g.rec.store.Load() != nil, len(tabs.Items))
	}
	if find(w.Canvas().Overlays().Top(), "OK") == nil {
		t.Error("no dialog says where the old capture went")
	}
	if tabs.Items[0].Text != "Capture" {
		t.Errorf("tab %q", tabs.Items[0].Text)
	}
	moved, _ := filepath.Glob(dir + ".damaged-*")
	if len(moved) != 1 {
		t.Fatalf("moved dirs: %v", moved)
	}
	if _, err := os.Stat(filepath.Join(moved[0], "MANIFEST")); err != nil {
		t.Errorf("the old store was not kept: %v", err)
	}
	if !g.rec.Ingest(message.Message{Topic: "new/data", Payload: []byte("x")}) {
		t.Error("the new store refused a record")
	}
	cancel()
	g.close()
	s, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, _ := s.Stats(); st.Records != 1 {
		t.Errorf("the new capture holds %d records, want 1", st.Records)
	}
}

func TestGUICaptureKeepsTheStoresRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "capture")
	s, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetRetention(300<<20, 48*time.Hour) // as the Retention dialog or serve --capture-max-age do
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := newGUICapture(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	st, err := g.rec.store.Load().Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.MaxBytes != 300<<20 || st.MaxAge != 48*time.Hour {
		t.Errorf("the app keeps %d bytes / %v, want the store's 300 MiB / 48h", st.MaxBytes, st.MaxAge)
	}
}

func TestGUICaptureLockedBySecondInstance(t *testing.T) {
	a := test.NewTempApp(t)
	dir := filepath.Join(t.TempDir(), "capture")
	first, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	g, err := newGUICapture(dir, slog.New(slog.DiscardHandler))
	if !errors.Is(err, capture.ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second instance: %v, want ErrLocked naming %s", err, dir)
	}
	w := shell.NewMainWindow(a)
	t.Cleanup(w.Close)
	g.show(context.Background(), w, err)
	top := w.Canvas().Overlays().Top()
	if find(top, "Move aside and start a new capture") != nil {
		t.Error("move aside offered for a store in use")
	}
	if find(top, "Continue without capture") == nil {
		t.Error("no way to continue")
	}
	g.close()
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
		if got := loopbackURL(tt.st); got != tt.want {
			t.Errorf("loopbackURL(%v) = %q, want %q", tt.st.Listeners, got, tt.want)
		}
	}
}
