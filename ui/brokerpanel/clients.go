package brokerpanel

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/numfmt"
	"github.com/iotstudio/iotstudio/ui/tablefit"
)

// Client table columns; the last one holds the Disconnect button.
const (
	colID = iota
	colAddress
	colProtocol
	colSince
	colSubs
	colInflight
	colAction
	numCols
)

// colTitle is column c's heading in the window's language; the last
// column (the Disconnect buttons) has none.
func colTitle(c int) string {
	if colTitles[c] == "" {
		return ""
	}
	return lang.L(colTitles[c])
}

var colTitles = [numCols]string{"Client ID", "Address", "Protocol", "Connected since", "Subscriptions", "Inflight / queued", ""}

// colContent is the least each column is given whatever its heading: the
// address an IPv4 one with its port. The protocol column also fits
// "MQTT 3.1.1" (protocolWidth). The client ID grows by up to
// idGrows from what is left, to fit the app's own connections, "Local
// broker (iotstudio-0123abcd)", when the panel has room.
var colContent = [numCols]float32{200, 130, 80, 100, 0, 100, 0}

const idGrows = 40

// columnWidths fit the table to its width in the language shown: each
// column as wide as its heading, its colContent or (the last) the
// Disconnect button, whichever is widest; what is left widens the client
// ID (by up to idGrows), then Subscriptions, often long anyway. Fixed widths made the Russian table scroll
// sideways and cut Disconnect off at the default 1100 px window.
func columnWidths(width, gap float32) []float32 {
	var titles [numCols]string
	for c := range numCols {
		titles[c] = colTitle(c)
	}
	return columnWidthsFor(titles, lang.L("Disconnect"), width, gap)
}

// columnWidthsFor is columnWidths with the headings and the button's text
// given, for tests in another language.
func columnWidthsFor(titles [numCols]string, disconnect string, width, gap float32) []float32 {
	ws := make([]float32, numCols)
	used := float32(0)
	for c := range numCols {
		ws[c] = max(colContent[c], tablefit.HeadingWidth(titles[c]))
		if c == colProtocol {
			ws[c] = max(ws[c], protocolWidth())
		}
		if c == colAction {
			ws[c] = max(ws[c], widget.NewButtonWithIcon(disconnect, theme.CancelIcon(), nil).MinSize().Width)
		}
		if c != colSubs {
			used += ws[c]
		}
	}
	used += float32(numCols) * gap
	if extra := width - used - ws[colSubs]; extra > 0 {
		grow := min(extra, idGrows)
		ws[colID] += grow
		ws[colSubs] += extra - grow
	}
	return ws
}

// protocolWidth fits the longest protocol name a client can have.
func protocolWidth() float32 {
	w := float32(0)
	for _, level := range []byte{3, 4, 5} {
		w = max(w, tablefit.TextWidth(message.ProtocolName(level)))
	}
	return w
}

// clientRow is one client as the table shows it.
type clientRow struct {
	id        string
	connected bool
	cells     [colAction]string
}

// newClientRow shows c; name is the app's connection it is, or "".
func newClientRow(c broker.ClientInfo, name string) clientRow {
	since := numfmt.Time(c.ConnectedSince)
	if !c.Connected {
		since = lang.L("offline")
	}
	filters := make([]string, len(c.Subscriptions))
	for i, s := range c.Subscriptions {
		filters[i] = s.Filter
	}
	id := c.ID
	switch {
	case name != "" && c.Username != "":
		id = name + " (" + c.ID + ", " + c.Username + ")"
	case name != "":
		id = name + " (" + c.ID + ")"
	case c.Username != "":
		id += " (" + c.Username + ")"
	}
	return clientRow{id: c.ID, connected: c.Connected, cells: [colAction]string{
		colID:       id,
		colAddress:  c.Address,
		colProtocol: message.ProtocolName(c.ProtocolVersion),
		colSince:    since,
		colSubs:     strings.Join(filters, ", "),
		colInflight: strconv.Itoa(c.Inflight) + " / " + strconv.Itoa(c.Queued),
	}}
}

// clientTable lists clients with a Disconnect action per row.
type clientTable struct {
	table        *widget.Table
	rows         []clientRow
	onDisconnect func(id string)
	onSelect     func(id string) // nil: selecting a row does nothing
}

func newClientTable(onDisconnect func(id string)) *clientTable {
	ct := &clientTable{onDisconnect: onDisconnect}
	t := widget.NewTable(
		func() (int, int) { return len(ct.rows), numCols },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			b := widget.NewButtonWithIcon(lang.L("Disconnect"), theme.CancelIcon(), nil)
			b.Importance = widget.LowImportance
			return container.NewStack(l, b)
		},
		ct.updateCell,
	)
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < numCols {
			o.(*widget.Label).SetText(colTitle(id.Col))
		}
	}
	t.OnSelected = func(id widget.TableCellID) {
		t.UnselectAll() // a click, not a state: the next one on the same row works too
		if ct.onSelect != nil && id.Col != colAction && id.Row >= 0 && id.Row < len(ct.rows) {
			ct.onSelect(ct.rows[id.Row].id)
		}
	}
	ct.table = t
	return ct
}

func (ct *clientTable) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	if id.Row < 0 || id.Row >= len(ct.rows) {
		return
	}
	row := ct.rows[id.Row]
	objs := o.(*fyne.Container).Objects
	label, button := objs[0].(*widget.Label), objs[1].(*widget.Button)
	if id.Col == colAction {
		label.Hide()
		clientID := row.id
		button.OnTapped = func() { ct.onDisconnect(clientID) }
		setEnabled(button, row.connected)
		button.Show()
		return
	}
	button.Hide()
	label.SetText(row.cells[id.Col])
	label.Show()
}

// update shows clients, the app's own by their connection's name (names,
// by client ID), refreshing only the rows that changed.
func (ct *clientTable) update(clients []broker.ClientInfo, names map[string]string) {
	rows := make([]clientRow, len(clients))
	for i, c := range clients {
		rows[i] = newClientRow(c, names[c.ID])
	}
	old := ct.rows
	ct.rows = rows
	if len(old) != len(rows) {
		ct.table.Refresh()
		return
	}
	for r := range rows {
		if rows[r] == old[r] {
			continue
		}
		for c := range numCols {
			ct.table.RefreshItem(widget.TableCellID{Row: r, Col: c})
		}
	}
}
