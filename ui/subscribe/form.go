package subscribe

import (
	"context"
	"fmt"
	"image/color"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/localname"
)

func (p *Panel) buildForm() {
	p.connSelect = widget.NewSelect(nil, func(label string) { p.onConnSelected(localname.Name(label)) })
	p.connSelect.PlaceHolder = lang.L("(no connection open)")
	p.connState = widget.NewLabel("")
	p.connState.Truncation = fyne.TextTruncateEllipsis

	p.filter = widget.NewEntry()
	p.filter.SetPlaceHolder(lang.L("e.g. sensors/+/temperature or sensors/#"))
	p.filter.OnChanged = p.onFilterChanged
	p.filter.OnSubmitted = func(string) { p.onSubscribe() }
	p.filterErr = widget.NewLabel("")
	p.filterErr.Importance = widget.DangerImportance
	p.filterErr.Wrapping = fyne.TextWrapWord
	p.filterErr.Hide()

	p.qos = widget.NewSelect(qosWords(), nil)
	p.qos.SetSelectedIndex(1)
	p.noLocal = widget.NewCheck(lang.L("No local"), nil)
	p.rap = widget.NewCheck(lang.L("Retain as published"), nil)
	p.retain = widget.NewSelect(retainWords(), nil)
	p.retain.SetSelectedIndex(0)
	p.v5Note = widget.NewLabel("")
	p.v5Note.Wrapping = fyne.TextWrapWord
	p.v5Note.Hide()
	p.subscribeBtn = widget.NewButtonWithIcon(lang.X("button.subscribe", "Subscribe"), theme.ContentAddIcon(), p.onSubscribe)
	p.subscribeBtn.Importance = widget.HighImportance
	p.formMsg = widget.NewLabel("")
	p.formMsg.Wrapping = fyne.TextWrapWord
	p.formMsg.Hide()
	p.subsBox = container.NewVBox()
}

// onFilterChanged validates as the user types; an empty box says nothing
// until Subscribe is pressed.
func (p *Panel) onFilterChanged(s string) {
	// The last answer was about the filter before: it gives its line to
	// this one's error.
	p.setLine(p.formMsg, "")
	if s == "" {
		p.setLine(p.filterErr, "")
		return
	}
	p.showFilterErr(message.CheckFilter(s))
}

func (p *Panel) showFilterErr(err error) {
	if err == nil {
		p.setLine(p.filterErr, "")
		return
	}
	p.setLine(p.filterErr, lang.L("Topic filter: ")+err.Error())
}

func (p *Panel) showFormMsg(msg string, importance widget.Importance) {
	p.formMsg.Importance = importance
	p.setLine(p.formMsg, msg)
}

// setLine shows text in one of the form's message lines, or hides the
// line when text is empty, and lays the panel out again: the line's
// height changed, and the top part of the panel only follows its content
// when told.
func (p *Panel) setLine(l *widget.Label, text string) {
	if text == "" {
		if !l.Visible() {
			return
		}
		l.Hide()
	} else {
		l.SetText(text)
		l.Show()
	}
	if p.top != nil {
		p.top.Refresh()
		p.content.Refresh()
	}
}

func (p *Panel) onConnSelected(name string) {
	if name == p.source {
		return
	}
	p.source = name
	p.in.set(func(k *viewKey, _ *bool) { k.source = name })
	p.selected = nil
	p.showDetail(nil)
	p.setLine(p.formMsg, "")
	p.showConn()
	p.poke()
}

// conn returns what the last refresh said of the selected connection.
func (p *Panel) conn() *connInfo {
	for i := range p.conns {
		if p.conns[i].status.Name == p.source {
			return &p.conns[i]
		}
	}
	return nil
}

// applyConns follows connections opened and closed.
func (p *Panel) applyConns() {
	names := make([]string, len(p.conns))
	for i, c := range p.conns {
		names[i] = c.status.Name
	}
	p.connSelect.SetOptions(localname.Labels(names))
	switch {
	case len(names) == 0:
		p.connSelect.ClearSelected()
		p.onConnSelected("")
	case !slices.Contains(names, p.source):
		p.connSelect.SetSelected(localname.Label(names[0])) // calls onConnSelected
	default:
		p.showConn()
	}
}

// showConn shows the selected connection's state, turns the MQTT 5
// options off for an MQTT 3.1.1 connection, and lists its subscriptions.
func (p *Panel) showConn() {
	c := p.conn()
	if c == nil {
		p.connState.SetText(lang.L("No connection is open: open one (the local broker, or another) to subscribe."))
		p.subscribeBtn.Disable()
		p.renderSubs(nil)
		return
	}
	p.connState.SetText(stateText(c.status))
	p.subscribeBtn.Enable()
	if c.status.Protocol == client.MQTT311 {
		p.noLocal.SetChecked(false)
		p.rap.SetChecked(false)
		p.retain.SetSelectedIndex(0)
		p.noLocal.Disable()
		p.rap.Disable()
		p.retain.Disable()
		p.v5Opts.Hide()
		p.setLine(p.v5Note, fmt.Sprintf(lang.L("No local, retain as published and retain handling are MQTT 5 options: %s speaks MQTT 3.1.1."), localname.Label(c.status.Name)))
	} else {
		p.noLocal.Enable()
		p.rap.Enable()
		p.retain.Enable()
		p.v5Opts.Show()
		p.setLine(p.v5Note, "")
	}
	p.renderSubs(c)
}

