package brokerpanel

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
)

// Preference keys the Settings dialog saves under.
const (
	KeyMQTTAddr   = "broker.mqtt.addr"
	KeyWSEnabled  = "broker.ws.enabled"
	KeyWSAddr     = "broker.ws.addr"
	KeyTLSEnabled = "broker.tls.enabled"
	KeyTLSAddr    = "broker.tls.addr"
	KeyAutoStart  = "broker.autostart"
)

// ConfigFromPreferences is broker.DefaultConfig(dataDir) with the listeners
// saved by the Settings dialog. An enabled TLS listener uses the
// development CA kept in dataDir.
func ConfigFromPreferences(p fyne.Preferences, dataDir string) broker.Config {
	cfg := broker.DefaultConfig(dataDir)
	if a := p.StringWithFallback(KeyMQTTAddr, broker.DefaultMQTTAddr); a != "" {
		cfg.MQTTAddr = a
	}
	cfg.WSAddr = ""
	if p.BoolWithFallback(KeyWSEnabled, true) {
		cfg.WSAddr = nonEmpty(p.StringWithFallback(KeyWSAddr, ""), broker.DefaultWSAddr)
	}
	if p.BoolWithFallback(KeyTLSEnabled, false) {
		cfg.TLSAddr = nonEmpty(p.StringWithFallback(KeyTLSAddr, ""), broker.DefaultTLSAddr)
		cfg.DevCA = true
	}
	return cfg
}

// AutoStart reports whether the broker should start when the app opens
// (true unless the user turned it off).
func AutoStart(p fyne.Preferences) bool {
	return p.BoolWithFallback(KeyAutoStart, true)
}

// SavePreferences stores cfg's listeners and the auto-start choice. The
// address of a listener that is off is left as it was, so turning it back on
// offers the old one.
func SavePreferences(p fyne.Preferences, cfg broker.Config, autoStart bool) {
	p.SetString(KeyMQTTAddr, cfg.MQTTAddr)
	p.SetBool(KeyWSEnabled, cfg.WSAddr != "")
	if cfg.WSAddr != "" {
		p.SetString(KeyWSAddr, cfg.WSAddr)
	}
	p.SetBool(KeyTLSEnabled, cfg.TLSAddr != "")
	if cfg.TLSAddr != "" {
		p.SetString(KeyTLSAddr, cfg.TLSAddr)
	}
	p.SetBool(KeyAutoStart, autoStart)
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// validateAddr accepts HOST:PORT with a port from 0 to 65535 (0 picks a free
// port); an empty host means every interface.
func validateAddr(addr string) error {
	if addr == "" {
		return errors.New("enter HOST:PORT, for example 127.0.0.1:1883")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT (for example 127.0.0.1:1883)", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// settingsDialog edits the listener addresses and auto-start.
type settingsDialog struct {
	mqtt, ws, tls          *widget.Entry
	wsOn, tlsOn, autoStart *widget.Check
	errText                *widget.Label
	save, cancel           *widget.Button
	dlg                    *dialog.CustomDialog

	cfg    broker.Config
	onSave func(cfg broker.Config, autoStart bool, remembered map[string]string)
}

func newSettingsDialog(cfg broker.Config, prefs fyne.Preferences, w fyne.Window,
	onSave func(broker.Config, bool, map[string]string)) *settingsDialog {
	s := &settingsDialog{cfg: cfg, onSave: onSave}

	s.mqtt = s.addrEntry(cfg.MQTTAddr, "127.0.0.1:1883", nil)
	s.wsOn = widget.NewCheck("On", nil)
	s.ws = s.addrEntry(nonEmpty(cfg.WSAddr, prefs.StringWithFallback(KeyWSAddr, broker.DefaultWSAddr)), "127.0.0.1:8083", s.wsOn)
	s.tlsOn = widget.NewCheck("On", nil)
	s.tls = s.addrEntry(nonEmpty(cfg.TLSAddr, prefs.StringWithFallback(KeyTLSAddr, broker.DefaultTLSAddr)), "127.0.0.1:8883", s.tlsOn)
	s.wsOn.OnChanged = func(bool) { s.toggled(s.wsOn, s.ws) }
	s.tlsOn.OnChanged = func(bool) { s.toggled(s.tlsOn, s.tls) }
	s.wsOn.SetChecked(cfg.WSAddr != "")
	s.tlsOn.SetChecked(cfg.TLSAddr != "")
	s.toggled(s.wsOn, s.ws)
	s.toggled(s.tlsOn, s.tls)
	s.autoStart = widget.NewCheck("Start the broker when IoT Studio opens", nil)
	s.autoStart.SetChecked(AutoStart(prefs))

	tlsHint := "TLS serves a certificate from the development CA in the data folder."
	if cfg.CertFile != "" && cfg.KeyFile != "" {
		tlsHint = "TLS serves " + cfg.CertFile + "."
	}
	s.errText = widget.NewLabel("") // empty, not hidden: keeps the dialog's size
	s.errText.Importance = widget.DangerImportance

	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("MQTT (TCP)"), s.mqtt,
		widget.NewLabel("WebSocket"), container.NewBorder(nil, nil, s.wsOn, nil, s.ws),
		widget.NewLabel("TLS"), container.NewBorder(nil, nil, s.tlsOn, nil, s.tls),
		widget.NewLabel(""), hint(tlsHint),
		widget.NewLabel(""), s.autoStart,
	)
	content := container.NewVBox(
		form,
		hint("Port 0 picks a free port. A host other than 127.0.0.1 or localhost needs users."),
		s.errText,
	)

	s.cancel = widget.NewButton("Cancel", nil)
	s.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), s.onSaveTapped)
	s.save.Importance = widget.HighImportance
	s.dlg = dialog.NewCustomWithoutButtons("Broker settings", content, w)
	s.dlg.SetButtons([]fyne.CanvasObject{s.cancel, s.save})
	s.cancel.OnTapped = s.dlg.Hide
	if min := s.dlg.MinSize(); min.Width < 600 {
		s.dlg.Resize(fyne.NewSize(600, min.Height))
	}
	return s
}

