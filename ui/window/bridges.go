package window

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"fyne.io/fyne/v2"
	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/bridge"
	"github.com/iotstudio/iotstudio/engine/studio"

	"github.com/iotstudio/iotstudio/ui/bridgeview"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// windowBridges runs the bridges of DATA/bridges.yaml (studio.BridgesFile)
// in the window's engine, as serve --bridge runs a file's, and lets the
// Bridges panel edit that file.
type windowBridges struct {
	eng  *studio.Studio
	path string
	log  *slog.Logger

	mu      sync.Mutex
	running *studio.Bridges
	plans   []bridge.Planned // what running runs
	loadErr error
}

// addBridges runs the saved bridges and adds the Bridges panel, served on
// serving until ctx ends.
func addBridges(ctx context.Context, serving *errgroup.Group, w fyne.Window, eng *studio.Studio, dataDir string, log *slog.Logger) *windowBridges {
	b := &windowBridges{eng: eng, path: studio.BridgesFile(dataDir), log: log}
	if data, err := os.ReadFile(b.path); err == nil {
		b.loadErr = b.run(string(data))
	} else if !errors.Is(err, fs.ErrNotExist) {
		b.loadErr = err
	}
	if b.loadErr != nil {
		log.Error("the bridges in the data dir are not running", "file", b.path, "error", b.loadErr)
	}
	p := bridgeview.New(b, w, bridgeview.Options{})
	shell.AddPanels(w, p)
	serving.Go(func() error { return p.Serve(ctx) })
	return b
}

// run checks text and replaces the running bridges by what it says.
func (b *windowBridges) run(text string) error {
	plans, err := b.plan(text)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running.Close()
	b.running, err = b.eng.OpenBridges(plans, b.eng.Connections.Secrets)
	b.plans = nil
	if err == nil {
		b.plans = plans
	}
	return err
}

func (b *windowBridges) Rules(name string) []bridge.Rule {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.plans {
		if p.Config.Name == name {
			return p.Config.Rules
		}
	}
	return nil
}

func (b *windowBridges) plan(text string) ([]bridge.Planned, error) {
	saved, err := b.eng.Connections.Store.Load()
	if err != nil {
		return nil, fmt.Errorf("read the saved connections: %w", err)
	}
	return bridge.Parse(b.path, []byte(text), saved)
}

func (b *windowBridges) Stats() []bridge.Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running.Stats()
}

func (b *windowBridges) File() (string, string) {
	if data, err := os.ReadFile(b.path); err == nil {
		return b.path, string(data)
	}
	return b.path, string(bridge.Example)
}

func (b *windowBridges) Check(text string) error {
	_, err := b.plan(text)
	return err
}

// Apply saves text once it checks, then runs it.
func (b *windowBridges) Apply(text string) error {
	if err := b.Check(text); err != nil {
		return err
	}
	tmp := b.path + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return fmt.Errorf("save %s: %w", b.path, err)
	}
	if err := os.Rename(tmp, b.path); err != nil {
		return fmt.Errorf("save %s: %w", filepath.Base(b.path), err)
	}
	err := b.run(text)
	b.mu.Lock()
	b.loadErr = err
	b.mu.Unlock()
	return err
}

func (b *windowBridges) LoadErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.loadErr
}

// close stops the bridges before the engine stops the broker.
func (b *windowBridges) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running.Close()
	b.running, b.plans = nil, nil
}