// subRow is one subscription in the list of the selected connection's.
type subRow struct {
	filter string
	swatch *canvas.Rectangle
	label  *widget.Label
	result *widget.Label
	button *widget.Button
}

// renderSubs lists the connection's subscriptions (whoever made them)
// with the broker's answer when this panel asked, then the filters the
// broker refused, until dismissed.
func (p *Panel) renderSubs(c *connInfo) {
	p.subRows = p.subRows[:0]
	var objs []fyne.CanvasObject
	if c != nil {
		name := c.status.Name
		answers := p.answers[name]
		heldNow := map[string]bool{}
		for _, h := range c.subs {
			heldNow[h.Filter] = true
			res := fmt.Sprintf(lang.L("QoS %d asked"), h.QoS)
			if a, ok := answers[h.Filter]; ok && !a.Refused {
				res = resultText(a)
			}
			r := p.newSubRow(h.Filter, colourOf(h.colour), h.Subscription, res, lang.L("Unsubscribe"), theme.ContentRemoveIcon())
			r.button.OnTapped = func() { p.onUnsubscribe(name, h.Filter) }
			objs = append(objs, p.subRowObject(r))
		}
		for _, f := range sortedKeys(answers) {
			a := answers[f]
			if !a.Refused || heldNow[f] {
				continue
			}
			r := p.newSubRow(f, noColourFill, client.Subscription{}, resultText(a), lang.L("Dismiss"), theme.CancelIcon())
			r.result.Importance = widget.DangerImportance
			r.button.OnTapped = func() {
				delete(p.answers[name], f)
				p.showConn()
			}
			objs = append(objs, p.subRowObject(r))
		}
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel(lang.L("No subscriptions yet.")))
	}
	p.subsBox.Objects = objs
	p.subsBox.Refresh()
}

func (p *Panel) newSubRow(filter string, fill color.Color, s client.Subscription, result, action string, icon fyne.Resource) *subRow {
	r := &subRow{filter: filter, swatch: canvas.NewRectangle(fill)}
	r.swatch.SetMinSize(fyne.NewSize(14, 14))
	text := filter
	if o := optionsText(s); o != "" {
		text += "  (" + o + ")"
	}
	r.label = widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	r.label.Truncation = fyne.TextTruncateEllipsis
	r.result = widget.NewLabel(result)
	r.result.Wrapping = fyne.TextWrapWord
	r.button = widget.NewButtonWithIcon(action, icon, nil)
	p.subRows = append(p.subRows, r)
	return r
}

func (p *Panel) subRowObject(r *subRow) fyne.CanvasObject {
	return container.NewBorder(nil, nil, container.NewCenter(r.swatch), r.button,
		container.NewGridWithColumns(2, r.label, r.result))
}

// formSubscription reads the form.
func (p *Panel) formSubscription() client.Subscription {
	return client.Subscription{
		Filter:            p.filter.Text,
		QoS:               byte(max(p.qos.SelectedIndex(), 0)),
		NoLocal:           p.noLocal.Checked,
		RetainAsPublished: p.rap.Checked,
		RetainHandling:    byte(max(p.retain.SelectedIndex(), 0)),
	}
}

// onSubscribe checks the form, then asks the broker in the background
// and shows its answer.
func (p *Panel) onSubscribe() {
	c := p.conn()
	if c == nil {
		p.showFormMsg(lang.L("Open a connection first: there is nothing to subscribe on."), widget.DangerImportance)
		return
	}
	sub := p.formSubscription()
	if err := client.CheckSubscription(sub, c.status.Protocol); err != nil {
		p.showFilterErr(err)
		return
	}
	p.setLine(p.filterErr, "")
	conn := p.mgr.Get(c.status.Name)
	if conn == nil {
		p.showFormMsg(fmt.Sprintf(lang.L("%s has been closed; choose another connection."), localname.Label(c.status.Name)), widget.DangerImportance)
		return
	}
	name := c.status.Name
	p.subscribeBtn.Disable()
	p.showFormMsg(fmt.Sprintf(lang.L("Subscribing to %s on %s…"), sub.Filter, localname.Label(name)), widget.MediumImportance)
	started := p.actions.run(func(ctx context.Context) {
		res, err := conn.Subscribe(ctx, sub)
		var keepErr error
		if err == nil && len(res) == 1 && !res[0].Refused && p.kept != nil {
			keepErr = p.kept.Keep(name, sub)
		}
		p.do(func() {
			p.subscribed(name, sub, res, err)
			p.keepFailed(keepErr)
		})
	})
	if !started {
		p.subscribeBtn.Enable()
		p.setLine(p.formMsg, "")
	}
}

