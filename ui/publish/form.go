package publish

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/saved"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/msgline"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// maxRepeat bounds one run, so that a typo (100000000) is refused rather
// than keeping a connection busy for a day.
const maxRepeat = 1_000_000

type formWidgets struct {
	conn      *widget.Select
	connState *widget.Label
	connErr   *widget.Label
	topic     *formEntry
	topicMsg  *widget.Label
	// topicTouched: the topic was edited, so an empty one is worth an
	// error rather than a red line on a form just opened.
	topicTouched bool
	formatSel    *widget.Select
	payload      *formEntry
	payErr       *widget.Label
	pretty       *widget.Button
	qos          *widget.RadioGroup
	retain       *widget.Check

	v5Note        *widget.Label
	v5Box         *fyne.Container
	contentType   *formEntry
	payloadFormat *widget.Select
	expiry        *formEntry
	respTopic     *formEntry
	correlation   *formEntry
	propsBox      *fyne.Container
	addProp       *widget.Button
	v5Err         *widget.Label

	count    *formEntry
	interval *formEntry
	rptErr   *widget.Label
	publish  *widget.Button
	stop     *widget.Button
	progress *widget.ProgressBar
	result   *widget.Label
}

// Payload format indicator choices [MQTT-3.3.2.3.2].
const (
	pfUnset = "Not set"
	pfBytes = "0: unspecified bytes"
	pfUTF8  = "1: UTF-8 text"
)

type userPropRow struct {
	key, value *formEntry
	box        *fyne.Container
}

func (p *Panel) buildForm() fyne.CanvasObject {
	f := &p.form
	f.conn = widget.NewSelect(nil, func(string) { p.onConnectionChanged() })
	f.conn.PlaceHolder = lang.L("(no connection open)")
	f.connState = widget.NewLabel("")
	f.connErr = errorLabel()
	f.topic = newFormEntry(p.publishByKey)
	f.topic.SetPlaceHolder(lang.L("e.g. home/kitchen/light/set"))
	f.topic.OnChanged = func(string) { f.topicTouched = true; p.validate() }
	f.topicMsg = errorLabel()

	names := make([]string, len(payloadFormats))
	for i, pf := range payloadFormats {
		names[i] = pf.label()
	}
	f.formatSel = widget.NewSelect(names, func(s string) { p.onFormatChanged(formatByLabel(s)) })
	f.pretty = widget.NewButtonWithIcon(lang.L("Pretty-print"), theme.ViewRefreshIcon(), p.onPretty)
	f.formatSel.SetSelected(formatText.label())
	f.payload = newFormMultiLineEntry(p.publishByKey)
	f.payload.SetMinRowsVisible(6)
	f.payload.TextStyle = fyne.TextStyle{Monospace: true}
	f.payload.OnChanged = func(string) { p.validate() }
	f.payErr = errorLabel()
	f.qos = widget.NewRadioGroup([]string{"0", "1", "2"}, func(string) { p.validate() })
	f.qos.Horizontal = true
	f.qos.Required = true
	f.qos.SetSelected("0")
	f.retain = widget.NewCheck(lang.L("Retain"), func(bool) { p.validate() })

	f.count = newFormEntry(p.publishByKey)
	f.count.SetText("1")
	f.count.OnChanged = func(string) { p.validate() }
	f.interval = newFormEntry(p.publishByKey)
	f.interval.SetText(numfmt.Duration(time.Second))
	f.interval.OnChanged = func(string) { p.validate() }
	f.rptErr = errorLabel()
	f.publish = widget.NewButtonWithIcon(lang.X("button.publish", "Publish"), theme.MailSendIcon(), p.onPublish)
	f.publish.Importance = widget.HighImportance
	f.stop = widget.NewButtonWithIcon(lang.L("Stop"), theme.MediaStopIcon(), p.onStop)
	f.stop.Disable()
	f.progress = widget.NewProgressBar()
	f.progress.Hide()
	f.result = widget.NewLabel("")
	f.result.Wrapping = fyne.TextWrapWord
	f.result.Hide()

	payloadHead := container.NewHBox(widget.NewLabel(lang.L("Payload")), f.formatSel, f.pretty)
	// Each field's message has room kept for it, so that the fields
	// below do not jump as the person types: two lines for the topic's
	// and the payload's, whose errors take two in a 1100 px window.
	fields := container.NewVBox(
		labelled(widget.NewLabel(lang.L("Connection")), container.NewBorder(nil, nil, nil, f.connState, f.conn)),
		msgline.Reserve(1, f.connErr),
		labelled(widget.NewLabel(lang.L("Topic")), f.topic),
		msgline.Reserve(2, f.topicMsg),
		payloadHead,
		f.payload,
		msgline.Reserve(2, f.payErr),
		labelled(widget.NewLabel(lang.L("QoS")), container.NewHBox(f.qos, f.retain)),
		widget.NewCard("", lang.L("MQTT 5 properties"), p.buildV5()),
	)
	// The actions stay in view below the scrolling fields: at the
	// default window size the MQTT 5 properties push them off screen.
	actions := container.NewVBox(
		widget.NewSeparator(),
		labelled(widget.NewLabel(lang.L("Repeat")), container.NewGridWithColumns(3, f.count, widget.NewLabel(lang.L("times, every")), f.interval)),
		// The progress bar beside the buttons and one line kept for the
		// repeat error or the result: the buttons hold still while they
		// come and go.
		container.NewBorder(nil, nil, container.NewHBox(f.publish, f.stop), nil, f.progress),
		msgline.Reserve(1, f.rptErr, f.result),
	)
	return container.NewBorder(nil, actions, nil, nil, container.NewVScroll(fields))
}