func hint(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.SizeName = theme.SizeNameCaptionText
	return l
}

// addrEntry is an address entry validated as you type; a listener switched
// off by its check box is not validated.
func (s *settingsDialog) addrEntry(text, placeholder string, on *widget.Check) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.SetText(text)
	e.Validator = func(v string) error {
		if on != nil && !on.Checked {
			return nil
		}
		return validateAddr(strings.TrimSpace(v))
	}
	e.OnChanged = func(string) { s.showErr(s.validate()) }
	return e
}

func (s *settingsDialog) toggled(on *widget.Check, e *widget.Entry) {
	setEnabled(e, on.Checked)
	_ = e.Validate()
	s.showErr(s.validate())
}

// validate returns the first invalid address, naming its listener.
func (s *settingsDialog) validate() error {
	for _, f := range []struct {
		name string
		e    *widget.Entry
		on   *widget.Check
	}{{"MQTT", s.mqtt, nil}, {"WebSocket", s.ws, s.wsOn}, {"TLS", s.tls, s.tlsOn}} {
		if f.e == nil || f.on != nil && !f.on.Checked {
			continue
		}
		if err := validateAddr(strings.TrimSpace(f.e.Text)); err != nil {
			return fmt.Errorf("%s address: %w", f.name, err)
		}
	}
	return nil
}

func (s *settingsDialog) showErr(err error) {
	if s.errText == nil {
		return // still building
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	setText(s.errText, msg)
}

func (s *settingsDialog) onSaveTapped() {
	if err := s.validate(); err != nil {
		s.showErr(err)
		return
	}
	cfg := s.cfg
	cfg.MQTTAddr = strings.TrimSpace(s.mqtt.Text)
	remembered := map[string]string{}
	cfg.WSAddr = ""
	if ws := strings.TrimSpace(s.ws.Text); s.wsOn.Checked {
		cfg.WSAddr = ws
	} else if validateAddr(ws) == nil {
		remembered[KeyWSAddr] = ws
	}
	cfg.TLSAddr = ""
	if tls := strings.TrimSpace(s.tls.Text); s.tlsOn.Checked {
		cfg.TLSAddr = tls
		if cfg.CertFile == "" || cfg.KeyFile == "" {
			cfg.CertFile, cfg.KeyFile, cfg.DevCA = "", "", true
		}
	} else {
		cfg.DevCA = false
		if validateAddr(tls) == nil {
			remembered[KeyTLSAddr] = tls
		}
	}
	s.dlg.Hide()
	s.onSave(cfg, s.autoStart.Checked, remembered)
}

// focus puts the cursor in the entry of the named listener (mqtt, ws, tls).
func (s *settingsDialog) focus(w fyne.Window, listener string) {
	e := map[string]*widget.Entry{"mqtt": s.mqtt, "ws": s.ws, "tls": s.tls}[listener]
	if e != nil && !e.Disabled() {
		w.Canvas().Focus(e)
	}
}
