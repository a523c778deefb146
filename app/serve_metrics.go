package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/metrics"
	"github.com/iotstudio/iotstudio/engine/studio"
)

// metricsFlag registers serve's --metrics (issue 16).
func metricsFlag(fs *flag.FlagSet) *string {
	return fs.String("metrics", "", "serve Prometheus metrics on `HOST:PORT`"+metrics.Path+" (e.g. "+metrics.DefaultAddr+
		"); beyond loopback the broker needs users, and scrapes log in as one")
}

// servedMetrics is serve's metrics endpoint; the zero value serves nothing.
type servedMetrics struct {
	addr   string
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// serveMetrics opens addr (none when empty) and serves the engine's
// metrics there until ctx is done or stop. It runs before the broker starts, so
// that an address refused or in use fails serve before any client is let
// in; until then the metrics say the broker is down.
func serveMetrics(ctx context.Context, addr string, cfg broker.Config, eng *studio.Studio, log *slog.Logger) (*servedMetrics, error) {
	m := &servedMetrics{cancel: func() {}}
	if addr == "" {
		return m, nil
	}
	users, err := cfg.Users()
	if err != nil {
		return nil, fmt.Errorf("--metrics needs the users file to decide who may scrape: %w", err)
	}
	srv, err := metrics.Listen(metrics.NewRegistry(eng.MetricsSources()), metrics.Options{Addr: addr, Users: users, Logger: log})
	if err != nil {
		return nil, err
	}
	m.addr = srv.Addr()
	ctx, m.cancel = context.WithCancel(ctx)
	m.wg.Go(func() {
		if err := srv.Run(ctx); err != nil {
			log.Error("metrics are no longer served", "error", err)
		}
	})
	return m, nil
}

// announce prints the address as the listeners' are printed (port 0
// resolved).
func (m *servedMetrics) announce(stdout io.Writer) {
	if m.addr != "" {
		fmt.Fprintf(stdout, "metrics listening on %s\n", m.addr)
	}
}

// stop closes the endpoint and returns once it has stopped.
func (m *servedMetrics) stop() {
	m.cancel()
	m.wg.Wait()
}
