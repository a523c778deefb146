// Package publish is the Publish panel of the main window: it sends a
// message on any open connection of a client.Manager (the embedded broker
// is reached through its "local" connection like any other broker).
//
// The form validates as the person types: the topic (engine/message's
// ValidateTopicName, with its warnings), the payload in the chosen format
// (text, JSON with the line and column of an error, hex, base64; switching
// format converts the payload), the MQTT 5 properties (disabled, and said
// why, on MQTT 3.1.1 connections) and the repeat settings; Publish is
// enabled only when everything is valid. A publish, once or N times every
// T, runs on a goroutine owned by the panel, stopped by Stop or when Serve
// ends, and reports its progress and errors through Options.Do.
//
// Saved messages (named collections) and the history of recent publishes
// are engine/saved's, kept in the data dir.
package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/saved"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// Options are what the panel needs besides the connections.
type Options struct {
	// DataDir keeps the saved messages and the publish history. Empty
	// keeps neither, and the panel says so.
	DataDir string
	// HistoryLimit caps the history; 0 means saved.DefaultHistoryLimit.
	HistoryLimit int
	Logger       *slog.Logger
	// Do runs a UI update on the Fyne goroutine; nil means fyne.Do. Tests
	// replace it.
	Do func(func())
}

// Panel is the Publish panel. Create it with New, add it to the main
// window, then call Run once to follow the connections.
type Panel struct {
	mgr  *client.Manager
	win  fyne.Window
	opts Options
	do   func(func())
	log  *slog.Logger

	// store and history are nil when they could not be opened (storeErr
	// says why, in the panel).
	store    *saved.Store
	history  *saved.History
	storeErr error

	serving atomic.Bool // while Serve runs
	// actions runs publishes and history writes until Serve ends.
	actions shell.Actions

	// Owned by the UI goroutine.
	statuses  map[string]client.Status
	wantConn  string // a Prefill's connection that is not open yet
	format    payloadFormat
	switching bool // the format selector is being set back
	running   bool
	stopRun   context.CancelFunc
	props     []*userPropRow
	savedRows []savedRow
	histRows  []saved.Entry

	content fyne.CanvasObject
	form    formWidgets
	saved   savedWidgets
}

// New builds the panel over mgr's connections. w is the window its
// dialogs belong to. Call it on the UI goroutine.
func New(mgr *client.Manager, w fyne.Window, opts Options) *Panel {
	p := &Panel{
		mgr: mgr, win: w, opts: opts, do: fyne.Do, log: opts.Logger,
		statuses: make(map[string]client.Status), format: formatText,
	}
	if opts.Do != nil {
		p.do = opts.Do
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.openStores()
	p.buildUI()
	if w != nil {
		p.registerPublishKey(w)
	}
	p.applyConnections(mgr.Snapshot())
	p.refreshSaved()
	p.refreshHistory()
	p.validate()
	return p
}

// Title is the navigation label.
func (p *Panel) Title() string { return lang.L("Publish") }

// Icon is the navigation icon.
func (p *Panel) Icon() fyne.Resource { return theme.MailSendIcon() }

// Content is the panel's UI, built once.
func (p *Panel) Content() fyne.CanvasObject { return p.content }

// Prefill selects connection (as soon as it is open, if it is not yet) and
// puts topic in the topic box, e.g. for the Explorer's "Publish to this
// topic". A non-nil payload replaces the editor's, shown as JSON, text or
// hex, whichever reads it whole. Call it on the UI goroutine.
func (p *Panel) Prefill(connection, topic string, payload []byte) {
	if connection != "" {
		if _, ok := p.statuses[connection]; ok {
			p.wantConn = ""
			p.form.conn.SetSelected(localname.Label(connection))
		} else {
			p.wantConn = connection
		}
	}
	p.form.topic.SetText(topic)
	if payload != nil {
		p.setPayload(payload)
	}
	if p.win != nil {
		p.win.Canvas().Focus(p.form.payload)
	}
}

// setPayload shows b in the first format that renders it whole: JSON for
// an object or array (a bare number or word reads better as text), then
// text, then hex.
func (p *Panel) setPayload(b []byte) {
	for _, f := range []payloadFormat{formatJSON, formatText, formatHex} {
		if f == formatJSON && !isJSONDocument(b) {
			continue
		}
		text, err := renderPayload(f, b)
		if err != nil {
			continue
		}
		p.switching = true
		p.format = f
		p.form.formatSel.SetSelected(f.label())
		p.switching = false
		p.updatePretty()
		p.form.payload.SetText(text)
		p.validate()
		return
	}
}

// Serve follows the connections (the selector and each one's state)
// until ctx is done, then stops the publishes under way, waits for them
// and returns nil. Only one Serve may be active at a time.
func (p *Panel) Serve(ctx context.Context) error {
	if !p.serving.CompareAndSwap(false, true) {
		return errors.New("publish panel: Serve called while the panel is already serving")
	}
	defer p.serving.Store(false)
	changed, stop := p.mgr.Watch()
	p.followConnections(ctx, changed)
	stop()
	p.actions.Stop()
	return nil
}

func (p *Panel) followConnections(ctx context.Context, changed <-chan struct{}) {
	for {
		snap := p.mgr.Snapshot()
		p.do(func() { p.applyConnections(snap) })
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

func (p *Panel) openStores() {
	if p.opts.DataDir == "" {
		return
	}
	var errStore, errHist error
	p.store, errStore = saved.Open(p.opts.DataDir)
	p.history, errHist = saved.OpenHistory(p.opts.DataDir, p.opts.HistoryLimit)
	for _, err := range []error{errStore, errHist} {
		if err != nil {
			p.log.Warn("publish panel", "error", err)
			if p.storeErr == nil {
				p.storeErr = err
			}
		}
	}
}

func (p *Panel) buildUI() {
	form := p.buildForm()
	side := container.NewAppTabs(
		container.NewTabItemWithIcon(lang.L("Saved"), theme.DocumentSaveIcon(), p.buildSaved()),
		container.NewTabItemWithIcon(lang.L("History"), theme.HistoryIcon(), p.buildHistory()),
	)
	split := container.NewHSplit(form, side)
	// The side pane gets room for a saved message's name beside its three
	// buttons at 1100 px; the form still reads whole in the rest.
	split.Offset = 0.56
	p.content = split
}

// errorLabel is a hidden, wrapping label for a field's error.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	l.Hide()
	return l
}

// showMessage shows text in l with importance, or hides l when text is
// empty.
func showMessage(l *widget.Label, text string, imp widget.Importance) {
	if text == "" {
		l.Hide()
		return
	}
	l.Importance = imp
	l.SetText(text)
	l.Show()
}

// labelled lays out a field with its label on the left.
func labelled(items ...fyne.CanvasObject) *fyne.Container {
	return container.New(layout.NewFormLayout(), items...)
}

func isJSONDocument(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t)
}
