// Package brokerpanel is the Broker panel of the main window: it starts and
// stops the embedded broker, shows where it listens, its live counters and
// clients, and edits (and persists) the listener settings.
package brokerpanel

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/ui/numfmt"
	"github.com/iotstudio/iotstudio/ui/tablefit"
)

// Controller is what the panel needs from the broker; *broker.Broker
// implements it. Every method may be called from a background goroutine.
type Controller interface {
	Start() error
	Stop() error
	State() broker.State
	Stats() broker.Stats
	Clients() []broker.ClientInfo
	Disconnect(id string) error
	Config() broker.Config
	Reconfigure(broker.Config) error
	// CanListen says whether a listener could open addr (the settings
	// dialog asks as the user types); the broker's own addresses can.
	CanListen(listener, addr string) error
	DevCACert() []byte
}

// refreshInterval is how often Run refreshes the counters and clients.
const refreshInterval = time.Second

// Panel is the Broker panel. Create it with New, add it to the main window,
// then call Run once to start the live refresh.
type Panel struct {
	ctl   Controller
	win   fyne.Window
	prefs fyne.Preferences

	// do runs a UI update on the Fyne goroutine (fyne.Do; tests queue it).
	do func(func())
	// ownNames names the app's own connections among the clients (see
	// NameClients); called off the UI goroutine.
	ownNames func() map[string]string
	interval time.Duration
	serving  atomic.Bool // while Serve runs
	pending  atomic.Bool // a refresh is queued but not yet applied

	content     *fyne.Container
	startStop   *widget.Button
	settingsBtn *widget.Button
	status      *widget.Label
	errText     *widget.Label
	changePort  *widget.Button
	errRow      *fyne.Container
	listenerBox *fyne.Container
	counters    []*counter
	clientsHead *widget.Label
	clientsHint *widget.Label // shown when selecting a client opens its sessions
	clientsNone *widget.Label
	clients     *clientTable

	// Owned by the UI goroutine.
	state     broker.State
	listeners []broker.Listener
	busy      string // "Starting…" etc. while an action runs, else ""
	actionErr error  // the last action's error, until the next action
	settings  *settingsDialog
}

// New builds the panel for b. w is the window its dialogs belong to; prefs
// is where the settings dialog saves (see ConfigFromPreferences). New reads
// the broker's current state, so call it on the UI goroutine.
func New(b Controller, w fyne.Window, prefs fyne.Preferences) *Panel {
	p := &Panel{ctl: b, win: w, prefs: prefs, do: fyne.Do, interval: refreshInterval}
	p.buildUI()
	p.apply(p.snapshot())
	return p
}

// ShowSessions makes selecting a client in the table show its sessions
// (the Journal panel's timeline of that client ID). Call it before Serve.
func (p *Panel) ShowSessions(show func(clientID string)) {
	p.clients.onSelect = show
	p.clientsHint.Show()
}

// NameClients makes the clients table show which clients are the app's
// own connections: ownNames returns the names of the app's connections to
// this broker by their client IDs ("Local broker"). It is called once a
// refresh, from the refresh goroutine, so it must be safe there. Call
// NameClients before Serve.
func (p *Panel) NameClients(ownNames func() map[string]string) {
	p.ownNames = ownNames
	p.apply(p.snapshot())
}

// Title is the navigation label.
func (p *Panel) Title() string { return lang.L("Broker") }

// Icon is the navigation icon.
func (p *Panel) Icon() fyne.Resource { return theme.ComputerIcon() }

// Content is the panel's UI, built once.
func (p *Panel) Content() fyne.CanvasObject { return p.content }

