package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"fyne.io/fyne/v2"
)

// Fyne saves preferences.json by truncating it and writing it anew, and
// watches the file's folder to reload it. When the window closes, Fyne
// saves once more, and with its UI loop gone the watcher reloads on its
// own goroutine at the same moment: it can read the file empty, and logs
// "Fyne error: Preferences load error: EOF". keepPreferences takes the
// saving over through Fyne's CloudProvider API, the one way to replace
// how an app keeps its preferences: the same values in the same file,
// each save written to a temporary file and renamed over it, so that no
// reader ever sees it empty or half written. Fyne's save at exit applies
// only to its own preferences type and so no longer runs; every change is
// already saved when it is made.

// valueReader is what Fyne's preferences (file-backed and in-memory) have
// beyond fyne.Preferences: a look at all values at once.
type valueReader interface {
	ReadValues(func(map[string]any))
}

// preferencesFile keeps Fyne's preferences in path, written atomically.
// It is both the provider handed to SetCloudProvider and the preferences
// it provides: Fyne's own, whose values and listeners it keeps.
type preferencesFile struct {
	fyne.Preferences
	values valueReader
	path   string
	log    *slog.Logger

	mu      sync.Mutex
	written []byte // the file's content as last saved or loaded
	// batching holds the saves of Batch's changes until it ends.
	batching bool
}

// Batch makes the changes fn makes and saves them in one write. Fyne's
// watcher reloads the file after each write; between two writes of two
// changes made in a row it could read the first, which lacks the second,
// and set the second value back in memory, to be saved so (the window's
// position saved with the new x and the old y). Batch leaves no such
// intermediate file. fn must not call Batch.
func (p *preferencesFile) Batch(fn func()) {
	p.mu.Lock()
	p.batching = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.batching = false
		p.mu.Unlock()
		p.save()
	}()
	fn()
}

// keepPreferences makes a's preferences saved atomically to path (Fyne's
// own preferences.json, so that the settings saved so far stay). If
// Fyne's preferences cannot be read as a whole, Fyne keeps saving them.
func keepPreferences(a fyne.App, path string, log *slog.Logger) {
	values, ok := a.Preferences().(valueReader)
	if !ok {
		log.Warn("the window's settings are saved by Fyne itself; closing the window may log a preferences load error", "type", fmt.Sprintf("%T", a.Preferences()))
		return
	}
	p := &preferencesFile{Preferences: a.Preferences(), values: values, path: path, log: log}
	// What Fyne loaded is what the file holds: no need to write it again.
	p.written, _ = p.encode()
	a.SetCloudProvider(p)
	p.Preferences.AddChangeListener(p.save)
}

// preferencesPath is where Fyne keeps a's preferences.
func preferencesPath(a fyne.App) string {
	return filepath.Join(a.Storage().RootURI().Path(), "preferences.json")
}

func (p *preferencesFile) encode() ([]byte, error) {
	var (
		data []byte
		err  error
	)
	p.values.ReadValues(func(m map[string]any) { data, err = json.Marshal(m) })
	return append(data, '\n'), err // as Fyne's json.Encoder writes it
}

// save writes the values when they differ from the file's: Fyne's
// watcher reloading the file this wrote changes nothing and writes nothing.
func (p *preferencesFile) save() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.batching {
		return // Batch saves at its end
	}
	data, err := p.encode()
	if err != nil {
		p.log.Error("the window's settings cannot be saved", "file", p.path, "error", err)
		return
	}
	if bytes.Equal(data, p.written) {
		return
	}
	if err := replaceFile(p.path, data); err != nil {
		p.log.Error("the window's settings cannot be saved; check that the folder is writable", "file", p.path, "error", err)
		return
	}
	p.written = data
}

// replaceFile writes data to path through a temporary file renamed over
// it: readers see the old content or the new, whole. The temporary file
// is made in a subfolder: Fyne reloads the preferences on any event in
// their own folder, and a reload before the rename would read the old
// values back over newer ones.
func replaceFile(path string, data []byte) (err error) {
	dir := filepath.Join(filepath.Dir(path), ".saving")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// The provider side: Fyne asks for these when the provider is set.

func (p *preferencesFile) ProviderDescription() string {
	return "The window's settings, saved atomically in " + p.path
}
func (p *preferencesFile) ProviderIcon() fyne.Resource                { return nil }
func (p *preferencesFile) ProviderName() string                       { return "local file" }
func (p *preferencesFile) Setup(fyne.App) error                       { return nil }
func (p *preferencesFile) Cleanup(fyne.App)                           {}
func (p *preferencesFile) CloudPreferences(fyne.App) fyne.Preferences { return p }
