package capturepanel

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// corruptStore returns a capture dir whose MANIFEST is garbage, and the
// error capture.Open gives for it.
func corruptStore(t *testing.T) (string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "capture")
	s, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("not a manifest"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = capture.Open(dir, capture.Options{})
	if err == nil {
		t.Fatal("a corrupt store opened")
	}
	return dir, err
}

func TestOpenErrorOffersMoveAsideForADamagedStore(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	dir, err := corruptStore(t)

	moved := 0
	d := ShowOpenError(w, dir, err, func() { moved++ })
	if d.moveAside == nil || !d.moveAside.Visible() {
		t.Fatal("no Move aside button for a damaged store")
	}
	if d.title != "The capture is damaged" || !strings.Contains(d.text.Text, dir) ||
		!strings.Contains(d.text.Text, "Nothing has been deleted") || !strings.Contains(d.details.Text, "damaged") {
		t.Errorf("dialog %q:\n%s\n%s", d.title, d.text.Text, d.details.Text)
	}
	if d.carryOn.Text != "Continue without capture" {
		t.Errorf("other button %q", d.carryOn.Text)
	}
	test.Tap(d.moveAside)
	if moved != 1 {
		t.Errorf("move aside called %d times", moved)
	}

	// Continue leaves everything as it is.
	d = ShowOpenError(w, dir, err, func() { moved++ })
	test.Tap(d.carryOn)
	if moved != 1 {
		t.Error("Continue moved the store")
	}

	// Another format: the same offer.
	ferr := fmt.Errorf("capture: %s holds %w", dir, capture.ErrFormat)
	if d := newOpenErrorDialog(w, dir, ferr, func() {}); d.moveAside == nil || !strings.Contains(d.text.Text, "format") {
		t.Errorf("format mismatch: move aside %v, text %q", d.moveAside != nil, d.text.Text)
	}
}

func TestOpenErrorForALockedStoreOnlyContinues(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	dir := t.TempDir()
	s, err := capture.Open(dir, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = capture.Open(dir, capture.Options{})
	if err == nil {
		t.Fatal("a second Open of the same dir succeeded")
	}
	d := newOpenErrorDialog(w, dir, err, func() { t.Error("move aside offered for a locked store") })
	if d.moveAside != nil {
		t.Error("Move aside offered for a store another instance uses")
	}
	if !strings.Contains(d.text.Text, "Another IoT Studio") || !strings.Contains(d.text.Text, dir) ||
		!strings.Contains(d.text.Text, "runs without capture") {
		t.Errorf("locked: %q", d.text.Text)
	}

	perr := fmt.Errorf("capture: no permission to use data dir %s: %w", dir, capture.ErrPermission)
	if d := newOpenErrorDialog(w, dir, perr, func() {}); d.moveAside != nil || !strings.Contains(d.text.Text, "permission") {
		t.Errorf("permission: move aside %v, text %q", d.moveAside != nil, d.text.Text)
	}
}