func (p *Panel) buildV5() fyne.CanvasObject {
	f := &p.form
	f.v5Note = widget.NewLabel("")
	f.v5Note.Wrapping = fyne.TextWrapWord
	f.v5Note.Importance = widget.WarningImportance
	f.v5Note.Hide()
	f.contentType = newFormEntry(p.publishByKey)
	f.contentType.SetPlaceHolder(lang.L("e.g. application/json"))
	f.payloadFormat = widget.NewSelect([]string{lang.L(pfUnset), lang.L(pfBytes), lang.L(pfUTF8)}, func(string) { p.validate() })
	f.payloadFormat.SetSelected(lang.L(pfUnset))
	f.expiry = newFormEntry(p.publishByKey)
	f.expiry.SetPlaceHolder(lang.L("seconds; empty: never expires"))
	f.respTopic = newFormEntry(p.publishByKey)
	f.respTopic.SetPlaceHolder(lang.L("where a responder should reply"))
	f.correlation = newFormEntry(p.publishByKey)
	f.correlation.SetPlaceHolder(lang.L("text that ties a reply to this request"))
	for _, e := range []*formEntry{f.contentType, f.expiry, f.respTopic, f.correlation} {
		e.OnChanged = func(string) { p.validate() }
	}
	f.propsBox = container.NewVBox()
	f.addProp = widget.NewButtonWithIcon(lang.L("Add user property"), theme.ContentAddIcon(), func() { p.addUserProp("", "") })
	f.v5Err = errorLabel()
	f.v5Box = container.NewVBox(
		labelled(
			widget.NewLabel(lang.L("Content type")), f.contentType,
			widget.NewLabel(lang.L("Payload format")), f.payloadFormat,
			widget.NewLabel(lang.L("Message expiry")), f.expiry,
			widget.NewLabel(lang.L("Response topic")), f.respTopic,
			widget.NewLabel(lang.L("Correlation data")), f.correlation,
		),
		widget.NewLabel(lang.L("User properties")),
		f.propsBox,
		f.addProp,
	)
	return container.NewVBox(f.v5Note, f.v5Box, f.v5Err)
}

