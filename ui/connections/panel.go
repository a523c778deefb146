// Package connections is the Connections panel of the main window: the
// saved connection profiles with each one's live state, connect and
// disconnect, a form to create (from a preset) and edit profiles, secrets
// kept in the OS keyring (or for the session only when there is none),
// and export/import of the profiles without their secrets.
//
// The "Local broker" profile, to the embedded broker, is always present:
// it cannot be deleted and its address follows the broker's listener;
// the rest (name, client ID, subscriptions, login) is edited as any
// profile's.
package connections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/localname"
)

// LocalID is the ID of the built-in profile to the embedded broker.
const LocalID = "local"

// LocalName is the built-in local profile's name (shown translated).
const LocalName = localname.Profile

// countsInterval is how often the received/dropped counts are refreshed;
// state changes are shown as soon as the Manager reports them.
const countsInterval = time.Second

// Options is what the panel works with.
type Options struct {
	Manager *client.Manager
	Store   *client.Store
	Secrets *client.Secrets
	// LocalAddr returns the embedded broker's MQTT listener as HOST:PORT,
	// or "" when it is not running.
	LocalAddr func() string
	// PublishTo, when set, opens the Publish panel on a connection and a
	// topic: a profile's publish templates offer it.
	PublishTo func(connection, topic string)
	// Do runs a UI update on the Fyne goroutine (default fyne.Do).
	Do     func(func())
	Logger *slog.Logger
}

// Panel is the Connections panel. Create it with New on the UI goroutine,
// add it to the window, then run Serve.
type Panel struct {
	opts Options
	win  fyne.Window
	log  *slog.Logger

	work    sync.WaitGroup // background actions (keyring, open, close)
	serving atomic.Bool    // while Serve runs
	pending atomic.Bool    // a refresh is queued but not yet applied

	content *fyne.Container
	list    *fyne.Container
	banner  *widget.Label

	// Owned by the UI goroutine.
	profiles []client.Profile
	rows     map[string]*row // by profile ID
	status   map[string]client.Status
	notes    map[string]string // by profile ID: the last action's error
	busy     map[string]bool   // by profile ID: an action is under way
	loadErr  error             // the profiles file could not be read: saving is refused
	// The local profile follows the embedded broker (connects when it
	// starts, moves when its port changes) until the user disconnects it.
	followLocal bool
	localTried  string // the broker address the local profile was last connected to by following
}

