package brokerpanel

import (
	"errors"
	"fmt"
	"image/color"
	"net"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
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
		return errors.New(lang.L("enter HOST:PORT, for example 127.0.0.1:1883"))
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf(lang.L("%q is not HOST:PORT (for example 127.0.0.1:1883)"), addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf(lang.L("port %q is not a number from 0 to 65535"), port)
	}
	return nil
}

// settingsChange is what Save asks for: the broker's new configuration,
// the auto-start choice, and addresses of listeners switched off, kept in
// the preferences so that switching them on again offers them.
type settingsChange struct {
	cfg        broker.Config
	autoStart  bool
	remembered map[string]string
}

// settingsDialog edits the listener addresses and auto-start.
type settingsDialog struct {
	mqtt, ws, tls          *widget.Entry
	wsOn, tlsOn, autoStart *widget.Check
	errText                *widget.Label
	save, cancel           *widget.Button
	dlg                    *dialog.CustomDialog

	cfg       broker.Config
	canListen func(listener, addr string) error
	// onSave applies a change, then calls done on the UI goroutine with
	// why it was refused, or nil; the dialog stays open until then.
	onSave func(ch settingsChange, done func(error))
}

func newSettingsDialog(cfg broker.Config, prefs fyne.Preferences, w fyne.Window,
	canListen func(listener, addr string) error, onSave func(settingsChange, func(error))) *settingsDialog {
	s := &settingsDialog{cfg: cfg, canListen: canListen, onSave: onSave}

	s.mqtt = s.addrEntry("mqtt", cfg.MQTTAddr, "127.0.0.1:1883", nil)
	s.wsOn = widget.NewCheck(lang.L("On"), nil)
	s.ws = s.addrEntry("ws", nonEmpty(cfg.WSAddr, prefs.StringWithFallback(KeyWSAddr, broker.DefaultWSAddr)), "127.0.0.1:8083", s.wsOn)
	s.tlsOn = widget.NewCheck(lang.L("On"), nil)
	s.tls = s.addrEntry("tls", nonEmpty(cfg.TLSAddr, prefs.StringWithFallback(KeyTLSAddr, broker.DefaultTLSAddr)), "127.0.0.1:8883", s.tlsOn)
	s.wsOn.OnChanged = func(bool) { s.toggled(s.wsOn, s.ws) }
	s.tlsOn.OnChanged = func(bool) { s.toggled(s.tlsOn, s.tls) }
	s.wsOn.SetChecked(cfg.WSAddr != "")
	s.tlsOn.SetChecked(cfg.TLSAddr != "")
	s.toggled(s.wsOn, s.ws)
	s.toggled(s.tlsOn, s.tls)
	s.autoStart = widget.NewCheck(lang.L("Start the broker when IoT Studio opens"), nil)
	s.autoStart.SetChecked(AutoStart(prefs))

	tlsHint := lang.L("TLS serves a certificate from the development CA in the data folder.")
	if cfg.CertFile != "" && cfg.KeyFile != "" {
		tlsHint = lang.L("TLS serves ") + cfg.CertFile + "."
	}
	s.errText = widget.NewLabel("") // empty, not hidden: keeps the dialog's size
	s.errText.Importance = widget.DangerImportance
	s.errText.Wrapping = fyne.TextWrapWord // a busy port's sentence is long

	form := container.New(layout.NewFormLayout(),
		widget.NewLabel(lang.L("MQTT (TCP)")), s.mqtt,
		widget.NewLabel(lang.L("WebSocket")), container.NewBorder(nil, nil, s.wsOn, nil, s.ws),
		widget.NewLabel(lang.L("TLS")), container.NewBorder(nil, nil, s.tlsOn, nil, s.tls),
		widget.NewLabel(""), hint(tlsHint),
		widget.NewLabel(""), s.autoStart,
	)
	content := container.NewVBox(
		form,
		hint(lang.L("Port 0 picks a free port. A host other than 127.0.0.1 or localhost needs users.")),
		reserveLines(s.errText, 2),
	)

	s.cancel = widget.NewButton(lang.L("Cancel"), nil)
	s.save = widget.NewButtonWithIcon(lang.L("Save"), theme.DocumentSaveIcon(), s.onSaveTapped)
	s.save.Importance = widget.HighImportance
	s.dlg = dialog.NewCustomWithoutButtons(lang.L("Broker settings"), content, w)
	s.dlg.SetButtons([]fyne.CanvasObject{s.cancel, s.save})
	s.cancel.OnTapped = s.dlg.Hide
	if min := s.dlg.MinSize(); min.Width < 600 {
		s.dlg.Resize(fyne.NewSize(600, min.Height))
	}
	return s
}