func (p *Panel) addUserProp(key, value string) {
	r := &userPropRow{key: newFormEntry(p.publishByKey), value: newFormEntry(p.publishByKey)}
	r.key.SetPlaceHolder(lang.L("name"))
	r.value.SetPlaceHolder(lang.L("value"))
	r.key.SetText(key)
	r.value.SetText(value)
	r.key.OnChanged = func(string) { p.validate() }
	r.value.OnChanged = func(string) { p.validate() }
	remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { p.removeUserProp(r) })
	r.box = container.NewBorder(nil, nil, nil, remove, container.NewGridWithColumns(2, r.key, r.value))
	p.props = append(p.props, r)
	p.form.propsBox.Add(r.box)
	p.setV5Enabled(p.isV5())
	p.validate()
}

func (p *Panel) removeUserProp(r *userPropRow) {
	p.props = slices.DeleteFunc(p.props, func(x *userPropRow) bool { return x == r })
	p.form.propsBox.Remove(r.box)
	p.validate()
}

// applyConnections follows the Manager: the selector lists the open
// connections, keeping the selection while it stays open.
func (p *Panel) applyConnections(snap []client.Status) {
	names := make([]string, len(snap))
	clear(p.statuses)
	for i, s := range snap {
		names[i] = s.Name
		p.statuses[s.Name] = s
	}
	f := &p.form
	labels := localname.Labels(names)
	f.conn.SetOptions(labels)
	if p.wantConn != "" && slices.Contains(names, p.wantConn) {
		f.conn.SetSelected(localname.Label(p.wantConn))
		p.wantConn = ""
	}
	if sel := f.conn.Selected; sel != "" && !slices.Contains(labels, sel) {
		f.conn.ClearSelected()
	}
	if f.conn.Selected == "" && len(labels) > 0 {
		f.conn.SetSelected(labels[0])
	}
	p.onConnectionChanged()
}

// connStateText is a connection's state as the Subscribe panel words it,
// with a capital: "Connected · MQTT 5".
func connStateText(st client.Status) string {
	return fmt.Sprintf(lang.L("%s · MQTT %s"), stateWord(st.State), st.Protocol)
}

// stateWord is a connection state in the window's language.
func stateWord(s client.State) string {
	switch s {
	case client.StateConnecting:
		return lang.L("Connecting")
	case client.StateConnected:
		return lang.L("Connected")
	case client.StateReconnecting:
		return lang.L("Reconnecting")
	}
	return lang.L("Disconnected")
}

func (p *Panel) onConnectionChanged() {
	f := &p.form
	st, ok := p.statuses[p.connName()]
	switch {
	case !ok:
		f.connState.SetText("")
	default:
		f.connState.SetText(connStateText(st))
	}
	if ok && st.State != client.StateConnected && st.LastError != nil {
		showMessage(f.connErr, lang.L("Last error: ")+st.LastError.Error(), widget.WarningImportance)
	} else {
		f.connErr.Hide()
	}
	if ok && st.Protocol == client.MQTT311 {
		showMessage(f.v5Note, fmt.Sprintf(lang.L("%s speaks MQTT 3.1.1, which has no message properties: these are not sent (they are kept for an MQTT 5 connection)."), localname.Label(st.Name)), widget.WarningImportance)
	} else {
		f.v5Note.Hide()
	}
	p.setV5Enabled(p.isV5())
	p.validate()
}

// connName is the selected connection's name (the selector shows labels).
func (p *Panel) connName() string { return localname.Name(p.form.conn.Selected) }

// isV5 says whether the selected connection carries MQTT 5 properties; with
// none selected they stay editable.
func (p *Panel) isV5() bool {
	st, ok := p.statuses[p.connName()]
	return !ok || st.Protocol != client.MQTT311
}

func (p *Panel) setV5Enabled(on bool) {
	f := &p.form
	ds := []fyne.Disableable{f.contentType, f.payloadFormat, f.expiry, f.respTopic, f.correlation, f.addProp}
	for _, r := range p.props {
		ds = append(ds, r.key, r.value)
	}
	for _, d := range ds {
		if on {
			d.Enable()
		} else {
			d.Disable()
		}
	}
}

