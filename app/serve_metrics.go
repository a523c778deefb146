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

// serveMetrics opens the metrics address, prints it as the listeners are
// printed, and serves it until ctx is done; wait returns once it has
// stopped. An empty addr serves nothing.
func serveMetrics(ctx context.Context, addr string, cfg broker.Config, eng *studio.Studio, stdout io.Writer, log *slog.Logger) (wait func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	users, err := cfg.Users()
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	srv, err := metrics.Listen(metrics.NewRegistry(eng.MetricsSources()), metrics.Options{Addr: addr, Users: users, Logger: log})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "metrics listening on %s\n", srv.Addr())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Run(ctx); err != nil {
			log.Error("metrics are no longer served", "error", err)
		}
	})
	return wg.Wait, nil
}
