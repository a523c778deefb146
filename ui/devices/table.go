package devices

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/density"
	"github.com/iotstudio/iotstudio/ui/numfmt"
	"github.com/iotstudio/iotstudio/ui/tablefit"
)

// Device table columns.
const (
	colID = iota
	colClient
	colState
	colSent
	colError
	numCols
)

// colTitle is column c's heading in the window's language. "ID" goes by
// another key: go-i18n reads a file with a key "ID" as one message (it
// is the field naming a message), which would drop the whole catalogue.
func colTitle(c int) string {
	if c == colID {
		return lang.X("devices.column.id", colTitles[c])
	}
	return lang.L(colTitles[c])
}

var (
	colTitles = [numCols]string{"ID", "Client ID", "State", "Sent", "Last error"}
	// colContent is the width kept for a column's cells besides its
	// heading: IDs like "energy-meter-12" whole; State and Sent measure
	// their words and numbers (columnWidths), Last error takes what is
	// left.
	colContent = [numCols]float32{105, 105, 0, 0, 0}
)

type deviceWidgets struct {
	head  *widget.Label
	table *widget.Table
	// the detail pane of the selected device
	title   *widget.Label
	state   *widget.Label
	last    *widget.Label
	topic   *widget.Entry
	payload *widget.Entry
	send    *widget.Button
	kill    *widget.Button
	result  *widget.Label
}

// detail is the selected device as one refresh read it.
type detail struct {
	id    string
	state map[string]any
	last  []PreviewMsg
}

func (p *Panel) buildDevices() fyne.CanvasObject {
	d := &p.dev
	d.head = widget.NewLabelWithStyle(lang.L("Devices"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(p.rows), numCols },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return density.NewTight(l)
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := cellLabel(o)
			if id.Row >= len(p.rows) {
				l.SetText("")
				return
			}
			l.SetText(cellText(p.rows[id.Row], id.Col))
		},
	)
	d.table.ShowHeaderColumn = false
	d.table.CreateHeader = func() fyne.CanvasObject { return density.NewTight(headLabel("")) }
	d.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < numCols {
			cellLabel(o).SetText(colTitle(id.Col))
		}
	}
	d.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(p.rows) {
			p.selectDevice(p.rows[id.Row].ID)
		}
	}

	d.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.title.Truncation = fyne.TextTruncateEllipsis
	d.state = widget.NewLabel("")
	d.state.TextStyle = fyne.TextStyle{Monospace: true}
	d.state.Wrapping = fyne.TextWrapBreak
	d.last = widget.NewLabel("")
	d.last.TextStyle = fyne.TextStyle{Monospace: true}
	d.last.Wrapping = fyne.TextWrapBreak
	d.topic = widget.NewEntry()
	d.topic.SetPlaceHolder(lang.L("command topic"))
	d.payload = widget.NewEntry()
	d.payload.SetPlaceHolder(lang.L("command payload")) // an example would not fit at 1100 px
	d.send = widget.NewButtonWithIcon(lang.L("Send"), theme.MailSendIcon(), p.onCommand)
	d.kill = widget.NewButtonWithIcon(lang.L("Kill (fires its will)"), theme.CancelIcon(), p.onKill)
	d.kill.Importance = widget.DangerImportance
	d.result = statusLabel()

	body := container.NewVScroll(container.NewVBox(
		caption(lang.L("State")), d.state,
		caption(lang.L("Last messages")), d.last,
	))
	// Send sits under the payload, beside its result: in the entries' row
	// it left them too narrow for their hints in Russian at 1100 × 720.
	cmd := container.NewVBox(
		container.NewGridWithColumns(2, d.topic, d.payload),
		container.NewBorder(nil, nil, nil, d.send, d.result),
	)
	head := container.NewBorder(nil, nil, nil, d.kill, d.title)
	pane := container.NewBorder(head, cmd, nil, nil, body)
	// Its columns fill its width so that the table scrolls
	// sideways only when the window is narrower than its headings.
	table := tablefit.Fit(d.table, func(width, gap float32) []float32 {
		ws := columnWidths(width, gap)
		return ws[:]
	})
	list := container.NewBorder(d.head, nil, nil, nil, table)
	split := container.NewHSplit(list, pane)
	split.Offset = 0.63
	p.showDetail(detail{})
	return split
}

