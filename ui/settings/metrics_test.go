package settings

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/uitest"
)

type fakeEndpoint struct {
	addr  string
	calls []string
	fail  error
}

func (f *fakeEndpoint) control() *MetricsControl {
	return &MetricsControl{Addr: func() string { return f.addr }, Set: func(a string) error {
		f.calls = append(f.calls, a)
		if a != "" && f.fail != nil {
			return f.fail
		}
		f.addr = a
		return nil
	}}
}

func TestMetricsSwitchInSettings(t *testing.T) {
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	ep := &fakeEndpoint{}
	d := Show(a, w, Options{Metrics: ep.control()})
	defer d.Hide()
	on := uitest.First(t, w.Canvas().Overlays().Top(), "the metrics switch", func(c *widget.Check) bool { return c.Text == "Serve Prometheus metrics" })
	test.Tap(on)
	if len(ep.calls) != 1 || ep.calls[0] != DefaultMetricsAddr {
		t.Fatalf("switching on asked for %q, want %s", ep.calls, DefaultMetricsAddr)
	}
	if labels := strings.Join(uitest.Labels(w.Canvas().Overlays().Top()), "|"); !strings.Contains(labels, "Serving http://"+DefaultMetricsAddr+"/metrics") {
		t.Errorf("the dialog does not say where metrics are served: %s", labels)
	}
	test.Tap(on)
	if ep.addr != "" {
		t.Fatalf("switching off left metrics on %q", ep.addr)
	}

	ep.fail = errors.New("metrics address 127.0.0.1:9464: address already in use")
	test.Tap(on)
	if on.Checked {
		t.Error("the switch stays on although the endpoint was refused")
	}
	if labels := strings.Join(uitest.Labels(w.Canvas().Overlays().Top()), "|"); !strings.Contains(labels, "already in use") {
		t.Errorf("the refusal is not shown: %s", labels)
	}
}