// subscribed shows a SUBACK (or why there was none).
func (p *Panel) subscribed(name string, sub client.Subscription, res []client.SubResult, err error) {
	p.subscribeBtn.Enable()
	if err != nil {
		p.log.Info("subscribe failed", "connection", name, "filter", sub.Filter, "err", err)
		p.showFormMsg(fmt.Sprintf(lang.L("Could not subscribe to %s: %v"), sub.Filter, err), widget.DangerImportance)
		return
	}
	if len(res) != 1 {
		p.showFormMsg(fmt.Sprintf(lang.L("Could not subscribe to %s: the broker gave %d answers for 1 filter"), sub.Filter, len(res)), widget.DangerImportance)
		return
	}
	if p.answers[name] == nil {
		p.answers[name] = map[string]client.SubResult{}
	}
	p.answers[name][sub.Filter] = res[0]
	if res[0].Refused {
		p.showFormMsg(fmt.Sprintf(lang.L("%s refused %s: %s"), localname.Label(name), sub.Filter, res[0].Reason), widget.DangerImportance)
	} else {
		msg := fmt.Sprintf(lang.L("Subscribed to %s on %s: granted QoS %d"), sub.Filter, localname.Label(name), res[0].Granted)
		if res[0].Granted < sub.QoS {
			msg += fmt.Sprintf(lang.L(" (QoS %d asked; the broker lowered it)"), sub.QoS)
		}
		p.showFormMsg(msg, widget.SuccessImportance)
	}
	if name == p.source {
		p.showConn()
	}
}

func (p *Panel) onUnsubscribe(name, filter string) {
	conn := p.mgr.Get(name)
	if conn == nil {
		p.showFormMsg(fmt.Sprintf(lang.L("%s has been closed."), localname.Label(name)), widget.DangerImportance)
		return
	}
	p.actions.run(func(ctx context.Context) {
		err := conn.Unsubscribe(ctx, filter)
		var keepErr error
		if err == nil && p.kept != nil {
			keepErr = p.kept.Drop(name, filter)
		}
		p.do(func() {
			if err != nil {
				p.showFormMsg(fmt.Sprintf(lang.L("Could not unsubscribe from %s: %v"), filter, err), widget.DangerImportance)
				return
			}
			delete(p.answers[name], filter)
			p.showFormMsg(fmt.Sprintf(lang.L("Unsubscribed from %s on %s."), filter, localname.Label(name)), widget.MediumImportance)
			p.keepFailed(keepErr)
		})
	})
}

// keepFailed says, after the broker's answer, that the change could not
// be remembered for the next time the connection opens.
func (p *Panel) keepFailed(err error) {
	if err == nil {
		return
	}
	p.log.Warn("cannot remember the subscriptions for next time", "error", err)
	p.showFormMsg(p.formMsg.Text+lang.L(" Not remembered for next time: ")+err.Error(), widget.WarningImportance)
}

// restoreKept makes the kept subscriptions of each newly connected
// connection that it does not hold yet. A connection renews its own
// subscriptions when it reconnects, so each Connection is restored once;
// one opened again is a new Connection and is restored again.
func (p *Panel) restoreKept() {
	if p.kept == nil {
		return
	}
	open := map[string]bool{}
	for _, c := range p.conns {
		name := c.status.Name
		open[name] = true
		conn := p.mgr.Get(name)
		if conn == nil || c.status.State != client.StateConnected || p.restored[name] == conn {
			continue
		}
		p.restored[name] = conn
		p.actions.run(func(ctx context.Context) { p.resubscribe(ctx, name, conn) })
	}
	for name := range p.restored {
		if !open[name] {
			delete(p.restored, name)
		}
	}
}

// resubscribe makes name's kept subscriptions that conn does not hold, and
// shows the broker's answers as if they had been asked for here.
func (p *Panel) resubscribe(ctx context.Context, name string, conn *client.Connection) {
	kept, err := p.kept.For(name)
	if err != nil {
		p.do(func() { p.keepFailed(err) })
		return
	}
	held := conn.Subscriptions()
	for _, sub := range kept {
		if slices.ContainsFunc(held, func(h client.Subscription) bool { return h.Filter == sub.Filter }) {
			continue
		}
		if err := client.CheckSubscription(sub, conn.Profile().Protocol); err != nil {
			continue // kept on an MQTT 5 connection that is now 3.1.1: it stays kept for when it is 5 again
		}
		res, err := conn.Subscribe(ctx, sub)
		p.do(func() { p.subscribed(name, sub, res, err) })
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
