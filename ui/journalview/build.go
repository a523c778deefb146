package journalview

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/journal"
	"github.com/iotstudio/iotstudio/ui/tablefit"
)

// columnHeadings are the list's columns: the time, the event, the
// client, the rest.
func columnHeadings() []string {
	return []string{lang.L("Time"), lang.L("Event"), lang.L("Client"), lang.L("Details")}
}

// columnWidths fit the list to its width in the language shown: the time
// fits a date with its time, the event its longest word, the client a
// generated client ID, each at least its heading, and Details takes the
// rest. Fixed widths (1,160 px) made it scroll sideways at 1100 px.
func columnWidths(width, gap float32) []float32 {
	heads := columnHeadings()
	ws := []float32{170, 0, 220, 0}
	for _, k := range kindLabels() {
		ws[1] = max(ws[1], tablefit.TextWidth(k))
	}
	used := float32(len(ws)) * gap
	for i, h := range heads {
		ws[i] = max(ws[i], tablefit.HeadingWidth(h))
		if i < len(ws)-1 {
			used += ws[i]
		}
	}
	ws[3] = max(ws[3], width-used)
	return ws
}

func (p *Panel) build() {
	p.client = widget.NewEntry()
	p.client.SetPlaceHolder(lang.L("Client ID (all clients when empty)"))

	p.kind = widget.NewSelect(kindLabels(), nil)
	p.kind.SetSelectedIndex(0)
	var spanLabels []string
	for _, s := range spans() {
		spanLabels = append(spanLabels, s.label)
	}
	p.span = widget.NewSelect(spanLabels, nil)
	p.span.SetSelectedIndex(2) // the last 24 hours
	p.live = widget.NewCheck(lang.L("Live"), nil)
	p.live.SetChecked(true)
	// Only now: setting the first choices above must not query yet.
	p.client.OnChanged = func(string) { p.conditionsChanged() }
	p.kind.OnChanged = func(string) { p.conditionsChanged() }
	p.span.OnChanged = func(string) { p.conditionsChanged() }
	p.live.OnChanged = func(bool) { p.conditionsChanged() }

	p.table = widget.NewTable(
		func() (int, int) { return len(p.events), len(columnHeadings()) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		p.updateCell,
	)
	p.table.ShowHeaderRow = true
	p.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	heads := columnHeadings()
	p.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(heads[id.Col]) }
	p.table.OnSelected = func(id widget.TableCellID) {
		if id.Row < 0 || id.Row >= len(p.events) {
			return
		}
		ev := p.events[id.Row]
		p.selected = ev.Seq
		p.detail.SetText(detailText(ev))
	}

	p.status = widget.NewLabel("")
	p.detail = widget.NewLabel(lang.L("Select an event to see all of it."))
	p.detail.Wrapping = fyne.TextWrapWord
	p.detail.Selectable = true

	// Selects are as wide as their choices' longest word, in any language.
	bar := container.NewBorder(nil, nil, nil,
		container.NewHBox(fitChoices(p.kind), fitChoices(p.span), p.live),
		p.client)
	bottom := container.NewVBox(widget.NewSeparator(), p.detail, p.status)
	p.content = container.NewBorder(bar, bottom, nil, nil, tablefit.Fit(p.table, columnWidths))
}

func (p *Panel) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	if id.Row >= len(p.events) {
		l.SetText("")
		return
	}
	ev := p.events[id.Row]
	switch id.Col {
	case 0:
		l.SetText(formatTime(ev.Time, time.Now()))
	case 1:
		l.SetText(kindWord(ev.Kind))
		l.Importance = importance(ev)
	case 2:
		l.SetText(clientText(ev))
	default:
		l.SetText(summaryText(ev))
	}
	if id.Col != 1 {
		l.Importance = widget.MediumImportance
	}
	l.Refresh()
}

// importance colours the events a user looks for when something broke:
// refusals and denials, and sessions that ended without a DISCONNECT.
func importance(ev journal.Event) widget.Importance {
	switch ev.Kind {
	case journal.Refused, journal.Denied:
		return widget.DangerImportance
	case journal.Disconnect:
		if ev.Cause != journal.CauseClient && ev.Cause != journal.CauseShutdown {
			return widget.WarningImportance
		}
	case journal.Connect:
		return widget.SuccessImportance
	}
	return widget.MediumImportance
}

// fitChoices sizes a select to its longest choice: Fyne sizes it to the
// one selected, which cut "Last 24 hours" in the window.
func fitChoices(s *widget.Select) fyne.CanvasObject {
	w := float32(0)
	for _, o := range s.Options {
		w = max(w, fyne.MeasureText(o, theme.TextSize(), fyne.TextStyle{}).Width)
	}
	// The select's own padding and its drop-down arrow.
	w += 2*theme.InnerPadding() + theme.IconInlineSize() + theme.Padding()*2
	return container.NewGridWrap(fyne.NewSize(max(w, s.MinSize().Width), s.MinSize().Height), s)
}
