package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/metrics"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
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

// serveFleetMetrics serves the fleets' metrics (and with eng, the embedded
// broker's) on addr until ctx ends or stop. The simulator has no users to
// check scrapers against, so only loopback is allowed. The address goes
// to stdout as serve prints it, or to stderr where stdout speaks JSON.
func serveFleetMetrics(ctx context.Context, addr string, runners []*fleet.Runner, eng *studio.Studio, format string, log *slog.Logger, e env) (stop func(), err error) {
	if host, _, err := net.SplitHostPort(addr); err == nil && host != "localhost" && !isLoopbackIP(host) {
		return nil, usagef("--metrics %s: simulate run serves metrics on loopback only (it has no users to check a scraper's password against); use 127.0.0.1:PORT", addr)
	}
	src := metrics.Sources{}
	if eng != nil {
		src = eng.MetricsSources()
	}
	src.Fleets = func() []fleet.Stats {
		out := make([]fleet.Stats, len(runners))
		for i, r := range runners {
			out[i] = r.Stats()
		}
		return out
	}
	srv, err := metrics.Listen(metrics.NewRegistry(src), metrics.Options{Addr: addr, Logger: log})
	if err != nil {
		return nil, usageError{fmt.Errorf("--metrics: %w", err)}
	}
	out := e.stdout
	if format == "jsonl" {
		out = e.stderr
	}
	fmt.Fprintf(out, "metrics listening on %s\n", srv.Addr())
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Run(ctx); err != nil {
			log.Error("metrics are no longer served", "error", err)
		}
	})
	return func() { cancel(); wg.Wait() }, nil
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
