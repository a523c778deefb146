package brokerpanel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// snapshot is what one refresh reads from the broker, off the UI goroutine.
type snapshot struct {
	state   broker.State
	stats   broker.Stats
	clients []broker.ClientInfo
	// names are the app's own connections among the clients, by client ID.
	names map[string]string
}

func (p *Panel) snapshot() snapshot {
	s := snapshot{state: p.ctl.State(), stats: p.ctl.Stats(), clients: p.ctl.Clients()}
	if p.ownNames != nil {
		s.names = p.ownNames()
	}
	return s
}

// apply shows s, touching only the widgets whose content changed.
func (p *Panel) apply(s snapshot) {
	p.state = s.state
	p.updateStatus()
	p.updateListeners(s.state.Listeners)
	for _, c := range p.counters {
		c.update(s.stats)
	}
	p.clients.update(s.clients, s.names)

	setText(p.clientsHead, fmt.Sprintf(lang.L("Clients (%d)"), len(s.clients)))
	switch {
	case len(s.clients) > 0:
		p.clientsNone.Hide()
	case s.state.Status == broker.Running:
		setText(p.clientsNone, lang.L("No clients connected."))
		p.clientsNone.Show()
	default:
		setText(p.clientsNone, lang.L("The broker is not running."))
		p.clientsNone.Show()
	}
}

// Serve updates the status, counters and clients about once a second until
// ctx is done, then returns nil. Only one Serve may be active at a time.
func (p *Panel) Serve(ctx context.Context) error {
	if !p.serving.CompareAndSwap(false, true) {
		return errors.New("broker panel: Serve called while the panel is already serving")
	}
	defer p.serving.Store(false)
	p.refreshLoop(ctx)
	return nil
}

func (p *Panel) refreshLoop(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		// Skip a tick while the previous update still waits for the UI.
		if p.pending.CompareAndSwap(false, true) {
			s := p.snapshot()
			p.do(func() {
				p.pending.Store(false)
				p.apply(s)
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// counter is one live number in the Traffic card.
type counter struct {
	name  string
	value func(broker.Stats) string
	alarm func(broker.Stats) bool // shown as a warning when true
	text  *widget.Label
}

func newCounters() []*counter {
	cs := []*counter{
		{name: lang.L("Clients connected"), value: func(s broker.Stats) string { return numfmt.Count(s.ClientsConnected) }},
		{name: lang.L("Messages in / s"), value: func(s broker.Stats) string { return numfmt.Rate(s.InPerSec) }},
		{name: lang.L("Messages out / s"), value: func(s broker.Stats) string { return numfmt.Rate(s.OutPerSec) }},
		{name: lang.L("Messages in"), value: func(s broker.Stats) string { return numfmt.Count(s.MessagesIn) }},
		{name: lang.L("Messages out"), value: func(s broker.Stats) string { return numfmt.Count(s.MessagesOut) }},
		{name: lang.L("Offline sessions"), value: func(s broker.Stats) string { return numfmt.Count(s.SessionsOffline) }},
		{name: lang.L("Retained"), value: func(s broker.Stats) string { return numfmt.Count(s.Retained) }},
		{name: lang.L("Subscriptions"), value: func(s broker.Stats) string { return numfmt.Count(s.Subscriptions) }},
		{name: lang.L("Dropped"), value: func(s broker.Stats) string { return numfmt.Count(s.Dropped) },
			alarm: func(s broker.Stats) bool { return s.Dropped > 0 }},
		{name: lang.L("Denied publishes"), value: func(s broker.Stats) string { return numfmt.Count(s.DeniedPublishes) },
			alarm: func(s broker.Stats) bool { return s.DeniedPublishes > 0 }},
		{name: lang.L("Connections refused"), value: func(s broker.Stats) string { return numfmt.Count(s.ConnectionsRefused) }},
		{name: lang.L("Saving sessions"), value: sessionStoreText,
			alarm: func(s broker.Stats) bool { return s.SessionStoreDiskFull }},
	}
	for _, c := range cs {
		c.text = widget.NewLabelWithStyle("0", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	return cs
}

// sessionStoreText says whether sessions and retained messages reach the
// disk. It stays short: the counters share a grid's column width. The
// capture panel, stopped by the same disk, says what to do.
func sessionStoreText(s broker.Stats) string {
	if s.SessionStoreDiskFull {
		return lang.L("in memory: disk full")
	}
	return lang.L("on disk")
}

func (c *counter) box() fyne.CanvasObject {
	name := widget.NewLabel(c.name)
	name.SizeName = theme.SizeNameCaptionText
	return container.NewVBox(name, c.text)
}

func (c *counter) update(s broker.Stats) {
	imp := widget.MediumImportance
	if c.alarm != nil && c.alarm(s) {
		imp = widget.WarningImportance
	}
	v := c.value(s)
	if c.text.Text != v || c.text.Importance != imp {
		c.text.Text, c.text.Importance = v, imp
		c.text.Refresh()
	}
}