// onFormatChanged converts the payload to the new format, or refuses the
// switch and says why (nothing typed is lost).
func (p *Panel) onFormatChanged(to payloadFormat) {
	if p.switching || to == p.format || p.form.payload == nil {
		p.format = to
		p.updatePretty()
		return
	}
	f := &p.form
	b, err := parsePayload(p.format, f.payload.Text)
	if err != nil && p.format == formatJSON && to == formatText {
		b, err = []byte(f.payload.Text), nil // JSON being fixed can always go back to plain text
	}
	if err == nil {
		var text string
		if text, err = renderPayload(to, b); err == nil {
			p.format = to
			f.payload.SetText(text)
			p.updatePretty()
			p.validate()
			return
		}
	}
	p.switching = true
	f.formatSel.SetSelected(p.format.label())
	p.switching = false
	showMessage(f.payErr, fmt.Sprintf(lang.L("Cannot switch to %s: %v"), to.label(), err), widget.DangerImportance)
}

func (p *Panel) updatePretty() {
	if p.format == formatJSON {
		p.form.pretty.Show()
	} else {
		p.form.pretty.Hide()
	}
}

func (p *Panel) onPretty() {
	text, err := prettyJSON(p.form.payload.Text)
	if err != nil {
		showMessage(p.form.payErr, err.Error(), widget.DangerImportance)
		return
	}
	p.form.payload.SetText(text)
}

// formMessage reads the form; the error names the first field to fix.
// Settings that do not apply (MQTT 5 properties on a 3.1.1 connection)
// are left out.
func (p *Panel) formMessage() (client.Message, fieldErrors) {
	f := &p.form
	var m client.Message
	var errs fieldErrors
	m.Topic = f.topic.Text
	warnings, err := message.ValidateTopicName(m.Topic)
	errs.topic, errs.topicWarnings = err, warnings
	if m.Payload, err = parsePayload(p.format, f.payload.Text); err != nil {
		errs.payload = err
	}
	q, _ := strconv.Atoi(f.qos.Selected)
	m.QoS, m.Retain = byte(q), f.retain.Checked
	errs.v5 = p.readV5(&m)
	if !p.isV5() {
		m = client.Message{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain}
		errs.v5 = nil
	}
	return m, errs
}

func (p *Panel) readV5(m *client.Message) error {
	f := &p.form
	m.ContentType = f.contentType.Text
	switch f.payloadFormat.Selected { // the choices are shown translated
	case lang.L(pfBytes):
		m.PayloadFormat = new(byte)
	case lang.L(pfUTF8):
		one := byte(1)
		m.PayloadFormat = &one
	}
	if s := strings.TrimSpace(f.expiry.Text); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return fmt.Errorf(lang.L("Message expiry %q: type a whole number of seconds (0 to 4294967295), or leave it empty"), f.expiry.Text)
		}
		e := uint32(n)
		m.MessageExpiry = &e
	}
	if m.ResponseTopic = f.respTopic.Text; m.ResponseTopic != "" {
		if _, err := message.ValidateTopicName(m.ResponseTopic); err != nil {
			return fmt.Errorf(lang.L("Response topic: %w"), err)
		}
	}
	if f.correlation.Text != "" {
		m.CorrelationData = []byte(f.correlation.Text)
	}
	for i, r := range p.props {
		if r.key.Text == "" && r.value.Text == "" {
			continue
		}
		if r.key.Text == "" {
			return fmt.Errorf(lang.L("User property %d has a value but no name"), i+1)
		}
		m.UserProps = append(m.UserProps, message.UserProp{Key: r.key.Text, Value: r.value.Text})
	}
	if m.PayloadFormat != nil && *m.PayloadFormat == 1 && !utf8.Valid(m.Payload) {
		return errors.New(lang.L("Payload format says UTF-8 text, but the payload is not valid UTF-8: brokers refuse such a message"))
	}
	return nil
}