// reserveLines keeps room for n lines of l, so that the dialog does not
// grow and shrink as an error appears and goes.
func reserveLines(l *widget.Label, n int) fyne.CanvasObject {
	probe := widget.NewLabelWithStyle(strings.Repeat("M\n", n-1)+"M", l.Alignment, l.TextStyle)
	room := canvas.NewRectangle(color.Transparent)
	room.SetMinSize(fyne.NewSize(0, probe.MinSize().Height))
	return container.NewStack(room, l)
}

func hint(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.SizeName = theme.SizeNameCaptionText
	return l
}

// addrEntry is an address entry validated as you type, a busy port
// included (no ✓ for an address the listener could not open); a listener
// switched off by its check box is not validated.
func (s *settingsDialog) addrEntry(listener, text, placeholder string, on *widget.Check) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.SetText(text)
	e.Validator = func(v string) error {
		if on != nil && !on.Checked {
			return nil
		}
		return s.checkAddr(listener, strings.TrimSpace(v))
	}
	e.OnChanged = func(string) { s.showErr(s.validate()) }
	return e
}

func (s *settingsDialog) toggled(on *widget.Check, e *widget.Entry) {
	setEnabled(e, on.Checked)
	_ = e.Validate()
	s.showErr(s.validate())
}

// checkAddr is validateAddr, then whether the listener could open addr.
func (s *settingsDialog) checkAddr(listener, addr string) error {
	if err := validateAddr(addr); err != nil {
		return fmt.Errorf(lang.L("%s address: %w"), lang.L(listenerNames[listener]), err)
	}
	return s.canListen(listener, addr)
}

// validate returns the first invalid address, naming its listener, or
// one address given to two listeners.
func (s *settingsDialog) validate() error {
	seen := map[string]string{}
	for _, f := range []struct {
		name string
		e    *widget.Entry
		on   *widget.Check
	}{{"mqtt", s.mqtt, nil}, {"ws", s.ws, s.wsOn}, {"tls", s.tls, s.tlsOn}} {
		if f.e == nil || f.on != nil && !f.on.Checked {
			continue
		}
		addr := strings.TrimSpace(f.e.Text)
		if err := s.checkAddr(f.name, addr); err != nil {
			return err
		}
		if other, dup := seen[addr]; dup && !strings.HasSuffix(addr, ":0") {
			return fmt.Errorf(lang.L("The %s and %s listeners are both set to %s; give each its own port."), lang.L(listenerNames[other]), lang.L(listenerNames[f.name]), addr)
		}
		seen[addr] = f.name
	}
	return nil
}

func (s *settingsDialog) showErr(err error) {
	if s.errText == nil {
		return // still building
	}
	msg := ErrorText(err)
	setText(s.errText, msg)
}

func (s *settingsDialog) onSaveTapped() {
	if err := s.validate(); err != nil {
		s.showErr(err)
		return
	}
	ch := s.change()
	setEnabled(s.save, false)
	setEnabled(s.cancel, false) // the outcome is shown here
	s.onSave(ch, s.applied)
}

// applied closes the dialog once its change is applied, or says why not
// and lets the user change it.
func (s *settingsDialog) applied(err error) {
	setEnabled(s.save, true)
	setEnabled(s.cancel, true)
	if err != nil {
		s.showErr(err)
		return
	}
	s.dlg.Hide()
}

// change is what the dialog holds, as a settingsChange.
func (s *settingsDialog) change() settingsChange {
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
	return settingsChange{cfg: cfg, autoStart: s.autoStart.Checked, remembered: remembered}
}

// focus puts the cursor in the entry of the named listener (mqtt, ws, tls).
func (s *settingsDialog) focus(w fyne.Window, listener string) {
	e := map[string]*widget.Entry{"mqtt": s.mqtt, "ws": s.ws, "tls": s.tls}[listener]
	if e != nil && !e.Disabled() {
		w.Canvas().Focus(e)
	}
}
