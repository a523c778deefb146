package connections

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/msgline"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// row shows one profile: what it is, its live state, and its actions.
type row struct {
	box                        *fyne.Container
	name, where, state         *widget.Label
	errText, note              *widget.Label
	msgs                       *fyne.Container // errText and note, in lines kept while the connection is open
	connect, edit, dup, remove *widget.Button
	// publish holds a button per publish template of the profile, shown
	// when there are some and the window can open the Publish panel.
	publish      *fyne.Container
	publishShown string // the templates the buttons were made for
}

func newRow(p *Panel, id string) *row {
	r := &row{
		name:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		where:   widget.NewLabel(""),
		state:   widget.NewLabel(""),
		errText: widget.NewLabel(""),
		note:    widget.NewLabel(""),
	}
	r.errText.Wrapping, r.note.Wrapping = fyne.TextWrapWord, fyne.TextWrapWord
	r.errText.Importance, r.note.Importance = widget.DangerImportance, widget.DangerImportance
	r.connect = widget.NewButtonWithIcon(lang.L("Connect"), theme.MediaPlayIcon(), func() { p.onConnect(id) })
	r.edit = widget.NewButtonWithIcon(lang.L("Edit…"), theme.DocumentCreateIcon(), func() { p.onEdit(id) })
	r.dup = widget.NewButtonWithIcon(lang.L("Duplicate…"), theme.ContentCopyIcon(), func() { p.onDuplicate(id) })
	r.remove = widget.NewButtonWithIcon(lang.L("Delete"), theme.DeleteIcon(), func() { p.onDelete(id) })
	actions := container.NewHBox(r.connect, r.edit, r.dup, r.remove)
	head := container.NewBorder(nil, nil, nil, actions, container.NewHBox(r.name, r.state))
	// Two lines are kept for a connection's error while it is open, so
	// that the rows below do not jump each time it retries; a closed
	// connection shows no error and gives them back.
	r.msgs = msgline.Reserve(2, r.errText, r.note)
	r.publish = container.NewHBox()
	r.publish.Hide()
	r.box = container.NewVBox(head, r.where, r.publish, r.msgs)
	return r
}

// update shows pr with its current status; on the UI goroutine.
func (r *row) update(p *Panel, pr client.Profile) {
	st, open := p.status[pr.Name]
	open = open && st.State != client.StateDisconnected
	r.name.SetText(localname.Label(pr.Name))
	where := pr.URL
	if pr.ID == LocalID {
		where = lang.L("the embedded broker")
		if open {
			where += lang.L(" at ") + st.URL
		}
	}
	where += " · " + protocolText(pr, st, open)
	if open {
		where += fmt.Sprintf(lang.L(" · %s received · %s dropped"), numfmt.Count(st.Received), numfmt.Count(st.Dropped))
	}
	r.where.SetText(where)
	text, errText := describe(st, open)
	r.state.SetText(text)
	r.state.Importance = stateImportance(st, open)
	r.state.Refresh()
	setShown(r.errText, errText)
	setShown(r.note, p.notes[pr.ID])
	if open || r.note.Visible() {
		r.msgs.Show()
	} else {
		r.msgs.Hide()
	}
	if open {
		r.connect.SetText(lang.L("Disconnect"))
		r.connect.SetIcon(theme.MediaStopIcon())
	} else {
		r.connect.SetText(lang.L("Connect"))
		r.connect.SetIcon(theme.MediaPlayIcon())
	}
	enable(r.connect, !p.busy[pr.ID])
	// An edit of an open connection applies by reconnecting (see
	// onSave); deleting it under it would leave a connection the list
	// no longer shows.
	enable(r.edit, !p.busy[pr.ID])
	enable(r.remove, !open && !p.busy[pr.ID] && pr.ID != LocalID)
	r.showTemplates(p, pr)
}

// showTemplates offers a Publish button per template: it opens the
// Publish panel on this connection and the template's topic.
func (r *row) showTemplates(p *Panel, pr client.Profile) {
	key := pr.Name
	for _, tm := range pr.Templates {
		key += "\x00" + tm.Name + "\x00" + tm.Topic
	}
	if key == r.publishShown {
		return
	}
	r.publishShown = key
	r.publish.RemoveAll()
	if len(pr.Templates) == 0 || p.opts.PublishTo == nil {
		r.publish.Hide()
		return
	}
	r.publish.Add(widget.NewLabel(lang.L("Publish to:")))
	for _, tm := range pr.Templates {
		name, topic := pr.Name, tm.Topic
		b := widget.NewButtonWithIcon(tm.Name+"…", theme.MailSendIcon(), func() { p.opts.PublishTo(name, topic) })
		r.publish.Add(b)
	}
	r.publish.Show()
}

// protocolText is the protocol the connection speaks while it is open
// (and whether it was chosen automatically), else the profile's setting.
func protocolText(pr client.Profile, st client.Status, open bool) string {
	switch {
	case open && st.AutoProtocol:
		return fmt.Sprintf(lang.L("MQTT %s (chosen automatically)"), st.Protocol)
	case open:
		return "MQTT " + string(st.Protocol)
	case pr.Protocol == client.ProtocolAuto:
		return lang.L("automatic protocol (MQTT 5, else 3.1.1)")
	}
	return "MQTT " + string(pr.Protocol)
}

// describe words a connection's state, and the last error while it
// retries.
func describe(st client.Status, open bool) (state, errText string) {
	if !open {
		return lang.L("Disconnected"), ""
	}
	switch st.State {
	case client.StateConnecting:
		return lang.L("Connecting…"), ""
	case client.StateConnected:
		return lang.L("Connected as ") + st.ClientID, ""
	case client.StateReconnecting:
		tries := lang.L("1 attempt")
		if st.Attempts != 1 {
			tries = fmt.Sprintf(lang.L("%d attempts"), st.Attempts)
		}
		state = fmt.Sprintf(lang.L("Reconnecting (%s failed)"), tries)
		if st.LastError != nil {
			errText = lang.L("Last error: ") + st.LastError.Error()
		}
		return state, errText
	}
	return lang.L("Disconnected"), ""
}

func stateImportance(st client.Status, open bool) widget.Importance {
	switch {
	case !open:
		return widget.LowImportance
	case st.State == client.StateConnected:
		return widget.SuccessImportance
	case st.State == client.StateReconnecting:
		return widget.WarningImportance
	}
	return widget.MediumImportance
}

func setShown(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

func enable(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}
