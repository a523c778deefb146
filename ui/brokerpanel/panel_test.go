package brokerpanel

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

func TestStartStopFollowsState(t *testing.T) {
	ctl := newFake()
	h := newHarness(t, ctl)
	p := h.panel

	if p.startStop.Text != "Start" || !strings.Contains(p.status.Text, "Stopped") {
		t.Fatalf("initially button %q status %q, want Start / Stopped", p.startStop.Text, p.status.Text)
	}
	test.Tap(p.startStop)
	if !p.startStop.Disabled() {
		t.Error("button stays enabled while starting")
	}
	test.Tap(p.startStop) // ignored while busy
	h.q.Run(t)

	ctl.get(func(f *fakeController) {
		if f.starts != 1 {
			t.Errorf("Start called %d times, want 1", f.starts)
		}
	})
	if p.startStop.Text != "Stop" || p.startStop.Disabled() {
		t.Errorf("after start button is %q (disabled %v), want enabled Stop", p.startStop.Text, p.startStop.Disabled())
	}
	if !strings.Contains(strings.ToLower(p.status.Text), "running") {
		t.Errorf("status %q does not say running", p.status.Text)
	}
	if p.errRow.Visible() {
		t.Errorf("error row shown after a good start: %q", p.errText.Text)
	}
	if got := uitest.Labels(p.listenerBox); !slices.Contains(got, "mqtt://127.0.0.1:1883") {
		t.Errorf("listeners show %q, want the mqtt URL", got)
	}

	test.Tap(p.startStop)
	h.q.Run(t)
	ctl.get(func(f *fakeController) {
		if f.stops != 1 {
			t.Errorf("Stop called %d times, want 1", f.stops)
		}
	})
	if p.startStop.Text != "Start" || p.status.Text != "Stopped" {
		t.Errorf("after stop button %q status %q, want Start / Stopped", p.startStop.Text, p.status.Text)
	}
}

func TestBusyPortShowsReasonAndChangePort(t *testing.T) {
	ctl := newFake()
	lerr := inUseErr("127.0.0.1:1883")
	ctl.startErr = lerr
	h := newHarness(t, ctl)
	p := h.panel

	test.Tap(p.startStop)
	h.q.Run(t)

	if !p.errRow.Visible() || p.errText.Text != lerr.Error() {
		t.Fatalf("error line %q (visible %v), want %q", p.errText.Text, p.errRow.Visible(), lerr.Error())
	}
	if !strings.Contains(p.errText.Text, "already in use") {
		t.Errorf("error line %q does not say the port is in use", p.errText.Text)
	}
	if !p.changePort.Visible() {
		t.Fatal("Change port… button hidden for a busy port")
	}
	if p.startStop.Text != "Start" {
		t.Errorf("button reads %q after a failed start, want Start", p.startStop.Text)
	}

	test.Tap(p.changePort)
	if p.settings == nil || h.win.Canvas().Overlays().Top() == nil {
		t.Fatal("Change port… did not open the settings dialog")
	}
	if h.win.Canvas().Focused() != p.settings.mqtt {
		t.Error("Change port… did not focus the MQTT address")
	}

	// A fixed port is applied and, as the last start failed, started.
	ctl.set(func(f *fakeController) { f.startErr = nil })
	p.settings.mqtt.SetText("127.0.0.1:0")
	test.Tap(p.settings.save)
	h.q.Run(t)
	ctl.get(func(f *fakeController) {
		if len(f.reconfigured) != 1 || f.starts != 2 {
			t.Errorf("Reconfigure called %d times and Start %d, want 1 and 2", len(f.reconfigured), f.starts)
		}
	})
	if p.errRow.Visible() || p.startStop.Text != "Stop" {
		t.Errorf("after changing the port: error %q shown %v, button %q", p.errText.Text, p.errRow.Visible(), p.startStop.Text)
	}
}

func TestOtherErrorsHaveNoChangePort(t *testing.T) {
	ctl := newFake()
	ctl.startErr = errors.New("data dir /x is not writable")
	h := newHarness(t, ctl)
	test.Tap(h.panel.startStop)
	h.q.Run(t)
	if h.panel.errText.Text != "data dir /x is not writable" || h.panel.changePort.Visible() {
		t.Errorf("error %q, change port shown %v", h.panel.errText.Text, h.panel.changePort.Visible())
	}
}

