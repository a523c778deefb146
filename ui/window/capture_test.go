package window

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/testkit"
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
	data := t.TempDir()
	dir := studio.CaptureDir(data)
	damage(t, dir)

	eng := openTestEngine(t, data)
	stop := testkit.Serve(t, eng.Serve)
	if err := eng.Capture.OpenErr(); !errors.Is(err, capture.ErrCorrupt) {
		t.Fatalf("open: %v, want ErrCorrupt", err)
	}
	if eng.Capture.Ingest(message.Message{Topic: "x"}) {
		t.Error("a record was accepted without a store")
	}
	ui := make(chan func(), 4) // the test goroutine plays the Fyne goroutine
	g := &captureView{capt: eng.Capture, do: func(fn func()) { ui <- fn }}
	w := shell.NewMainWindow(a)
	t.Cleanup(w.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var serving errgroup.Group
	g.show(ctx, &serving, w)
	tabs := mustTabs(w)
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
	if eng.Capture.Store() == nil || len(tabs.Items) != 1 {
		t.Fatalf("after the move: store %v, %d tabs", eng.Capture.Store() != nil, len(tabs.Items))
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
	if !eng.Capture.Ingest(message.Message{Topic: "new/data", Payload: []byte("x")}) {
		t.Error("the new store refused a record")
	}
	cancel()
	g.wait()
	if err := serving.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, _ := s.Stats(); st.Records != 1 {
		t.Errorf("the new capture holds %d records, want 1", st.Records)
	}
}

func TestGUICaptureLockedBySecondInstance(t *testing.T) {
	a := test.NewTempApp(t)
	data := t.TempDir()
	dir := studio.CaptureDir(data)
	first, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	eng := openTestEngine(t, data)
	testkit.Serve(t, eng.Serve)
	if err := eng.Capture.OpenErr(); !errors.Is(err, capture.ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second instance: %v, want ErrLocked naming %s", err, dir)
	}
	g := &captureView{capt: eng.Capture, do: fyne.Do}
	w := shell.NewMainWindow(a)
	t.Cleanup(w.Close)
	var serving errgroup.Group
	g.show(context.Background(), &serving, w)
	top := w.Canvas().Overlays().Top()
	if find(top, "Move aside and start a new capture") != nil {
		t.Error("move aside offered for a store in use")
	}
	if find(top, "Continue without capture") == nil {
		t.Error("no way to continue")
	}
	g.wait()
	if err := serving.Wait(); err != nil {
		t.Fatal(err)
	}
}

// openTestEngine opens the window's engine on dataDir as app.runGUI does
// (its capture may fail to open), on a free loopback port, not started
// and not served.
func openTestEngine(t *testing.T, dataDir string) *studio.Studio {
	t.Helper()
	cfg := broker.DefaultConfig(dataDir)
	cfg.MQTTAddr, cfg.WSAddr, cfg.NoPersistence = "127.0.0.1:0", "", true
	eng, err := studio.Open(studio.Config{Broker: cfg, Capture: true, CaptureMayFail: true, Topics: true, Connections: true, Logger: testkit.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}
