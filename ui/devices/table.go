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

	"github.com/iotstudio/iotstudio/ui/numfmt"
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
	// Sent is 110 px wide: 90 cut its Russian heading, "Отправлено".
	colWidths = [numCols]float32{120, 160, 110, 110, 260}
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
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row >= len(p.rows) {
				l.SetText("")
				return
			}
			l.SetText(cellText(p.rows[id.Row], id.Col))
		},
	)
	d.table.ShowHeaderColumn = false
	d.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	d.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < numCols {
			o.(*widget.Label).SetText(colTitle(id.Col))
		}
	}
	for i, w := range colWidths {
		d.table.SetColumnWidth(i, w)
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
	cmd := container.NewVBox(
		container.NewBorder(nil, nil, nil, d.send, container.NewGridWithColumns(2, d.topic, d.payload)),
		d.result,
	)
	head := container.NewBorder(nil, nil, nil, d.kill, d.title)
	pane := container.NewBorder(head, cmd, nil, nil, body)
	list := container.NewBorder(d.head, nil, nil, nil, d.table)
	split := container.NewHSplit(list, pane)
	split.Offset = 0.6
	p.showDetail(detail{})
	return split
}

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