func TestSettingsValidateSaveAndReconfigure(t *testing.T) {
	ctl := newFake()
	h := newHarness(t, ctl)
	p := h.panel

	test.Tap(p.settingsBtn)
	s := p.settings
	if s == nil || h.win.Canvas().Overlays().Top() == nil {
		t.Fatal("Settings… did not open a dialog")
	}
	if s.mqtt.Text != "127.0.0.1:1883" || s.wsOn.Checked || s.tlsOn.Checked || !s.autoStart.Checked {
		t.Fatalf("dialog starts with mqtt %q ws %v tls %v autostart %v", s.mqtt.Text, s.wsOn.Checked, s.tlsOn.Checked, s.autoStart.Checked)
	}

	s.mqtt.SetText("")
	test.Type(s.mqtt, "localhost:99999")
	if s.mqtt.Validate() == nil {
		t.Error("entry accepts localhost:99999")
	}
	if !strings.Contains(s.errText.Text, "65535") {
		t.Errorf("inline error %q does not explain the port range", s.errText.Text)
	}
	test.Tap(s.save)
	if h.win.Canvas().Overlays().Top() == nil {
		t.Error("Save closed the dialog despite a bad address")
	}
	ctl.get(func(f *fakeController) {
		if len(f.reconfigured) != 0 {
			t.Errorf("Reconfigure called with a bad address: %+v", f.reconfigured)
		}
	})
	if got := h.app.Preferences().StringWithFallback(KeyMQTTAddr, "unset"); got != "unset" {
		t.Errorf("a bad address was saved: %q", got)
	}

	for _, bad := range []string{"1883", "host:", "host:-1", "host:+1", "[::1:80"} {
		if validateAddr(bad) == nil {
			t.Errorf("validateAddr(%q) = nil", bad)
		}
	}

	s.mqtt.SetText("")
	test.Type(s.mqtt, "127.0.0.1:0")
	if s.errText.Text != "" {
		t.Errorf("error %q stays after a good address", s.errText.Text)
	}
	test.Tap(s.wsOn)
	s.ws.SetText("127.0.0.1:9001")
	s.autoStart.SetChecked(false)
	test.Tap(s.save)
	h.q.Run(t)

	if h.win.Canvas().Overlays().Top() != nil {
		t.Error("dialog still open after Save")
	}
	var got broker.Config
	ctl.get(func(f *fakeController) {
		if len(f.reconfigured) != 1 {
			t.Fatalf("Reconfigure called %d times, want 1", len(f.reconfigured))
		}
		got = f.reconfigured[0]
	})
	if got.MQTTAddr != "127.0.0.1:0" || got.WSAddr != "127.0.0.1:9001" || got.TLSAddr != "" {
		t.Errorf("Reconfigure got listeners %q %q %q", got.MQTTAddr, got.WSAddr, got.TLSAddr)
	}
	if got.DataDir != "/tmp/x" || !got.NoPersistence {
		t.Errorf("Reconfigure lost the rest of the config: %+v", got)
	}
	prefs := h.app.Preferences()
	if a := prefs.String(KeyMQTTAddr); a != "127.0.0.1:0" {
		t.Errorf("saved MQTT address %q", a)
	}
	if AutoStart(prefs) {
		t.Error("auto-start still on after unticking it")
	}
	if c := ConfigFromPreferences(prefs, "/data"); c.MQTTAddr != "127.0.0.1:0" || c.WSAddr != "127.0.0.1:9001" || c.DataDir != "/data" {
		t.Errorf("ConfigFromPreferences after save = %+v", c)
	}
}

// A change the broker refuses at Save (the port was taken after it was
// typed) keeps the dialog open with the reason; nothing is saved.
func TestRefusedChangeKeepsDialogAndPreferences(t *testing.T) {
	ctl := newFake()
	_ = ctl.Start()
	refused := inUseErr("127.0.0.1:1884")
	ctl.reconfErr = refused
	h := newHarness(t, ctl)
	h.app.Preferences().SetString(KeyMQTTAddr, "127.0.0.1:1883")
	test.Tap(h.panel.settingsBtn)
	s := h.panel.settings
	s.mqtt.SetText("127.0.0.1:1884")
	test.Tap(s.save)
	if !s.save.Disabled() {
		t.Error("Save stays enabled while the change is applied")
	}
	h.q.Run(t)

	if h.win.Canvas().Overlays().Top() == nil {
		t.Fatal("the dialog closed although the broker refused the change")
	}
	if s.errText.Text != refused.Error() || s.save.Disabled() {
		t.Errorf("dialog says %q (Save disabled %v), want %q", s.errText.Text, s.save.Disabled(), refused.Error())
	}
	if got := h.app.Preferences().String(KeyMQTTAddr); got != "127.0.0.1:1883" {
		t.Errorf("preferences hold %q after the refused change, want the old 127.0.0.1:1883", got)
	}
	ctl.get(func(f *fakeController) {
		if f.stops != 0 || f.state.Status != broker.Running {
			t.Errorf("the panel stopped the broker (%d stops, now %v)", f.stops, f.state.Status)
		}
	})
}

