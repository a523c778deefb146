package capturepanel

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// readJSONL returns the topics of the records in a JSONL file.
func readJSONL(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var topics []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct{ Topic string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		topics = append(topics, r.Topic)
	}
	return topics
}

func TestExportWritesTheCurrentSearch(t *testing.T) {
	store := openStore(t, sample(30)...)
	h := newHarness(t, store)
	p := h.panel
	dir := t.TempDir()

	h.search(t, "a/+", true)
	p.filter.SetText("b/1") // edited but not searched: the export follows the results
	test.Tap(p.exportBtn)
	d := p.exportDlg
	if d == nil {
		t.Fatal("no export dialog")
	}
	if !strings.Contains(d.what.Text, "20 messages") || !strings.Contains(d.what.Text, "topic a/+") {
		t.Errorf("dialog says %q", d.what.Text)
	}

	// Mistakes are caught in the dialog.
	d.path.SetText(dir)
	test.Tap(d.export)
	if !strings.Contains(d.errText.Text, "is a folder") || p.act != nil {
		t.Errorf("a folder as the file: %q", d.errText.Text)
	}
	d.path.SetText(filepath.Join(dir, "missing", "x.jsonl"))
	test.Tap(d.export)
	if !strings.Contains(d.errText.Text, "does not exist") {
		t.Errorf("a missing folder: %q", d.errText.Text)
	}

	out := filepath.Join(dir, "a.jsonl")
	d.path.SetText(out)
	test.Tap(d.export)
	h.waitIdle(t)
	if p.actionText.Importance != widget.SuccessImportance || p.actionText.Text != "Exported 20 records to "+out+"." {
		t.Fatalf("result %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
	topics := readJSONL(t, out)
	if len(topics) != 20 {
		t.Fatalf("%d records in the file, want 20", len(topics))
	}
	for _, tp := range topics {
		if !strings.HasPrefix(tp, "a/") {
			t.Errorf("exported topic %q", tp)
		}
	}

	// CSV: the file name follows the format.
	p.exportDlg = nil
	test.Tap(p.exportBtn)
	d = p.exportDlg
	d.path.SetText(filepath.Join(dir, "a.jsonl"))
	d.format.SetSelected(formatCSV)
	if d.path.Text != filepath.Join(dir, "a.csv") {
		t.Errorf("path after choosing CSV: %q", d.path.Text)
	}
	test.Tap(d.export)
	h.waitIdle(t)
	b, err := os.ReadFile(filepath.Join(dir, "a.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 21 || !strings.HasPrefix(lines[0], "seq,time") {
		t.Errorf("CSV has %d lines, first %q", len(lines), lines[0])
	}
}

func TestExportFailureIsShown(t *testing.T) {
	store := openStore(t, sample(3)...)
	h := newHarness(t, store)
	p := h.panel
	dir := t.TempDir()
	h.search(t, "", true)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	test.Tap(p.exportBtn)
	out := filepath.Join(dir, "x.jsonl")
	p.exportDlg.path.SetText(out)
	test.Tap(p.exportDlg.export)
	h.waitIdle(t)
	if p.actionText.Importance != widget.DangerImportance || !strings.Contains(p.actionText.Text, "closed") {
		t.Errorf("result %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s: %v", out, err)
	}
}

func writeJSONL(t *testing.T, path string, recs []message.Message) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := capture.NewJSONLWriter(f)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestImportBringsRecordsIn(t *testing.T) {
	store := openStore(t, sample(5)...)
	h := newHarness(t, store)
	p := h.panel
	dir := t.TempDir()
	var recs []message.Message
	for i := range 15 {
		recs = append(recs, message.Message{Seq: uint64(i + 1), Time: base.Add(-time.Duration(i) * time.Second),
			Topic: "imported/x", ClientID: "old", Protocol: 5, Payload: []byte("from file")})
	}
	good := filepath.Join(dir, "good.jsonl")
	writeJSONL(t, good, recs)
	h.search(t, "imported/#", true)
	if len(p.recs) != 0 {
		t.Fatal("imported records before the import")
	}

	test.Tap(p.importBtn)
	d := p.importDlg
	test.Tap(d.doIt)
	if !strings.Contains(d.errText.Text, "choose the file") || p.act != nil {
		t.Errorf("no file: %q", d.errText.Text)
	}
	d.path.SetText(good)
	test.Tap(d.doIt)
	h.waitIdle(t)
	if p.actionText.Text != "Imported 15 records from "+good+"." || p.actionText.Importance != widget.SuccessImportance {
		t.Fatalf("result %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
	if n := records(t, store); n != 20 {
		t.Errorf("store holds %d records, want 5+15", n)
	}
	h.q.Until(t, "the search to refresh", func() bool { return !p.loading && len(p.recs) > 0 })
	if len(p.recs) != 15 || p.recs[0].ClientID != "old" {
		t.Errorf("results after the import: %d", len(p.recs))
	}

	// A bad line anywhere: nothing is imported and the error names the line.
	bad := filepath.Join(dir, "bad.jsonl")
	b, _ := os.ReadFile(good)
	if err := os.WriteFile(bad, append(b, []byte("{not json\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	p.importDlg = nil
	test.Tap(p.importBtn)
	p.importDlg.path.SetText(bad)
	test.Tap(p.importDlg.doIt)
	h.waitIdle(t)
	if p.actionText.Importance != widget.DangerImportance || !strings.Contains(p.actionText.Text, "bad.jsonl:16") {
		t.Errorf("bad file: %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
	if n := records(t, store); n != 20 {
		t.Errorf("a bad file imported records: %d", n)
	}
}

// Browse picks a folder and keeps the file name: choosing a place to export
// to must not touch a file already there, or cancelling the export would
// lose it.
func TestExportBrowseLeavesExistingFileAlone(t *testing.T) {
	store := openStore(t, sample(3)...)
	h := newHarness(t, store)
	p := h.panel
	dir := t.TempDir()
	existing := filepath.Join(dir, "precious.jsonl")
	if err := os.WriteFile(existing, []byte("yesterday's export\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	test.Tap(p.exportBtn)
	d := p.exportDlg
	d.path.SetText(existing)
	test.Tap(d.browse)

	// The folder dialog opens in the file's folder; confirming it picks
	// that folder.
	if h.win.Canvas().Overlays().Top() == nil {
		t.Fatal("Browse… showed no folder dialog")
	}
	test.Tap(uitest.OverlayButton(t, h.win, "Open"))
	if d.path.Text != existing {
		t.Errorf("path after Browse… = %q, want %q", d.path.Text, existing)
	}
	if b, err := os.ReadFile(existing); err != nil || string(b) != "yesterday's export\n" {
		t.Errorf("Browse… changed the existing file: %q %v", b, err)
	}
}
