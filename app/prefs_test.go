package app

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"
)

// Fyne's watcher reloads preferences.json whenever it changes, and when
// the window closes it does so while Fyne saves the file once more; a
// reader must never find the file empty or half written (it logged
// "Preferences load error: EOF"). Here a reader reads it as fast as it
// can while the settings change: every read must be whole JSON.
func TestWindowSettingsFileIsNeverSeenHalfWritten(t *testing.T) {
	a := test.NewTempApp(t)
	path := filepath.Join(t.TempDir(), "fyne", "preferences.json")
	keepPreferences(a, path, slog.New(slog.DiscardHandler))
	prefs := a.Preferences()
	prefs.SetString("broker.mqtt", "127.0.0.1:1883")

	done := make(chan struct{})
	var wg sync.WaitGroup
	var bad []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			data, err := os.ReadFile(path)
			var m map[string]any
			if err == nil && json.Unmarshal(data, &m) != nil {
				bad = append(bad, fmt.Sprintf("%q", data))
			}
		}
	}()
	const n = 300
	for i := range n {
		prefs.SetInt("counter", i)
	}
	close(done)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d reads found the settings file not whole JSON, e.g. %s", len(bad), bad[0])
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil || m["counter"] != float64(n-1) || m["broker.mqtt"] != "127.0.0.1:1883" {
		t.Fatalf("settings file %s (%v): want the last values", data, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".saving", "*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// Fyne reloads the file after each save (its watcher); a reload that
// changes nothing must not write it again, or the two would chase each
// other for ever.
func TestWindowSettingsReloadWritesNothing(t *testing.T) {
	a := test.NewTempApp(t)
	path := filepath.Join(t.TempDir(), "preferences.json")
	keepPreferences(a, path, slog.New(slog.DiscardHandler))
	a.Preferences().SetBool("broker.autostart", true)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// What Fyne's watcher does on a change: decode the file into the values.
	data, _ := os.ReadFile(path)
	fynes := a.Preferences().(*preferencesFile).Preferences
	fynes.(interface {
		WriteValues(func(map[string]any))
	}).WriteValues(func(m map[string]any) { _ = json.Unmarshal(data, &m) })
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Fatal("reloading unchanged settings wrote the file again")
	}
}

// Changes made in a Batch are written once, at its end: no file between
// them for Fyne's watcher to reload the older values from.
func TestWindowSettingsBatchWritesOnce(t *testing.T) {
	a := test.NewTempApp(t)
	path := filepath.Join(t.TempDir(), "preferences.json")
	keepPreferences(a, path, slog.New(slog.DiscardHandler))
	prefs := a.Preferences()
	prefs.SetInt("window.x", 10)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	batch, ok := prefs.(interface{ Batch(func()) })
	if !ok {
		t.Fatalf("the app's preferences (%T) cannot batch changes", prefs)
	}
	batch.Batch(func() {
		prefs.SetInt("window.x", 417)
		prefs.SetInt("window.y", 208)
		if during, err := os.Stat(path); err != nil || !os.SameFile(before, during) {
			t.Errorf("the file was written during the batch (%v)", err)
		}
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil || m["window.x"] != float64(417) || m["window.y"] != float64(208) {
		t.Fatalf("settings file after the batch: %s (%v), want x 417 and y 208", data, err)
	}
}