// The dialog marks an address ✓ only if the listener could open it.
func TestSettingsMarkBusyAddress(t *testing.T) {
	ctl := newFake()
	ctl.busy = map[string]bool{"127.0.0.1:1884": true}
	h := newHarness(t, ctl)
	test.Tap(h.panel.settingsBtn)
	s := h.panel.settings

	size := s.dlg.MinSize()
	s.mqtt.SetText("127.0.0.1:1885")
	if mark := validationMark(s.mqtt); mark != "✓" || s.errText.Text != "" {
		t.Errorf("a free address shows mark %q and error %q, want ✓ and none", mark, s.errText.Text)
	}
	s.mqtt.SetText("127.0.0.1:1884")
	if mark := validationMark(s.mqtt); mark == "✓" {
		t.Error("a busy address shows ✓")
	}
	if !strings.HasPrefix(s.errText.Text, "Port 1884 ") {
		t.Errorf("dialog says %q, want the sentence naming port 1884", s.errText.Text)
	}
	if got := s.dlg.MinSize(); got != size {
		t.Errorf("the dialog's size changed from %v to %v with the error: its room is kept", size, got)
	}

	// Two listeners cannot share one address either.
	s.mqtt.SetText("127.0.0.1:1885")
	test.Tap(s.wsOn)
	s.ws.SetText("127.0.0.1:1885")
	if !strings.HasPrefix(s.errText.Text, "The MQTT and WebSocket listeners") {
		t.Errorf("dialog says %q for one address on two listeners", s.errText.Text)
	}
}

func TestPreferencesDefaultsAndRoundTrip(t *testing.T) {
	a := test.NewTempApp(t)
	p := a.Preferences()
	if !AutoStart(p) {
		t.Error("AutoStart defaults to false")
	}
	def := ConfigFromPreferences(p, "/d")
	want := broker.DefaultConfig("/d")
	if def.MQTTAddr != want.MQTTAddr || def.WSAddr != want.WSAddr || def.TLSAddr != "" || def.DevCA || def.DataDir != "/d" {
		t.Errorf("defaults = %+v, want %+v", def, want)
	}

	cfg := def
	cfg.MQTTAddr, cfg.WSAddr, cfg.TLSAddr, cfg.DevCA = "0.0.0.0:1884", "", "127.0.0.1:8884", true
	SavePreferences(p, cfg, false)
	got := ConfigFromPreferences(p, "/d")
	if got.MQTTAddr != "0.0.0.0:1884" || got.WSAddr != "" || got.TLSAddr != "127.0.0.1:8884" || !got.DevCA || AutoStart(p) {
		t.Errorf("round trip = %+v autostart %v", got, AutoStart(p))
	}
	// Turning WebSocket back on offers the address it had.
	p.SetBool(KeyWSEnabled, true)
	if got := ConfigFromPreferences(p, "/d"); got.WSAddr != broker.DefaultWSAddr {
		t.Errorf("WS back on at %q", got.WSAddr)
	}
}