func (p *Panel) buildUI() {
	p.startStop = widget.NewButtonWithIcon(lang.L("Start"), theme.MediaPlayIcon(), p.onStartStop)
	p.startStop.Importance = widget.HighImportance
	p.settingsBtn = widget.NewButtonWithIcon(lang.L("Settings…"), theme.SettingsIcon(), p.onSettings)
	p.status = widget.NewLabelWithStyle(lang.L("Stopped"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})

	p.errText = widget.NewLabel("")
	p.errText.Importance = widget.DangerImportance
	p.errText.Wrapping = fyne.TextWrapWord
	p.changePort = widget.NewButtonWithIcon(lang.L("Change port…"), theme.SettingsIcon(), p.onChangePort)
	p.changePort.Hide()
	p.errRow = container.NewBorder(nil, nil, nil, p.changePort, p.errText)
	p.errRow.Hide()

	p.listenerBox = container.NewVBox()

	p.counters = newCounters()
	grid := container.NewGridWithColumns(5)
	for _, c := range p.counters {
		grid.Add(c.box())
	}

	p.clientsHead = widget.NewLabelWithStyle(lang.L("Clients"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.clientsNone = widget.NewLabel("")
	p.clientsNone.Alignment = fyne.TextAlignCenter
	p.clients = newClientTable(p.onDisconnect)
	p.clientsHint = widget.NewLabel(lang.L("Select a client to see its sessions in the Journal."))
	p.clientsHint.Importance = widget.LowImportance
	p.clientsHint.Hide()

	header := container.NewBorder(nil, nil, container.NewHBox(p.startStop, p.settingsBtn), nil, p.status)
	top := container.NewVBox(
		header,
		p.errRow,
		widget.NewCard("", lang.L("Listeners"), p.listenerBox),
		widget.NewCard("", lang.L("Traffic"), grid),
		container.NewHBox(p.clientsHead, p.clientsHint),
	)
	p.content = container.NewBorder(top, nil, nil, nil, container.NewStack(tablefit.Fit(p.clients.table, columnWidths), container.NewCenter(p.clientsNone)))
}

// async runs work off the UI goroutine, then the UI update it returns on it.
func (p *Panel) async(work func() func()) {
	go func() {
		apply := work()
		p.do(apply)
	}()
}

// begin marks an action as running; it returns false if one already is.
func (p *Panel) begin(what string) bool {
	if p.busy != "" {
		return false
	}
	p.busy, p.actionErr = what, nil
	p.updateStatus()
	return true
}

// finish ends the running action with its error and the broker's new state.
func (p *Panel) finish(err error, s snapshot) {
	p.busy, p.actionErr = "", err
	p.apply(s)
}

func (p *Panel) onStartStop() {
	stop := p.state.Status == broker.Running
	what := lang.L("Starting…")
	if stop {
		what = lang.L("Stopping…")
	}
	if !p.begin(what) {
		return
	}
	p.async(func() func() {
		var err error
		if stop {
			err = p.ctl.Stop()
		} else {
			err = p.ctl.Start()
		}
		s := p.snapshot()
		return func() { p.finish(err, s) }
	})
}

// errBusy refuses a change while another action runs.
var errBusy = errors.New("The broker is busy with another action; save again when it has finished.")

// saveSettings applies what the settings dialog holds, then tells done.
// A broker whose last start failed (say, on a busy port) is started
// again, since fixing that is why the user changed it. The preferences
// are written only once the change is applied: a refused one (a busy
// port) leaves them, and the running broker, as they were.
func (p *Panel) saveSettings(ch settingsChange, done func(error)) {
	if !p.begin(lang.L("Applying settings…")) {
		done(errBusy)
		return
	}
	retry := p.state.Status == broker.Failed
	p.async(func() func() {
		err := p.ctl.Reconfigure(ch.cfg)
		if err == nil && retry {
			err = p.ctl.Start()
		}
		s := p.snapshot()
		return func() {
			if err == nil {
				p.savePreferences(ch)
			}
			p.finish(nil, s) // the dialog shows err, where it can be fixed
			done(err)
		}
	})
}

func (p *Panel) savePreferences(ch settingsChange) {
	SavePreferences(p.prefs, ch.cfg, ch.autoStart)
	for key, addr := range ch.remembered {
		p.prefs.SetString(key, addr)
	}
}

func (p *Panel) onDisconnect(id string) {
	c := dialog.NewConfirm(lang.L("Disconnect client"),
		fmt.Sprintf(lang.L("Disconnect client %q?\nIts will message, if it has one, is published."), id),
		func(ok bool) {
			if !ok {
				return
			}
			p.async(func() func() {
				err := p.ctl.Disconnect(id)
				s := p.snapshot()
				return func() {
					if err != nil {
						p.actionErr = err
					}
					p.apply(s)
				}
			})
		}, p.win)
	c.SetDismissText(lang.L("Cancel"))
	c.SetConfirmText(lang.L("Disconnect"))
	c.SetConfirmImportance(widget.DangerImportance)
	c.Show()
}

func (p *Panel) onChangePort() {
	p.onSettings()
	var le *broker.ListenError
	if errors.As(p.shownErr(), &le) && p.settings != nil {
		p.settings.focus(p.win, le.Listener)
	}
}

func (p *Panel) onSettings() {
	p.settings = newSettingsDialog(p.ctl.Config(), p.prefs, p.win, p.ctl.CanListen, p.saveSettings)
	p.settings.dlg.SetOnClosed(func() { p.settings = nil })
	p.settings.dlg.Show()
}

// onExportCA saves the development CA so devices can be told to trust the
// TLS listener.
func (p *Panel) onExportCA() {
	save := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		if err := p.writeCA(w); err != nil {
			dialog.ShowError(err, p.win)
		}
	}, p.win)
	save.SetFileName("iotstudio-dev-ca.pem")
	save.Show()
}

