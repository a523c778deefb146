package studio

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/iotstudio/iotstudio/engine/bridge"
	"github.com/iotstudio/iotstudio/engine/client"
)

// BridgesFile is where the window keeps its bridges, in the format of
// serve --bridge (testdata/bridge/example.yaml), so that either can run them.
func BridgesFile(dataDir string) string { return filepath.Join(dataDir, "bridges.yaml") }

// Bridges are running bridges (engine/bridge) fed by the engine's tap: serve's
// --bridge file, or the window's BridgesFile.
type Bridges struct {
	log     *slog.Logger
	mu      sync.Mutex
	bridges []*bridge.Bridge
	stops   []func()
}

// OpenBridges starts the planned bridges on the running broker, their
// passwords from secrets; on an error none is left running. The engine
// must be Observable.
func (s *Studio) OpenBridges(plans []bridge.Planned, secrets *client.Secrets) (*Bridges, error) {
	bs := &Bridges{log: s.log}
	for _, p := range plans {
		// A bridge's remote goes up and down like any connection: journaled alike.
		b, err := bridge.OpenPlanned(p, secrets, s.Broker, s.Broker.Config().DataDir, client.Options{Logger: s.log, OnState: s.remoteStates()}, s.log)
		if err != nil {
			bs.Close()
			return nil, err
		}
		stop, _ := s.Observe(b)
		bs.bridges, bs.stops = append(bs.bridges, b), append(bs.stops, stop)
		s.log.Info("bridge started", "bridge", p.Config.Name, "connection", p.Profile.Name, "url", p.Profile.URL, "rules", len(p.Config.Rules))
	}
	return bs, nil
}

// Stats reads every bridge's state and counters, in the file's order.
func (bs *Bridges) Stats() []bridge.Stats {
	if bs == nil {
		return nil
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	out := make([]bridge.Stats, len(bs.bridges))
	for i, b := range bs.bridges {
		out[i] = b.Stats()
	}
	return out
}

// Close stops the bridges: no more from the tap, then each one, whose
// unsent QoS 1 and 2 messages stay on disk for the next start.
func (bs *Bridges) Close() {
	if bs == nil {
		return
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	for _, stop := range bs.stops {
		stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, b := range bs.bridges {
		// Counted after Close, which lets publishes in flight finish: the
		// counts are the final ones.
		errs = append(errs, b.Close(ctx))
		st := b.Stats()
		bs.log.Info("bridge stopped", "bridge", st.Name, "forwarded_out", st.ForwardedOut, "forwarded_in", st.ForwardedIn, "queued", st.Queued, "dropped", st.Dropped)
	}
	bs.bridges, bs.stops = nil, nil
	if err := errors.Join(errs...); err != nil {
		bs.log.Error("stopping the bridges", "error", err)
	}
}

// ClosedBefore returns a context done once ctx is and the bridges are
// closed, so that the engine stops the broker only after them.
func (bs *Bridges) ClosedBefore(ctx context.Context) context.Context {
	if bs == nil || len(bs.bridges) == 0 {
		return ctx
	}
	after, done := context.WithCancel(context.Background())
	context.AfterFunc(ctx, func() {
		bs.Close()
		done()
	})
	return after
}