type fieldErrors struct {
	topic         error
	topicWarnings []string
	payload       error
	v5            error
}

func (e fieldErrors) any() bool { return e.topic != nil || e.payload != nil || e.v5 != nil }

// repeatSettings reads how many times and how often.
func (p *Panel) repeatSettings() (n int, every time.Duration, err error) {
	f := &p.form
	n, err = strconv.Atoi(strings.TrimSpace(f.count.Text))
	if err != nil || n < 1 || n > maxRepeat {
		return 0, 0, fmt.Errorf(lang.L("Repeat %q times: type a whole number from 1 to %d"), f.count.Text, maxRepeat)
	}
	every, err = numfmt.ParseDuration(f.interval.Text)
	if err != nil || every < 0 {
		return 0, 0, fmt.Errorf(lang.L("Every %q: type a duration such as %s, %s or %s"), f.interval.Text,
			numfmt.Duration(500*time.Millisecond), numfmt.Duration(2*time.Second), numfmt.Duration(time.Minute))
	}
	return n, every, nil
}

// validate shows every field's error and enables Publish only when the
// message can be sent.
func (p *Panel) validate() {
	f := &p.form
	if f.result == nil || p.saved.save == nil {
		return // still building
	}
	_, errs := p.formMessage()
	switch {
	case errs.topic != nil && !f.topicTouched:
		// Not a mistake yet: nothing was typed. Publish stays off.
		f.topicMsg.Hide()
	case errs.topic != nil:
		showMessage(f.topicMsg, lang.L("Topic: ")+errs.topic.Error(), widget.DangerImportance)
	case len(errs.topicWarnings) > 0:
		showMessage(f.topicMsg, lang.L("Note: ")+strings.Join(errs.topicWarnings, "; "), widget.WarningImportance)
	default:
		f.topicMsg.Hide()
	}
	showMessage(f.payErr, errText(errs.payload), widget.DangerImportance)
	showMessage(f.v5Err, errText(errs.v5), widget.DangerImportance)
	_, _, rerr := p.repeatSettings()
	showMessage(f.rptErr, errText(rerr), widget.DangerImportance)

	if errs.any() || rerr != nil || p.running || f.conn.Selected == "" {
		f.publish.Disable()
	} else {
		f.publish.Enable()
	}
	if errs.any() || p.store == nil {
		p.saved.save.Disable()
	} else {
		p.saved.save.Enable()
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// loadMessage puts m into the form, in the format it was written in.
func (p *Panel) loadMessage(m saved.Message) {
	f := &p.form
	to := formatFromFile(m.Format)
	text, err := renderPayload(to, m.Payload)
	if err != nil {
		to = formatHex
		text, _ = renderPayload(to, m.Payload)
	}
	p.switching = true
	p.format = to
	f.formatSel.SetSelected(to.label())
	p.switching = false
	p.updatePretty()
	f.topic.SetText(m.Topic)
	f.payload.SetText(text)
	f.qos.SetSelected(strconv.Itoa(int(m.QoS)))
	f.retain.SetChecked(m.Retain)
	f.contentType.SetText(m.ContentType)
	switch {
	case m.PayloadFormat == nil:
		f.payloadFormat.SetSelected(lang.L(pfUnset))
	case *m.PayloadFormat == 1:
		f.payloadFormat.SetSelected(lang.L(pfUTF8))
	default:
		f.payloadFormat.SetSelected(lang.L(pfBytes))
	}
	f.expiry.SetText("")
	if m.MessageExpiry != nil {
		f.expiry.SetText(strconv.FormatUint(uint64(*m.MessageExpiry), 10))
	}
	f.respTopic.SetText(m.ResponseTopic)
	f.correlation.SetText(string(m.CorrelationData))
	for _, r := range slices.Clone(p.props) {
		p.removeUserProp(r)
	}
	for _, u := range m.UserProps {
		p.addUserProp(u.Key, u.Value)
	}
	p.validate()
}
