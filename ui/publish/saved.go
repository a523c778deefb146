package publish

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/saved"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/msgline"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

type savedWidgets struct {
	collection *widget.SelectEntry
	name       *widget.Entry
	save       *widget.Button
	note       *widget.Label
	list       *widget.List
	deleteDlg  *dialog.ConfirmDialog // the open delete confirmation, for tests
	histList   *widget.List
	histNote   *widget.Label
}

// savedRow is one saved message in the list.
type savedRow struct {
	collection string
	msg        saved.Message
}

func (p *Panel) buildSaved() fyne.CanvasObject {
	s := &p.saved
	s.collection = widget.NewSelectEntry(nil)
	s.collection.SetPlaceHolder(lang.L("collection, e.g. kitchen lamp"))
	s.name = widget.NewEntry()
	s.name.SetPlaceHolder(lang.L("message name, e.g. turn on"))
	s.save = widget.NewButtonWithIcon(lang.L("Save message"), theme.DocumentSaveIcon(), p.onSave)
	s.note = widget.NewLabel("")
	s.note.Wrapping = fyne.TextWrapWord
	s.note.Hide()
	if p.store == nil {
		showMessage(s.note, p.noStoreText(), widget.WarningImportance)
	}
	s.list = widget.NewList(
		func() int { return len(p.savedRows) },
		func() fyne.CanvasObject { return newSavedRowView() },
		func(id widget.ListItemID, o fyne.CanvasObject) { p.bindSavedRow(id, o.(*savedRowView)) },
	)
	head := container.NewVBox(
		labelled(widget.NewLabel(lang.L("Collection")), s.collection, widget.NewLabel(lang.L("Name")), s.name),
		s.save,
		// A line kept for "Saved…" and "Deleted…": the list holds still.
		msgline.Reserve(1, s.note),
		widget.NewSeparator(),
	)
	return container.NewBorder(head, nil, nil, nil, s.list)
}

func (p *Panel) buildHistory() fyne.CanvasObject {
	s := &p.saved
	s.histNote = widget.NewLabel(lang.L("Recent publishes, newest first. Select one to load it into the form."))
	s.histNote.Wrapping = fyne.TextWrapWord
	if p.history == nil {
		showMessage(s.histNote, p.noStoreText(), widget.WarningImportance)
	}
	s.histList = widget.NewList(
		func() int { return len(p.histRows) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(p.histRows) {
				o.(*widget.Label).SetText(historyText(p.histRows[id]))
			}
		},
	)
	s.histList.OnSelected = func(id widget.ListItemID) {
		if id < len(p.histRows) {
			e := p.histRows[id]
			p.loadMessage(e.Message)
			// Entries from "iotstudio saved publish" name a URL, not an
			// open connection: then the selection stays.
			if _, open := p.statuses[e.Connection]; open {
				p.form.conn.SetSelected(localname.Label(e.Connection))
			}
		}
		s.histList.UnselectAll()
	}
	return container.NewBorder(s.histNote, nil, nil, nil, s.histList)
}

func (p *Panel) noStoreText() string {
	if p.storeErr != nil {
		return lang.L("Saved messages and history are off: ") + p.storeErr.Error()
	}
	return lang.L("Saved messages and history are off: no data directory.")
}

func historyText(e saved.Entry) string {
	s := fmt.Sprintf("%s  %s  %s", e.Time.Format(numfmt.LayoutDaySecond()), localname.Label(e.Connection), e.Message.Topic)
	if e.Count > 1 {
		s += fmt.Sprintf("  ×%d", e.Count)
	}
	return s
}

func (p *Panel) onSave() {
	s := &p.saved
	m, errs := p.formMessage()
	if errs.any() || p.store == nil {
		p.validate()
		return
	}
	col, name := strings.TrimSpace(s.collection.Text), strings.TrimSpace(s.name.Text)
	_, replaced := p.store.Find(col, name)
	if err := p.store.Put(col, saved.FromClient(name, p.format.fileName(), m)); err != nil {
		showMessage(s.note, lang.L("Not saved: ")+err.Error(), widget.DangerImportance)
		return
	}
	text := fmt.Sprintf(lang.L("Saved as %s/%s."), col, name)
	if replaced {
		text = fmt.Sprintf(lang.L("Saved as %s/%s, replacing the earlier one."), col, name)
	}
	showMessage(s.note, text, widget.SuccessImportance)
	p.refreshSaved()
}