// New builds the panel and loads the saved profiles; w is the window its
// dialogs belong to. Call it on the UI goroutine.
func New(w fyne.Window, opts Options) *Panel {
	if opts.Do == nil {
		opts.Do = fyne.Do
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LocalAddr == nil {
		opts.LocalAddr = func() string { return "" }
	}
	p := &Panel{opts: opts, win: w, log: opts.Logger,
		rows: map[string]*row{}, status: map[string]client.Status{}, notes: map[string]string{}, busy: map[string]bool{}}
	p.load()
	p.buildUI()
	p.rebuildList()
	return p
}

// Title is the navigation label.
func (p *Panel) Title() string { return lang.L("Connections") }

// Icon is the navigation icon.
func (p *Panel) Icon() fyne.Resource { return theme.LoginIcon() }

// Content is the panel's UI, built once.
func (p *Panel) Content() fyne.CanvasObject { return p.content }

func (p *Panel) load() {
	ps, err := p.opts.Store.Load()
	if err != nil {
		p.loadErr = err
		p.log.Error("connections not loaded", "error", err)
	}
	if !slices.ContainsFunc(ps, func(q client.Profile) bool { return q.ID == LocalID }) {
		ps = append([]client.Profile{localProfile()}, ps...)
	}
	p.profiles = ps
}

// localProfile is the built-in profile before it is connected: its URL is
// filled from the broker's listener at each connect.
func localProfile() client.Profile {
	p, _ := client.NewFromPreset(client.PresetLocal, client.PresetInput{Name: LocalName, Addr: "127.0.0.1:1883"})
	p.ID = LocalID
	return p
}

func (p *Panel) buildUI() {
	newBtn := widget.NewButtonWithIcon(lang.L("New…"), theme.ContentAddIcon(), p.onNew)
	newBtn.Importance = widget.HighImportance
	imp := widget.NewButtonWithIcon(lang.L("Import…"), theme.DownloadIcon(), p.onImport)
	exp := widget.NewButtonWithIcon(lang.L("Export…"), theme.UploadIcon(), p.onExport)
	p.banner = widget.NewLabel("")
	p.banner.Importance = widget.DangerImportance
	p.banner.Wrapping = fyne.TextWrapWord
	if p.loadErr != nil {
		p.banner.SetText(p.loadErr.Error() + lang.L("\nChanges are not saved until the file is fixed or moved aside and IoT Studio restarted."))
	} else {
		p.banner.Hide()
	}
	p.list = container.NewVBox()
	top := container.NewVBox(container.NewHBox(newBtn, imp, exp), p.banner)
	p.content = container.NewBorder(top, nil, nil, nil, container.NewVScroll(p.list))
}

// Serve connects (on the UI goroutine) the local profile when the
// embedded broker is running and the profiles the user left connected
// when the app last ran, then follows the connections' states until ctx
// is done. It returns nil once the actions under way have ended too; the
// UI must have stopped starting actions by then (the window closed).
// Only one Serve may be active at a time.
func (p *Panel) Serve(ctx context.Context) error {
	if !p.serving.CompareAndSwap(false, true) {
		return errors.New("connections panel: Serve called while the panel is already serving")
	}
	defer p.serving.Store(false)
	p.opts.Do(func() {
		p.followLocal = true
		p.followBroker()
		p.connectAtStart()
	})
	changed, stop := p.opts.Manager.Watch()
	p.follow(ctx, changed)
	stop()
	p.work.Wait()
	return nil
}

func (p *Panel) follow(ctx context.Context, changed <-chan struct{}) {
	tick := time.NewTicker(countsInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
		p.refresh()
	}
}

// refresh queues one UI update with the Manager's snapshot; while one is
// queued, more changes wait for it (the snapshot is taken when it runs).
func (p *Panel) refresh() {
	if !p.pending.CompareAndSwap(false, true) {
		return
	}
	p.opts.Do(func() {
		p.pending.Store(false)
		p.applyStatus(p.opts.Manager.Snapshot())
	})
}

func (p *Panel) applyStatus(snap []client.Status) {
	p.status = make(map[string]client.Status, len(snap))
	for _, st := range snap {
		p.status[st.Name] = st
	}
	for _, pr := range p.profiles {
		p.rows[pr.ID].update(p, pr)
	}
	p.followBroker()
}

// followBroker keeps the local profile connected to the embedded broker
// where it listens now: it connects once the broker runs, and reconnects
// at once when the broker's port changed (its settings were changed) or
// the broker is back after it was away. The connection's own retries back
// off while the broker is away (up to 30 s between two), so left to them
// it found a restarted broker only at its next retry: 14 s later in
// issue 14.
func (p *Panel) followBroker() {
	if !p.followLocal || p.busy[LocalID] {
		return
	}
	addr := p.opts.LocalAddr()
	if addr == "" {
		p.localTried = "" // the broker is away: its return is to be followed
		return
	}
	if addr == p.localTried {
		return
	}
	local, _ := p.profile(LocalID) // the user may have renamed it
	st, open := p.status[local.Name]
	switch {
	case !open || st.State == client.StateDisconnected:
		p.localTried = addr
		p.connect(LocalID, nil)
	case st.URL != "mqtt://"+addr || st.State != client.StateConnected:
		p.localTried = addr
		p.reconnect(LocalID)
	default:
		p.localTried = addr // connected where the broker is
	}
}

// async runs work off the UI goroutine (keyring and network calls may
// take a while), then the UI update it returns on it.
func (p *Panel) async(work func() func()) {
	p.work.Add(1)
	go func() {
		defer p.work.Done()
		if apply := work(); apply != nil {
			p.opts.Do(apply)
		}
	}()
}

func (p *Panel) profile(id string) (client.Profile, bool) {
	i := slices.IndexFunc(p.profiles, func(q client.Profile) bool { return q.ID == id })
	if i < 0 {
		return client.Profile{}, false
	}
	return p.profiles[i], true
}

// open says whether the profile's connection is open (in any state but
// disconnected).
func (p *Panel) open(pr client.Profile) bool {
	st, ok := p.status[pr.Name]
	return ok && st.State != client.StateDisconnected
}

// save writes the profiles; on failure nothing changes in the panel.
func (p *Panel) save(ps []client.Profile) error {
	if p.loadErr != nil {
		return fmt.Errorf(lang.L("Not saved: %w"), p.loadErr)
	}
	if err := p.opts.Store.Save(ps); err != nil {
		return fmt.Errorf(lang.L("Not saved: %w"), err)
	}
	p.profiles = ps
	p.rebuildList()
	return nil
}

func (p *Panel) rebuildList() {
	p.list.RemoveAll()
	for i, pr := range p.profiles {
		r := p.rows[pr.ID]
		if r == nil {
			r = newRow(p, pr.ID)
			p.rows[pr.ID] = r
		}
		if i > 0 {
			p.list.Add(widget.NewSeparator())
		}
		p.list.Add(r.box)
		r.update(p, pr)
	}
	for id := range p.rows {
		if _, ok := p.profile(id); !ok {
			delete(p.rows, id)
		}
	}
	p.list.Refresh()
}

// usedNames are the names taken by profiles other than except, and the
// embedded broker's own source name (the topic tree and capture tell
// sources apart by name).
func (p *Panel) usedNames(except string) map[string]bool {
	names := map[string]bool{broker.SourceBroker: true}
	for _, pr := range p.profiles {
		if pr.ID != except {
			names[strings.ToLower(pr.Name)] = true
		}
	}
	return names
}

// uniqueName returns base, or base with a number, that no profile uses.
func (p *Panel) uniqueName(base string) string {
	used := p.usedNames("")
	name := base
	for i := 2; used[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s (%d)", base, i)
	}
	return name
}

// isKeyringMissing says the error means there is no OS keyring at all.
func isKeyringMissing(err error) bool { return errors.Is(err, client.ErrKeyringUnavailable) }
