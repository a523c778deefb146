package window

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/iotstudio/iotstudio/engine/metrics"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/ui/settings"
)

// keyMetricsAddr keeps where the window serves metrics ("" off) across
// starts, beside the other settings.
const keyMetricsAddr = "settings.metricsAddr"

// metricsEndpoint serves the engine's Prometheus metrics (the same as
// serve --metrics) from the window's process while Settings has them on.
type metricsEndpoint struct {
	eng    *studio.Studio
	fleets func() []fleet.Stats // the Devices panel's runs
	prefs  fyne.Preferences
	log    *slog.Logger

	mu     sync.Mutex
	addr   string // serving on; "" off
	cancel context.CancelFunc
	done   chan struct{}
}

// startMetrics serves metrics where the last start did; a failure (the
// port taken meanwhile) is logged and leaves them off until Settings.
func startMetrics(eng *studio.Studio, fleets func() []fleet.Stats, prefs fyne.Preferences, log *slog.Logger) *metricsEndpoint {
	m := &metricsEndpoint{eng: eng, fleets: fleets, prefs: prefs, log: log}
	if addr := prefs.String(keyMetricsAddr); addr != "" {
		if err := m.set(addr); err != nil {
			log.Warn("Prometheus metrics are off until they are switched on again in Settings", "error", err)
		}
	}
	return m
}

func (m *metricsEndpoint) control() *settings.MetricsControl {
	return &settings.MetricsControl{Addr: m.serving, Set: m.set}
}

func (m *metricsEndpoint) serving() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addr
}

// set serves on addr ("" stops) and remembers it for the next start; an
// error changes nothing.
func (m *metricsEndpoint) set(addr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var srv *metrics.Server
	if addr != "" {
		users, err := m.eng.Broker.Config().Users()
		if err != nil {
			return fmt.Errorf("metrics need the users file to decide who may scrape: %w", err)
		}
		// Listen before stopping the old endpoint: a refused address
		// leaves the one that works.
		src := m.eng.MetricsSources()
		src.Fleets = m.fleets
		if srv, err = metrics.Listen(metrics.NewRegistry(src), metrics.Options{Addr: addr, Users: users, Logger: m.log}); err != nil {
			return err
		}
	}
	m.stopLocked()
	m.prefs.SetString(keyMetricsAddr, addr)
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.addr, m.cancel, m.done = srv.Addr(), cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		if err := srv.Run(ctx); err != nil {
			m.log.Error("metrics are no longer served", "error", err)
		}
	}(m.done)
	return nil
}

func (m *metricsEndpoint) stopLocked() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	m.addr, m.cancel, m.done = "", nil, nil
}

// close stops serving; the choice stays saved for the next start.
func (m *metricsEndpoint) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopLocked()
}