func TestClientsTableAndDisconnect(t *testing.T) {
	ctl := newFake()
	_ = ctl.Start()
	since := time.Now().Add(-time.Minute)
	ctl.clients = []broker.ClientInfo{
		{ID: "sensor-1", Address: "127.0.0.1:50000", ProtocolVersion: 4, Connected: true, ConnectedSince: since,
			Subscriptions: []broker.Subscription{{Filter: "a/#"}, {Filter: "b/+", QoS: 1}}, Inflight: 2, Queued: 7},
		{ID: "gone", Address: "127.0.0.1:50001", ProtocolVersion: 5},
	}
	h := newHarness(t, ctl)
	p := h.panel

	got := uitest.Labels(p.clients.table)
	for _, want := range []string{"Client ID", "sensor-1", "127.0.0.1:50000", "MQTT 3.1.1", "a/#, b/+", "2 / 7", "gone", "MQTT 5", "offline"} {
		if !slices.Contains(got, want) {
			t.Errorf("clients table lacks %q; shows %q", want, got)
		}
	}
	// A minute ago is yesterday in the first minute of a day: the date is
	// shown then, before the time.
	if !slices.ContainsFunc(got, func(s string) bool { return strings.HasSuffix(s, since.Format("15:04:05")) }) {
		t.Errorf("clients table lacks the connection time %s; shows %q", since.Format("15:04:05"), got)
	}
	if p.clientsHead.Text != "Clients (2)" || p.clientsNone.Visible() {
		t.Errorf("heading %q, empty note shown %v", p.clientsHead.Text, p.clientsNone.Visible())
	}

	disc := uitest.Buttons(p.clients.table, "Disconnect")
	if len(disc) != 2 {
		t.Fatalf("%d Disconnect buttons, want one per row", len(disc))
	}
	var enabled []int
	for i, b := range disc {
		if !b.Disabled() {
			enabled = append(enabled, i)
		}
	}
	if len(enabled) != 1 {
		t.Fatalf("%d Disconnect buttons enabled, want only the connected client's", len(enabled))
	}
	row := disc[enabled[0]]

	test.Tap(row)
	test.Tap(uitest.OverlayButton(t, h.win, "Cancel"))
	time.Sleep(20 * time.Millisecond)
	ctl.get(func(f *fakeController) {
		if len(f.disconnected) != 0 {
			t.Errorf("Cancel still disconnected %q", f.disconnected)
		}
	})

	test.Tap(row)
	test.Tap(uitest.OverlayButton(t, h.win, "Disconnect"))
	h.q.Run(t)
	ctl.get(func(f *fakeController) {
		if !slices.Equal(f.disconnected, []string{"sensor-1"}) {
			t.Errorf("Disconnect called with %q, want [sensor-1]", f.disconnected)
		}
	})
	if got := uitest.Labels(p.clients.table); slices.Contains(got, "sensor-1") || p.clientsHead.Text != "Clients (1)" {
		t.Errorf("disconnected client still listed: %q", got)
	}
}