func (p *Panel) writeCA(w io.WriteCloser) error {
	pem := p.ctl.DevCACert()
	if pem == nil {
		w.Close()
		return errors.New(lang.L("The CA was not exported: TLS does not use the development CA."))
	}
	if _, err := w.Write(pem); err != nil {
		w.Close()
		return fmt.Errorf(lang.L("The CA was not exported: %w"), err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf(lang.L("The CA was not exported: %w"), err)
	}
	return nil
}

func (p *Panel) onCopy(url string) {
	fyne.CurrentApp().Clipboard().SetContent(url)
}

// shownErr is the error the status line shows.
func (p *Panel) shownErr() error {
	if p.actionErr != nil {
		return p.actionErr
	}
	if p.state.Status == broker.Failed {
		return p.state.Err
	}
	return nil
}

func (p *Panel) updateStatus() {
	running := p.state.Status == broker.Running
	text, icon := lang.L("Start"), theme.MediaPlayIcon()
	if running {
		text, icon = lang.L("Stop"), theme.MediaStopIcon()
	}
	if p.busy != "" {
		text = p.busy
	}
	if p.startStop.Text != text || p.startStop.Icon != icon {
		p.startStop.Text, p.startStop.Icon = text, icon
		p.startStop.Refresh()
	}
	setEnabled(p.startStop, p.busy == "")
	setEnabled(p.settingsBtn, p.busy == "")

	status := p.busy
	if status == "" {
		switch p.state.Status {
		case broker.Running:
			status = lang.L("Running since ") + numfmt.Time(p.state.Since)
		case broker.Failed:
			status = lang.L("Not running: the broker failed to start")
		default:
			status = lang.L("Stopped")
		}
	}
	setText(p.status, status)

	err := p.shownErr()
	msg := ErrorText(err)
	var le *broker.ListenError
	inUse := errors.As(err, &le) && le.InUse()
	if msg == p.errText.Text && (msg != "") == p.errRow.Visible() && inUse == p.changePort.Visible() {
		return
	}
	p.errText.SetText(msg)
	setVisible(p.changePort, inUse)
	setVisible(p.errRow, msg != "")
	p.relayout()
}

// relayout lays the panel out again after a part of it appeared, vanished or
// changed height; Fyne does not do that when a container is shown or hidden.
func (p *Panel) relayout() {
	p.content.Refresh()
}

func setVisible(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

func (p *Panel) updateListeners(ls []broker.Listener) {
	if slices.Equal(ls, p.listeners) && len(p.listenerBox.Objects) > 0 {
		return
	}
	p.listeners = ls
	var rows []fyne.CanvasObject
	for _, l := range ls {
		url := l.URL
		copyBtn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() { p.onCopy(url) })
		name := widget.NewLabelWithStyle(lang.L(listenerNames[l.Name]), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		u := widget.NewLabel(url)
		u.Selectable = true
		actions := fyne.CanvasObject(copyBtn)
		if l.Name == "tls" && p.ctl.DevCACert() != nil {
			actions = container.NewHBox(widget.NewButtonWithIcon(lang.L("Export CA…"), theme.DocumentSaveIcon(), p.onExportCA), copyBtn)
		}
		rows = append(rows, container.NewBorder(nil, nil, name, actions, u))
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel(lang.L("Not listening: start the broker to open its listeners.")))
	}
	p.listenerBox.Objects = rows
	p.relayout()
}

var listenerNames = map[string]string{"mqtt": "MQTT", "ws": "WebSocket", "tls": "MQTT over TLS"}

func setText(l *widget.Label, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}

func setEnabled(w fyne.Disableable, on bool) {
	if on && w.Disabled() {
		w.Enable()
	} else if !on && !w.Disabled() {
		w.Disable()
	}
}
