package settings

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// DefaultMetricsAddr is where the switch offers to serve: Prometheus's
// port for application exporters, on loopback (as serve --metrics).
const DefaultMetricsAddr = "127.0.0.1:9464"

// MetricsControl switches the window's Prometheus endpoint (issue 16):
// the same /metrics as `serve --metrics`, for a Prometheus on this machine
// or, with users, on the network.
type MetricsControl struct {
	// Addr is where metrics are served now, "" while off.
	Addr func() string
	// Set serves on addr, "" stops; an error says why it cannot (a busy
	// port, an address beyond loopback without users) and changes nothing.
	Set func(addr string) error
}

// metricsRow is the switch, its address and what happened.
func metricsRow(m *MetricsControl) fyne.CanvasObject {
	addr := widget.NewEntry()
	addr.SetText(DefaultMetricsAddr)
	if a := m.Addr(); a != "" {
		addr.SetText(a)
	}
	result := widget.NewLabel("")
	result.Wrapping = fyne.TextWrapWord
	show := func(err error) {
		switch a := m.Addr(); {
		case err != nil:
			result.Importance = widget.DangerImportance
			result.SetText(lang.L("Metrics not served: ") + err.Error())
		case a != "":
			result.Importance = widget.SuccessImportance
			result.SetText(lang.X("Serving http://{{.Addr}}/metrics", "Serving http://{{.Addr}}/metrics", map[string]any{"Addr": a}))
		default:
			result.Importance = widget.LowImportance
			result.SetText(lang.L("Off"))
		}
	}
	var on *widget.Check
	on = widget.NewCheck(lang.L("Serve Prometheus metrics"), func(checked bool) {
		target := ""
		if checked {
			target = addr.Text
		}
		if err := m.Set(target); err != nil {
			on.SetChecked(false) // calls back: Set("") on an endpoint already off
			show(err)
			return
		}
		show(nil)
	})
	on.Checked = m.Addr() != ""
	addr.OnSubmitted = func(string) {
		if on.Checked {
			on.OnChanged(true)
		}
	}
	show(nil)
	return container.NewVBox(container.NewBorder(nil, nil, on, nil, addr), result)
}
