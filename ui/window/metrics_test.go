package window

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

func metricsEngine(t *testing.T) *studio.Studio {
	t.Helper()
	cfg := broker.DefaultConfig(t.TempDir())
	cfg.MQTTAddr, cfg.WSAddr, cfg.Logger = "127.0.0.1:0", "", testkit.Logger()
	eng, err := studio.Open(studio.Config{Broker: cfg, Logger: testkit.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, eng.Serve)
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	return eng
}

func scrapeBody(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Switched on in Settings, the window serves what serve --metrics serves;
// a busy port is refused with the reason and leaves the endpoint that
// works; the choice comes back at the next start.
func TestWindowMetricsSwitch(t *testing.T) {
	a := test.NewTempApp(t)
	eng := metricsEngine(t)
	m := startMetrics(eng, nil, a.Preferences(), testkit.Logger())
	defer m.close()
	if m.serving() != "" {
		t.Fatal("metrics are served before anyone switched them on")
	}
	if err := m.set("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	first := m.serving()
	if body := scrapeBody(t, first); !strings.Contains(body, "\niotstudio_broker_up 1\n") {
		t.Fatalf("the window's /metrics lacks iotstudio_broker_up 1:\n%.400s", body)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := m.set(busy.Addr().String()); err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Fatalf("a busy port: %v, want an error naming it", err)
	}
	if m.serving() != first {
		t.Fatalf("after a refused address metrics are served on %q, want still %q", m.serving(), first)
	}
	_ = scrapeBody(t, first)

	m.close()
	next := startMetrics(eng, nil, a.Preferences(), testkit.Logger())
	defer next.close()
	if next.serving() == "" {
		t.Fatal("the next start does not serve metrics the user switched on")
	}
	if err := next.set(""); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + first + "/metrics"); err == nil && next.serving() != "" {
		t.Fatal("still served after switching off")
	}
	if again := startMetrics(eng, nil, a.Preferences(), testkit.Logger()); again.serving() != "" {
		again.close()
		t.Fatal("switched off, yet the next start serves metrics")
	}
}