func (p *Panel) refreshSaved() {
	p.savedRows = p.savedRows[:0]
	var names []string
	if p.store != nil {
		for _, c := range p.store.Collections() {
			names = append(names, c.Name)
			for _, m := range c.Messages {
				p.savedRows = append(p.savedRows, savedRow{collection: c.Name, msg: m})
			}
		}
	}
	p.saved.collection.SetOptions(names)
	p.saved.list.Refresh()
}

func (p *Panel) refreshHistory() {
	p.histRows = nil
	if p.history != nil {
		p.histRows = p.history.Entries()
	}
	p.saved.histList.Refresh()
}

func (p *Panel) bindSavedRow(id widget.ListItemID, v *savedRowView) {
	if id >= len(p.savedRows) {
		return
	}
	r := p.savedRows[id]
	v.label.SetText(r.collection + " / " + r.msg.Name)
	v.topic.SetText("→ " + r.msg.Topic)
	v.publish.OnTapped = func() { p.publishSaved(r.msg) }
	v.load.OnTapped = func() {
		p.loadMessage(r.msg)
		p.saved.collection.SetText(r.collection)
		p.saved.name.SetText(r.msg.Name)
	}
	v.del.OnTapped = func() { p.confirmDelete(r) }
}

func (p *Panel) confirmDelete(r savedRow) {
	del := func(ok bool) {
		p.saved.deleteDlg = nil
		if !ok {
			return
		}
		if err := p.store.Delete(r.collection, r.msg.Name); err != nil {
			showMessage(p.saved.note, lang.L("Not deleted: ")+err.Error(), widget.DangerImportance)
			return
		}
		showMessage(p.saved.note, fmt.Sprintf(lang.L("Deleted %s/%s."), r.collection, r.msg.Name), widget.MediumImportance)
		p.refreshSaved()
	}
	if p.win == nil {
		del(true)
		return
	}
	d := dialog.NewConfirm(lang.L("Delete saved message"),
		fmt.Sprintf(lang.L("Delete %s/%s (topic %s)? This cannot be undone."), r.collection, r.msg.Name, r.msg.Topic), del, p.win)
	d.SetConfirmText(lang.L("Delete"))
	d.SetConfirmImportance(widget.DangerImportance)
	p.saved.deleteDlg = d
	d.Show()
}

// savedRowView is a saved message's row: its name and the actions on it,
// and under them its topic. On one line, beside the three buttons in the
// side pane of a 1100 px window, name and topic were cut after ~20
// characters.
type savedRowView struct {
	widget.BaseWidget
	label, topic       *widget.Label
	publish, load, del *widget.Button
}

func newSavedRowView() *savedRowView {
	v := &savedRowView{
		label:   widget.NewLabel(""),
		topic:   widget.NewLabel(""),
		publish: widget.NewButtonWithIcon(lang.X("button.publish", "Publish"), theme.MailSendIcon(), nil),
		load:    widget.NewButtonWithIcon(lang.L("Load"), theme.DocumentIcon(), nil),
		del:     widget.NewButtonWithIcon("", theme.DeleteIcon(), nil),
	}
	v.label.Truncation = fyne.TextTruncateEllipsis
	v.label.TextStyle = fyne.TextStyle{Bold: true}
	v.topic.Truncation = fyne.TextTruncateEllipsis
	v.ExtendBaseWidget(v)
	return v
}

func (v *savedRowView) CreateRenderer() fyne.WidgetRenderer {
	head := container.NewBorder(nil, nil, nil, container.NewHBox(v.publish, v.load, v.del), v.label)
	return widget.NewSimpleRenderer(container.NewVBox(head, v.topic))
}