// columnWidths are the device table's column widths for a table width
// wide, with sep between columns (the table's padding): each column
// holds its heading and colContent, State its longest word and Sent a
// million, each measured as its cell draws it, so that another language
// or text size still fits; Last error takes the rest. Fixed widths cut
// the Russian headings and made the table scroll sideways at 1100 × 720.
func columnWidths(wide, sep float32) [numCols]float32 {
	width := func(l *widget.Label) float32 { return density.NewTight(l).MinSize().Width + tablefit.Slack }
	var ws [numCols]float32
	for c := range numCols {
		ws[c] = max(colContent[c], width(headLabel(colTitle(c))))
	}
	for _, s := range []string{StateOnline, StateOffline, StateReconnecting} {
		ws[colState] = max(ws[colState], width(widget.NewLabel(stateText(s))))
	}
	ws[colSent] = max(ws[colSent], width(widget.NewLabel(numfmt.Count(maxCount))))
	var used float32
	for c := range colError {
		used += ws[c] + sep
	}
	ws[colError] = max(ws[colError], wide-used)
	return ws
}

// headLabel is a column's heading.
func headLabel(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// cellLabel is the label in a table cell or heading (drawn dense).
func cellLabel(o fyne.CanvasObject) *widget.Label { return o.(*density.Tight).Label }

func caption(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.SizeName = theme.SizeNameCaptionText
	return l
}

// stateText is a device state in the window's language.
func stateText(state string) string {
	switch state {
	case StateOnline:
		return lang.L("online")
	case StateOffline:
		return lang.L("offline")
	case StateReconnecting:
		return lang.L("reconnecting")
	}
	return state
}

func cellText(r DeviceRow, col int) string {
	switch col {
	case colID:
		return r.ID
	case colClient:
		return r.ClientID
	case colState:
		return stateText(r.State)
	case colSent:
		return numfmt.Count(r.Sent)
	case colError:
		return r.LastError
	}
	return ""
}

// showDevices shows p.rows.
func (p *Panel) showDevices() {
	d := &p.dev
	setText(d.head, lang.L("Devices (")+numfmt.Count(len(p.rows))+")")
	d.table.Refresh()
}

func (p *Panel) selectedID() string {
	_, id := p.shared()
	return id
}

// selectDevice shows id's detail: empty at once, filled by the next
// refresh.
func (p *Panel) selectDevice(id string) {
	if id == p.selectedID() {
		return
	}
	p.setSelected(id)
	setStatus(p.dev.result, "", widget.MediumImportance)
	p.showDetail(detail{id: id})
}

func (p *Panel) showDetail(dt detail) {
	d := &p.dev
	on := dt.id != "" && p.run != nil
	if !on {
		setText(d.title, lang.L("No device selected"))
		setText(d.state, lang.L("Select a device in the table."))
		setText(d.last, "")
	} else {
		setText(d.title, lang.L("Device ")+dt.id)
		setText(d.state, formatState(dt.state))
		setText(d.last, formatMessages(dt.last))
	}
	for _, w := range []fyne.Disableable{d.topic, d.payload, d.send, d.kill} {
		setEnabled(w, on && p.phase == running)
	}
}

// formatState lists a device's state as "key = JSON value", sorted.
func formatState(st map[string]any) string {
	if len(st) == 0 {
		return lang.L("(no state)")
	}
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("\n")
		}
		v, err := json.Marshal(st[k])
		if err != nil {
			v = fmt.Appendf(nil, "%v", st[k])
		}
		fmt.Fprintf(&b, "%s = %s", k, v)
	}
	return b.String()
}

func (p *Panel) onKill() {
	id, r := p.selectedID(), p.run
	if id == "" || r == nil {
		return
	}
	setStatus(p.dev.result, lang.L("Killing ")+id+"…", widget.MediumImportance)
	p.actions.Go(func(context.Context) {
		err := r.Kill(id)
		p.do(func() {
			if err != nil {
				setStatus(p.dev.result, lang.L("Not killed: ")+err.Error(), widget.DangerImportance)
				return
			}
			setStatus(p.dev.result, lang.L("Killed ")+id+lang.L(": the broker publishes its will."), widget.WarningImportance)
		})
	})
}

func (p *Panel) onCommand() {
	id, r := p.selectedID(), p.run
	topic, payload := strings.TrimSpace(p.dev.topic.Text), p.dev.payload.Text
	if id == "" || r == nil {
		return
	}
	if topic == "" {
		setStatus(p.dev.result, lang.L("Give the command a topic (one the device subscribes to)."), widget.DangerImportance)
		return
	}
	setStatus(p.dev.result, lang.L("Sending…"), widget.MediumImportance)
	p.actions.Go(func(context.Context) {
		err := r.Command(id, topic, payload)
		p.do(func() {
			if err != nil {
				setStatus(p.dev.result, lang.L("Not sent: ")+err.Error(), widget.DangerImportance)
				return
			}
			setStatus(p.dev.result, lang.L("Sent to ")+id+lang.L(" on ")+topic+".", widget.SuccessImportance)
		})
	})
}