func TestRunRefreshesUntilCancelled(t *testing.T) {
	ctl := newFake()
	_ = ctl.Start()
	h := newHarness(t, ctl)
	p := h.panel
	p.interval = 5 * time.Millisecond

	byName := map[string]*counter{}
	for _, c := range p.counters {
		byName[c.name] = c
	}
	if byName["Messages in"].text.Text != "0" {
		t.Fatalf("Messages in starts at %q", byName["Messages in"].text.Text)
	}

	stop := h.q.Serve(t, p.Serve)
	h.q.Until(t, "the first refresh", p.serving.Load)
	if err := p.Serve(context.Background()); err == nil {
		t.Error("a second Serve while serving returned nil, want an error")
	}

	ctl.set(func(f *fakeController) {
		f.stats = broker.Stats{ClientsConnected: 3, MessagesIn: 1234567, MessagesOut: 42, InPerSec: 12.4, OutPerSec: 0.5,
			Retained: 7, Subscriptions: 9, Dropped: 1, DeniedPublishes: 2, ConnectionsRefused: 5, SessionStoreDiskFull: true}
		f.clients = []broker.ClientInfo{{ID: "late", Connected: true, ProtocolVersion: 5}}
	})
	h.q.Until(t, "counters to refresh", func() bool { return byName["Messages in"].text.Text != "0" })

	want := map[string]string{
		"Clients connected": "3", "Messages in": "1,234,567", "Messages out": "42", "Messages in / s": "12",
		"Messages out / s": "0.5", "Retained": "7", "Subscriptions": "9", "Dropped": "1", "Denied publishes": "2",
		"Connections refused": "5", "Saving sessions": "in memory: disk full",
	}
	for name, v := range want {
		if got := byName[name].text.Text; got != v {
			t.Errorf("%s shows %q, want %q", name, got, v)
		}
	}
	if byName["Dropped"].text.Importance == byName["Retained"].text.Importance {
		t.Error("a non-zero Dropped count is not highlighted")
	}
	if byName["Saving sessions"].text.Importance != widget.WarningImportance {
		t.Error("a session store stopped by a full disk is not highlighted")
	}
	if !slices.Contains(uitest.Labels(p.clients.table), "late") {
		t.Error("refresh did not add the new client row")
	}

	// Later ticks keep it current, including a row that changed in place.
	h.q.Run(t)
	if byName["Messages in"].text.Text != "1,234,567" {
		t.Error("an unchanged tick changed the counters")
	}
	ctl.set(func(f *fakeController) {
		f.clients[0].Subscriptions = []broker.Subscription{{Filter: "x/y"}}
	})
	h.q.Until(t, "the changed row to show its new subscription", func() bool {
		return slices.Contains(uitest.Labels(p.clients.table), "x/y")
	})

	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestCopyListenerURL(t *testing.T) {
	ctl := newFake()
	_ = ctl.Start()
	h := newHarness(t, ctl)
	copyButtons := uitest.Buttons(h.panel.listenerBox, "")
	if len(copyButtons) != 1 {
		t.Fatalf("%d copy buttons, want 1", len(copyButtons))
	}
	test.Tap(copyButtons[0])
	if got := h.app.Clipboard().Content(); got != "mqtt://127.0.0.1:1883" {
		t.Errorf("clipboard holds %q", got)
	}
}

type memWriter struct {
	bytes.Buffer
	closed bool
}

func (m *memWriter) Close() error { m.closed = true; return nil }

func TestExportDevCA(t *testing.T) {
	ctl := newFake()
	ctl.caPEM = []byte("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n")
	_ = ctl.Start()
	ctl.state.Listeners = append(ctl.state.Listeners, broker.Listener{Name: "tls", Address: "127.0.0.1:8883", URL: "mqtts://127.0.0.1:8883"})
	h := newHarness(t, ctl)
	if n := len(uitest.Buttons(h.panel.listenerBox, "Export CA…")); n != 1 {
		t.Fatalf("%d Export CA buttons, want one on the TLS row", n)
	}
	var w memWriter
	if err := h.panel.writeCA(&w); err != nil {
		t.Fatal(err)
	}
	if w.String() != string(ctl.caPEM) || !w.closed {
		t.Fatalf("exported %q (closed %v), want the CA PEM", w.String(), w.closed)
	}

	ctl.caPEM = nil // TLS with the user's own certificate: nothing to export
	h2 := newHarness(t, ctl)
	if n := len(uitest.Buttons(h2.panel.listenerBox, "Export CA…")); n != 0 {
		t.Fatalf("%d Export CA buttons without a dev CA", n)
	}
}

// The app's own connections are listed by name beside their client IDs;
// other clients by ID (and user) only.
func TestClientsTableNamesOwnConnections(t *testing.T) {
	ctl := newFake()
	_ = ctl.Start()
	ctl.clients = []broker.ClientInfo{
		{ID: "iotstudio-ab12cd34", Address: "127.0.0.1:50000", ProtocolVersion: 5, Connected: true},
		{ID: "iotstudio-ffff0000", Address: "127.0.0.1:50002", ProtocolVersion: 4, Connected: true, Username: "alice"},
		{ID: "sensor-1", Address: "127.0.0.1:50001", ProtocolVersion: 4, Connected: true, Username: "bob"},
	}
	h := newHarness(t, ctl)
	own := map[string]string{"iotstudio-ab12cd34": "Local broker", "iotstudio-ffff0000": "Staging"}
	var mu sync.Mutex // own changes while the refresh reads it
	h.panel.NameClients(func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(own)
	})

	got := uitest.Labels(h.panel.clients.table)
	for _, want := range []string{"Local broker (iotstudio-ab12cd34)", "Staging (iotstudio-ffff0000, alice)", "sensor-1 (bob)"} {
		if !slices.Contains(got, want) {
			t.Errorf("clients table lacks %q; shows %q", want, got)
		}
	}

	// The refresh names them too.
	ctl.set(func(f *fakeController) {
		f.clients = append(f.clients, broker.ClientInfo{ID: "iotstudio-99990000", ProtocolVersion: 5, Connected: true})
	})
	mu.Lock()
	own["iotstudio-99990000"] = "Second window"
	mu.Unlock()
	h.panel.interval = 10 * time.Millisecond
	stop := h.q.Serve(t, h.panel.Serve)
	defer stop()
	h.q.Until(t, "the new connection listed by name", func() bool {
		return slices.Contains(uitest.Labels(h.panel.clients.table), "Second window (iotstudio-99990000)")
	})
}

// Selecting a client opens its sessions (the window wires the Journal);
// without that, selecting does nothing and no hint says otherwise.
func TestSelectingAClientShowsItsSessions(t *testing.T) {
	ctl := newFake()
	_ = ctl.Start()
	ctl.clients = []broker.ClientInfo{{ID: "sensor-1", Address: "127.0.0.1:50000", ProtocolVersion: 5, Connected: true}}
	h := newHarness(t, ctl)
	p := h.panel
	if p.clientsHint.Visible() {
		t.Error("the hint about sessions shows without a journal to open")
	}
	var shown []string
	p.ShowSessions(func(id string) { shown = append(shown, id) })
	if !p.clientsHint.Visible() {
		t.Error("no hint says that selecting a client shows its sessions")
	}
	p.clients.table.Select(widget.TableCellID{Row: 0, Col: colID})
	p.clients.table.Select(widget.TableCellID{Row: 0, Col: colAddress})
	if !slices.Equal(shown, []string{"sensor-1", "sensor-1"}) {
		t.Fatalf("selecting the client twice showed the sessions of %v, want sensor-1 twice", shown)
	}
}
