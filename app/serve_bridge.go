package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/iotstudio/iotstudio/engine/bridge"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/studio"
)

// bridgeFlag registers serve's --bridge (issue 16).
func bridgeFlag(fs *flag.FlagSet) *string {
	return fs.String("bridge", "", "bridge the broker to remote brokers as the YAML `FILE` says (saved connections by name; see testdata/bridge/example.yaml)")
}

// planBridges reads and checks the bridges file against the saved
// connections in dataDir; every problem is a usage error as file:line.
func planBridges(path, dataDir string) ([]bridge.Planned, error) {
	if path == "" {
		return nil, nil
	}
	saved, err := client.NewStore(dataDir).Load()
	if err != nil {
		return nil, usageError{fmt.Errorf("--bridge %s: read the saved connections: %w", path, err)}
	}
	plans, err := bridge.LoadFile(path, saved)
	if err != nil {
		return nil, usageError{err}
	}
	return plans, nil
}

// servedBridges are serve's running bridges, fed by the broker's tap.
type servedBridges struct {
	bridges []*bridge.Bridge
	stops   []func()
	log     *slog.Logger
}

// openBridges starts the planned bridges once the broker runs; their
// passwords come from the OS keyring, as the window's connections' do.
func openBridges(plans []bridge.Planned, eng *studio.Studio, dataDir string, log *slog.Logger) (*servedBridges, error) {
	s := &servedBridges{log: log}
	secrets := client.NewSecrets(client.OSKeyring{})
	for _, p := range plans {
		b, err := bridge.OpenPlanned(p, secrets, eng.Broker, dataDir, client.Options{Logger: log}, log)
		if err != nil {
			s.close()
			return nil, err
		}
		stop, _ := eng.Observe(b)
		s.bridges, s.stops = append(s.bridges, b), append(s.stops, stop)
		log.Info("bridge started", "bridge", p.Config.Name, "connection", p.Profile.Name, "url", p.Profile.URL, "rules", len(p.Config.Rules))
	}
	return s, nil
}

// close stops the bridges: no more from the tap, then each one, whose
// unsent QoS 1 and 2 messages stay on disk for the next start.
func (s *servedBridges) close() {
	for _, stop := range s.stops {
		stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, b := range s.bridges {
		st := b.Stats()
		s.log.Info("bridge stopped", "bridge", st.Name, "forwarded_out", st.ForwardedOut, "forwarded_in", st.ForwardedIn, "queued", st.Queued, "dropped", st.Dropped)
		errs = append(errs, b.Close(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Error("stopping the bridges", "error", err)
	}
}

// closedBefore returns a context done once ctx is and the bridges are
// closed, so the engine stops the broker only after them.
func (s *servedBridges) closedBefore(ctx context.Context) context.Context {
	if s == nil || len(s.bridges) == 0 {
		return ctx
	}
	after, done := context.WithCancel(context.Background())
	context.AfterFunc(ctx, func() {
		s.close()
		done()
	})
	return after
}
