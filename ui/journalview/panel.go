// Package journalview is the Journal panel of the main window: its one job is
// to show the session journal (engine/journalstore) newest first, filtered
// by client, event kind and time, following new events while it is live,
// with the whole of the selected event below the list.
package journalview

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/ui/localname"
)

// Source is what the panel reads; *journalstore.Store implements it.
// Query is called from the panel's own goroutine only.
type Source interface {
	Query(ctx context.Context, q journalstore.Query) ([]journal.Event, error)
}

// Options are what the panel needs besides the journal.
type Options struct {
	// Do runs a UI update on the Fyne goroutine; nil means fyne.Do.
	Do func(func())
	// Interval is how often a live list asks for new events; 0: a second.
	Interval time.Duration
}

// shownLimit bounds the events listed: the newest ones of the conditions.
const shownLimit = 500

// Panel is the Journal panel. Create it with New, add it to the window,
// then run Serve until the window closes.
type Panel struct {
	src      Source
	do       func(func())
	interval time.Duration
	kick     chan struct{} // asks Serve for a query now
	cond     atomic.Pointer[conditions]

	client  *widget.Entry
	kind    *widget.Select
	span    *widget.Select
	live    *widget.Check
	table   *widget.Table
	status  *widget.Label
	detail  *widget.Label
	content fyne.CanvasObject

	// Owned by the UI goroutine.
	events   []journal.Event
	selected uint64 // Seq of the selected event, 0: none
}

// conditions are the filters as the UI goroutine last set them.
type conditions struct {
	client string
	kinds  []journal.Kind
	span   time.Duration // 0: all time
	live   bool
}

// New builds the panel on src.
func New(src Source, opts Options) *Panel {
	p := &Panel{src: src, do: opts.Do, interval: opts.Interval, kick: make(chan struct{}, 1)}
	if p.do == nil {
		p.do = fyne.Do
	}
	if p.interval <= 0 {
		p.interval = time.Second
	}
	p.build()
	p.conditionsChanged()
	return p
}

func (p *Panel) Title() string              { return lang.L("Journal") }
func (p *Panel) Icon() fyne.Resource        { return theme.HistoryIcon() }
func (p *Panel) Content() fyne.CanvasObject { return p.content }

// ShowClient lists one client's sessions: the Broker panel's client detail
// and a captured message's publisher open the journal this way. Call it
// on the UI goroutine.
func (p *Panel) ShowClient(id string) {
	p.kind.SetSelectedIndex(0)
	p.client.SetText(id) // OnChanged asks for the query
}

// Serve queries the journal when the conditions change and, while live,
// every interval, until ctx ends.
func (p *Panel) Serve(ctx context.Context) error {
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.kick:
		case <-tick.C:
			if c := p.cond.Load(); c != nil && c.live {
				// Only while the panel is shown: hidden tabs are hidden.
				p.do(func() {
					if p.content.Visible() {
						p.askQuery()
					}
				})
			}
			continue
		}
		p.query(ctx)
	}
}

func (p *Panel) query(ctx context.Context) {
	c := p.cond.Load()
	q := journalstore.Query{Client: c.client, Kinds: c.kinds, Newest: true, Limit: shownLimit}
	if c.span > 0 {
		q.Since = time.Now().Add(-c.span)
	}
	evs, err := p.src.Query(ctx, q)
	if ctx.Err() != nil {
		return
	}
	p.do(func() {
		if p.cond.Load() != c {
			return // the conditions changed meanwhile: their own query follows
		}
		if err != nil {
			p.status.SetText(lang.L("Cannot read the journal") + ": " + err.Error())
			return
		}
		p.show(evs, c)
	})
}

// conditionsChanged reads the filters and asks for a query; UI goroutine.
func (p *Panel) conditionsChanged() {
	c := &conditions{client: localname.Name(strings.TrimSpace(p.client.Text)), live: p.live.Checked}
	if i := p.kind.SelectedIndex(); i > 0 {
		c.kinds = []journal.Kind{journal.Kinds[i-1]}
	}
	c.span = spans()[max(p.span.SelectedIndex(), 0)].d
	p.cond.Store(c)
	p.askQuery()
}

// askQuery asks Serve for a query now (once, however often asked).
func (p *Panel) askQuery() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// show lists evs, keeping the selection where that event is still listed.
func (p *Panel) show(evs []journal.Event, c *conditions) {
	p.events = evs
	p.table.Refresh()
	row := -1
	for i, ev := range evs {
		if ev.Seq == p.selected {
			row = i
		}
	}
	if row < 0 {
		p.selected = 0
		p.table.UnselectAll()
		p.detail.SetText(lang.L("Select an event to see all of it."))
	}
	p.status.SetText(describe(len(evs), c))
}

// describe says what the list shows.
func describe(n int, c *conditions) string {
	s := lang.N("{{.Count}} events", n, map[string]any{"Count": n})
	if n >= shownLimit {
		s = lang.L("the newest") + " " + s
	}
	if c.client != "" {
		s += " · " + lang.L("client") + " " + localname.Label(c.client)
	}
	if c.live {
		s += " · " + lang.L("live")
	}
	return s
}

// span is a choice of how far back to list.
type span struct {
	label string
	d     time.Duration
}

// spans are made when the panel is: the translations are registered after
// package initialisation.
func spans() []span {
	return []span{
		{lang.L("Last 15 minutes"), 15 * time.Minute},
		{lang.L("Last hour"), time.Hour},
		{lang.L("Last 24 hours"), 24 * time.Hour},
		{lang.L("Last 7 days"), 7 * 24 * time.Hour},
		{lang.L("All time"), 0},
	}
}

// kindLabels are the kind choices' words, index i+1 for journal.Kinds[i].
func kindLabels() []string {
	out := []string{lang.L("All events")}
	for _, k := range journal.Kinds {
		out = append(out, kindWord(k))
	}
	return out
}

func kindWord(k journal.Kind) string {
	switch k {
	case journal.Connect:
		return lang.L("Connected")
	case journal.Refused:
		return lang.L("Refused")
	case journal.Disconnect:
		return lang.L("Disconnected")
	case journal.Subscribe:
		return lang.L("Subscribed")
	case journal.Unsubscribe:
		return lang.L("Unsubscribed")
	case journal.Denied:
		return lang.L("ACL denied")
	case journal.Remote:
		return lang.L("Connection state")
	}
	return string(k)
}

// formatTime shows today's events by time, older ones with their date.
func formatTime(t, now time.Time) string {
	t = t.Local()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05.000")
	}
	return t.Format("2006-01-02 15:04:05")
}

// clientText is an event's client: its client ID, or for a connection's
// state the connection as the window names it (the Local broker's
// translated, as the filter reads it back).
func clientText(ev journal.Event) string {
	if ev.Kind == journal.Remote {
		return localname.Label(ev.Client)
	}
	return ev.Client
}

// detailText is the whole of an event, one field a line.
func detailText(ev journal.Event) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line(lang.L("Time"), ev.Time.Local().Format("2006-01-02 15:04:05.000 MST"))
	line(lang.L("Event"), kindWord(ev.Kind))
	line(lang.L("Client"), clientText(ev))
	line(lang.L("User"), ev.User)
	line(lang.L("Address"), ev.Remote)
	line(lang.L("Listener"), ev.Listener)
	line(lang.L("Details"), summaryText(ev))
	return strings.TrimRight(b.String(), "\n")
}
