package connections

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/msgline"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// Protocol choices as the form shows them.
const (
	protoAuto = "Automatic (5, else 3.1.1)"
	protoV5   = "MQTT 5"
	protoV311 = "MQTT 3.1.1"
)

// protocolLabel is how the form shows a protocol choice: the versions
// as they are, Automatic in the window's language.
func protocolLabel(choice string) string {
	if choice == protoAuto {
		return lang.L(protoAuto)
	}
	return choice
}

// formChoices maps the protocol choices to profile values.
var formChoices = map[string]client.Protocol{protoAuto: client.ProtocolAuto, protoV5: client.MQTT5, protoV311: client.MQTT311}

// formMode says what saving the form does.
type formMode int

const (
	editProfile formMode = iota // replace the profile; an open connection reconnects with it
	newProfile                  // add it and connect it
	copyProfile                 // add it only: it may share the original's client ID
)

// insecureWarning is shown while the insecure switch is on.
const insecureWarning = "Warning: the broker's certificate is not checked. Anyone in between can read and change the traffic, passwords included."

// profileForm edits every field of a profile, and its secrets.
type profileForm struct {
	p    *Panel
	base client.Profile // what the form started from: ID, preset
	mode formMode

	errText *widget.Label
	keep    *widget.Check // keep secrets for the session: shown once the keyring failed
	save    *widget.Button
	dlg     *dialog.CustomDialog

	name, url, clientID, expiry, keepAlive *widget.Entry
	subscribe                              *widget.Entry // one filter per line
	protocol                               *widget.RadioGroup
	clean                                  *widget.Check

	user        *widget.Entry
	usePassword *widget.Check
	password    *widget.Entry

	caFile, certFile, keyFile, serverName, alpn *widget.Entry
	encrypted                                   *widget.Check
	passphrase                                  *widget.Entry
	insecure                                    *widget.Check
	warning                                     *widget.Label

	willOn                 *widget.Check
	willTopic, willPayload *widget.Entry
	willQoS                *widget.Select
	willRetain             *widget.Check

	// Azure IoT Hub, for profiles made from that preset.
	hub, device, deviceKey, lifetime *widget.Entry
}

// showForm opens the form on pr; mode says what Save does. hint, when
// not empty, is shown above the fields.
func (p *Panel) showForm(pr client.Profile, mode formMode, hint string) *profileForm {
	f := &profileForm{p: p, base: pr, mode: mode}
	content := f.build(hint)
	title := lang.L("Edit connection")
	if mode != editProfile {
		title = lang.L("New connection")
	}
	cancel := widget.NewButton(lang.L("Cancel"), func() { f.dlg.Hide() })
	f.save = widget.NewButtonWithIcon(lang.L("Save"), theme.DocumentSaveIcon(), f.onSave)
	f.save.Importance = widget.HighImportance
	f.dlg = dialog.NewCustomWithoutButtons(title, content, p.win)
	f.dlg.SetButtons([]fyne.CanvasObject{cancel, f.save})
	f.dlg.Resize(fyne.NewSize(780, 660))
	f.dlg.Show()
	return f
}

func (f *profileForm) build(hint string) fyne.CanvasObject {
	pr := f.base
	f.errText = widget.NewLabel("")
	f.errText.Importance = widget.DangerImportance
	f.errText.Wrapping = fyne.TextWrapWord
	f.errText.Hide()
	f.keep = widget.NewCheck(lang.L("Keep the secrets for this session only (forgotten when IoT Studio quits)"), nil)
	f.keep.Hide()

	sections := []fyne.CanvasObject{f.connectionCard(pr), f.authCard(pr)}
	if pr.Azure != nil {
		sections = append(sections, f.azureCard(pr))
	}
	if len(pr.Templates) > 0 {
		sections = append(sections, templatesCard(pr))
	}
	sections = append(sections, f.tlsCard(pr), f.willCard(pr))
	top := container.NewVBox()
	if hint != "" {
		h := widget.NewLabel(hint)
		h.Wrapping = fyne.TextWrapWord
		top.Add(h)
	}
	// Lines kept for the error (and the keep-for-this-session choice
	// that comes with a missing keyring): the fields below hold still
	// when Save finds something wrong.
	top.Add(msgline.Reserve(2, f.errText, f.keep))
	return container.NewBorder(top, nil, nil, nil, container.NewVScroll(container.NewVBox(sections...)))
}

func entryWith(text, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(text)
	e.SetPlaceHolder(placeholder)
	return e
}

func (f *profileForm) connectionCard(pr client.Profile) fyne.CanvasObject {
	f.name = entryWith(localname.Label(pr.Name), lang.L("a name for the list, e.g. Plant broker"))
	f.url = entryWith(pr.URL, "mqtt://host:1883, mqtts://host:8883, ws://host/mqtt or wss://…")
	urlItem := widget.NewFormItem(lang.L("URL"), f.url)
	if pr.ID == LocalID {
		// The built-in profile follows the embedded broker: its address
		// is filled in at each connect, so there is nothing to edit.
		f.url.SetText(lang.L("the embedded broker's MQTT listener"))
		f.url.Disable()
		note := widget.NewLabel(lang.L("The address follows the embedded broker: change its port in the Broker panel."))
		note.Wrapping = fyne.TextWrapWord
		urlItem = widget.NewFormItem(lang.L("URL"), container.NewVBox(f.url, note))
	}
	f.protocol = widget.NewRadioGroup([]string{lang.L(protoAuto), protoV5, protoV311}, nil)
	f.protocol.Horizontal = true
	f.protocol.Required = true
	f.protocol.SetSelected(protoV5)
	for label, proto := range formChoices {
		if pr.Protocol == proto {
			f.protocol.SetSelected(protocolLabel(label))
		}
	}
	f.clientID = entryWith(pr.ClientID, lang.L("empty: a unique one per connection (iotstudio-…)"))
	gen := widget.NewButton(lang.L("Generate"), func() { f.clientID.SetText(client.UniqueClientID()) })
	f.clean = widget.NewCheck(lang.L("Clean start (drop any session the broker keeps for this client ID)"), nil)
	f.clean.SetChecked(pr.CleanStart)
	f.expiry = entryWith(uintText(uint64(pr.SessionExpiry)), "0")
	f.keepAlive = entryWith(uintText(uint64(pr.KeepAlive)), strconv.Itoa(client.DefaultKeepAlive))
	filters := make([]string, len(pr.Subscribe))
	for i, sub := range pr.Subscribe {
		filters[i] = sub.Filter
	}
	f.subscribe = widget.NewMultiLineEntry()
	f.subscribe.SetText(strings.Join(filters, "\n"))
	f.subscribe.SetPlaceHolder(lang.L("one filter per line, e.g. # for every topic; empty: none"))
	f.subscribe.SetMinRowsVisible(2)
	return widget.NewCard(lang.L("Connection"), "", widget.NewForm(
		widget.NewFormItem(lang.L("Name"), f.name),
		urlItem,
		widget.NewFormItem(lang.L("Protocol"), f.protocol),
		widget.NewFormItem(lang.L("Client ID"), container.NewBorder(nil, nil, nil, gen, f.clientID)),
		widget.NewFormItem("", f.clean),
		widget.NewFormItem(lang.L("Session expiry (s)"), f.expiry),
		widget.NewFormItem(lang.L("Keep-alive (s)"), f.keepAlive),
		widget.NewFormItem(lang.L("Subscribe on connect"), f.subscribe),
	))
}

func (f *profileForm) authCard(pr client.Profile) fyne.CanvasObject {
	f.user = entryWith(pr.Username, lang.L("none"))
	f.usePassword = widget.NewCheck(lang.L("Log in with a password"), nil)
	f.usePassword.SetChecked(pr.HasPassword)
	f.password = widget.NewPasswordEntry()
	f.password.SetPlaceHolder(secretPlaceholder(pr.HasPassword && f.mode == editProfile))
	if pr.Azure != nil {
		// IoT Hub's user name and password come from the hub, the device
		// and the device key (see the Azure section).
		f.user.Disable()
		f.usePassword.Disable()
		f.password.Disable()
		f.password.SetPlaceHolder(lang.L("a SAS token, generated at each connect"))
	}
	return widget.NewCard(lang.L("Authentication"), "", widget.NewForm(
		widget.NewFormItem(lang.L("User name"), f.user),
		widget.NewFormItem("", f.usePassword),
		widget.NewFormItem(lang.L("Password"), f.password),
	))
}

// secretPlaceholder tells whether a secret is saved already.
func secretPlaceholder(saved bool) string {
	if saved {
		return lang.L("saved in the keyring; type to replace it")
	}
	return lang.L("empty: asked for at connect")
}

func (f *profileForm) azureCard(pr client.Profile) fyne.CanvasObject {
	a := pr.Azure
	f.hub = entryWith(a.Hub, "myhub.azure-devices.net")
	f.device = entryWith(a.Device, lang.L("the device ID"))
	f.deviceKey = widget.NewPasswordEntry()
	f.deviceKey.SetPlaceHolder(secretPlaceholder(f.mode == editProfile))
	f.lifetime = entryWith(numfmt.Duration(time.Duration(a.TokenLifetime)), numfmt.Duration(time.Hour))
	syncUser := func(string) {
		hub := strings.TrimSpace(f.hub.Text)
		if hub != "" && !strings.Contains(hub, ".") {
			hub += ".azure-devices.net"
		}
		f.user.SetText(client.AzureAuth{Hub: hub, Device: strings.TrimSpace(f.device.Text)}.Username())
	}
	f.hub.OnChanged, f.device.OnChanged = syncUser, syncUser
	note := widget.NewLabel(lang.L("The password is a SAS token generated from the device key at each connect, valid for the token lifetime. The device key is kept in the keyring."))
	note.Wrapping = fyne.TextWrapWord
	return widget.NewCard(lang.L("Azure IoT Hub"), "", container.NewVBox(widget.NewForm(
		widget.NewFormItem(lang.L("Hub"), f.hub),
		widget.NewFormItem(lang.L("Device ID"), f.device),
		widget.NewFormItem(lang.L("Device key"), f.deviceKey),
		widget.NewFormItem(lang.L("Token lifetime"), f.lifetime),
	), note))
}

func (f *profileForm) tlsCard(pr client.Profile) fyne.CanvasObject {
	t := pr.TLS
	var caRow, certRow, keyRow fyne.CanvasObject
	f.caFile, caRow = f.p.fileEntry(t.CAFile, caPlaceholder(t))
	f.certFile, certRow = f.p.fileEntry(t.CertFile, lang.L("client certificate (PEM), if the broker asks for one"))
	f.keyFile, keyRow = f.p.fileEntry(t.KeyFile, lang.L("its private key (PEM)"))
	f.encrypted = widget.NewCheck(lang.L("The private key is encrypted"), nil)
	f.encrypted.SetChecked(t.HasPassphrase)
	f.passphrase = widget.NewPasswordEntry()
	f.passphrase.SetPlaceHolder(secretPlaceholder(t.HasPassphrase && f.mode == editProfile))
	f.serverName = entryWith(t.ServerName, lang.L("empty: the URL's host"))
	f.alpn = entryWith(strings.Join(t.ALPN, ", "), lang.L("none; e.g. x-amzn-mqtt-ca"))
	f.warning = widget.NewLabel(lang.L(insecureWarning))
	f.warning.Importance = widget.WarningImportance
	f.warning.Wrapping = fyne.TextWrapWord
	f.insecure = widget.NewCheck(lang.L("Insecure: do not check the broker's certificate"), func(on bool) {
		if on {
			f.warning.Show()
		} else {
			f.warning.Hide()
		}
	})
	f.insecure.SetChecked(t.Insecure)
	if !t.Insecure {
		f.warning.Hide()
	}
	return widget.NewCard(lang.L("TLS (mqtts:// and wss://)"), "", container.NewVBox(widget.NewForm(
		widget.NewFormItem(lang.L("CA file"), caRow),
		widget.NewFormItem(lang.L("Client certificate"), certRow),
		widget.NewFormItem(lang.L("Client key"), keyRow),
		widget.NewFormItem("", f.encrypted),
		widget.NewFormItem(lang.L("Key passphrase"), f.passphrase),
		widget.NewFormItem(lang.L("Server name"), f.serverName),
		widget.NewFormItem(lang.L("ALPN protocols"), f.alpn),
		widget.NewFormItem("", f.insecure),
	), f.warning))
}

// caPlaceholder says which CAs are trusted while no CA file is given.
func caPlaceholder(t client.TLSOptions) string {
	if t.BuiltinCA == client.BuiltinYandex {
		return lang.L("empty: Yandex's root CA (built in) and the system's roots")
	}
	return lang.L("empty: the system's trusted roots")
}

// templatesCard lists the topics the preset's service expects the
// connection to publish to; the row's Publish buttons open them.
func templatesCard(pr client.Profile) fyne.CanvasObject {
	form := widget.NewForm()
	for _, tm := range pr.Templates {
		topic := widget.NewLabel(tm.Topic)
		topic.Selectable = true
		form.Append(capitalize(tm.Name), topic)
	}
	return widget.NewCard(lang.L("Topics to publish to"), "", form)
}

func (f *profileForm) willCard(pr client.Profile) fyne.CanvasObject {
	w := pr.Will
	if w == nil {
		w = &client.Will{}
	}
	f.willOn = widget.NewCheck(lang.L("Send a last will if the connection dies"), nil)
	f.willOn.SetChecked(pr.Will != nil)
	f.willTopic = entryWith(w.Topic, lang.L("e.g. devices/studio/status"))
	f.willPayload = entryWith(string(w.Payload), lang.L("e.g. offline"))
	f.willQoS = widget.NewSelect([]string{"0", "1", "2"}, nil)
	f.willQoS.SetSelected(strconv.Itoa(int(w.QoS)))
	f.willRetain = widget.NewCheck(lang.L("Retain"), nil)
	f.willRetain.SetChecked(w.Retain)
	return widget.NewCard(lang.L("Last will"), "", widget.NewForm(
		widget.NewFormItem("", f.willOn),
		widget.NewFormItem(lang.L("Topic"), f.willTopic),
		widget.NewFormItem(lang.L("Payload"), f.willPayload),
		widget.NewFormItem(lang.L("QoS"), f.willQoS),
		widget.NewFormItem("", f.willRetain),
	))
}

// fileEntry is a path entry with a Browse… button.
func (p *Panel) fileEntry(path, placeholder string) (*widget.Entry, fyne.CanvasObject) {
	e := entryWith(path, placeholder)
	browse := widget.NewButtonWithIcon(lang.L("Browse…"), theme.FolderOpenIcon(), func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			r.Close()
			e.SetText(r.URI().Path())
		}, p.win)
		if dir := folderOf(e.Text); dir != nil {
			d.SetLocation(dir)
		}
		d.Resize(fyne.NewSize(760, 540))
		d.Show()
	})
	return e, container.NewBorder(nil, nil, nil, browse, e)
}

// folderOf is the existing folder of path, for a file dialog to open in.
func folderOf(path string) fyne.ListableURI {
	if path == "" {
		return nil
	}
	dir, err := storage.Parent(storage.NewFileURI(path))
	if err != nil {
		return nil
	}
	l, err := storage.ListerForURI(dir)
	if err != nil {
		return nil
	}
	return l
}

// read builds the profile the form describes and the secrets typed into
// it; its error names every field that is wrong.
func (f *profileForm) read() (client.Profile, map[client.SecretKind]string, error) {
	pr := f.base
	secrets := map[client.SecretKind]string{}
	var errs []error
	pr.Name = localname.Name(strings.TrimSpace(f.name.Text)) // the label typed back: the built-in profile's key
	if pr.ID != LocalID {
		pr.URL = strings.TrimSpace(f.url.Text)
		if pr.Preset == client.PresetLocal && pr.URL != f.base.URL {
			// No longer the embedded broker: its traffic is to be recorded.
			pr.Preset = client.PresetGeneric
		}
	}
	var chosen client.Protocol
	for label, proto := range formChoices {
		if protocolLabel(label) == f.protocol.Selected {
			chosen = proto
		}
	}
	pr.Protocol = chosen
	pr.ClientID = strings.TrimSpace(f.clientID.Text)
	pr.CleanStart = f.clean.Checked
	expiry, err := parseUint(f.expiry.Text, 32, lang.L("Session expiry"))
	errs = append(errs, err)
	pr.SessionExpiry = uint32(expiry)
	keepAlive, err := parseUint(f.keepAlive.Text, 16, lang.L("Keep-alive"))
	errs = append(errs, err)
	pr.KeepAlive = uint16(keepAlive)
	pr.Subscribe = f.readSubscribe()

	pr.Username = f.user.Text
	pr.HasPassword = f.usePassword.Checked
	if pr.HasPassword && f.password.Text != "" {
		secrets[client.SecretPassword] = f.password.Text
	}
	errs = append(errs, f.readAzure(&pr, secrets))
	f.readTLS(&pr, secrets)
	errs = append(errs, f.readWill(&pr))
	return pr, secrets, errors.Join(errs...)
}

// readSubscribe reads the subscribe-on-connect filters, one per line; a
// filter the profile had keeps its QoS and options (Azure's QoS 1), a new
// one is QoS 0. Profile.Validate judges them.
func (f *profileForm) readSubscribe() []client.Subscription {
	var subs []client.Subscription
	for _, line := range strings.Split(f.subscribe.Text, "\n") {
		filter := strings.TrimSpace(line)
		if filter == "" {
			continue
		}
		sub := client.Subscription{Filter: filter}
		if i := slices.IndexFunc(f.base.Subscribe, func(s client.Subscription) bool { return s.Filter == filter }); i >= 0 {
			sub = f.base.Subscribe[i]
		}
		subs = append(subs, sub)
	}
	return subs
}

func (f *profileForm) readAzure(pr *client.Profile, secrets map[client.SecretKind]string) error {
	if f.hub == nil {
		return nil
	}
	a := &client.AzureAuth{Hub: strings.TrimSpace(f.hub.Text), Device: strings.TrimSpace(f.device.Text)}
	if a.Hub != "" && !strings.Contains(a.Hub, ".") {
		a.Hub += ".azure-devices.net"
	}
	life, err := parseLifetime(f.lifetime.Text)
	a.TokenLifetime = client.Duration(life)
	pr.Azure = a
	pr.Username, pr.HasPassword = a.Username(), false
	if f.deviceKey.Text != "" {
		secrets[client.SecretAzureDeviceKey] = f.deviceKey.Text
	}
	return err
}

func (f *profileForm) readTLS(pr *client.Profile, secrets map[client.SecretKind]string) {
	t := &pr.TLS
	t.CAFile = strings.TrimSpace(f.caFile.Text)
	t.CertFile = strings.TrimSpace(f.certFile.Text)
	t.KeyFile = strings.TrimSpace(f.keyFile.Text)
	t.HasPassphrase = f.encrypted.Checked
	if t.HasPassphrase && f.passphrase.Text != "" {
		secrets[client.SecretKeyPassphrase] = f.passphrase.Text
	}
	t.ServerName = strings.TrimSpace(f.serverName.Text)
	t.ALPN = nil
	for _, a := range strings.Split(f.alpn.Text, ",") {
		if a = strings.TrimSpace(a); a != "" {
			t.ALPN = append(t.ALPN, a)
		}
	}
	t.Insecure = f.insecure.Checked
}

func (f *profileForm) readWill(pr *client.Profile) error {
	pr.Will = nil
	if !f.willOn.Checked {
		return nil
	}
	qos, err := strconv.Atoi(f.willQoS.Selected)
	if err != nil {
		return errors.New(lang.L("Last will QoS: choose 0, 1 or 2"))
	}
	pr.Will = &client.Will{Topic: strings.TrimSpace(f.willTopic.Text), Payload: []byte(f.willPayload.Text), QoS: byte(qos), Retain: f.willRetain.Checked}
	return nil
}

// parseUint reads a whole number of seconds that fits bits; empty is 0.
func parseUint(s string, bits int, field string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf(lang.L("%s %q: give whole seconds from 0 to %d"), field, s, uint64(1)<<bits-1)
	}
	return v, nil
}

func uintText(v uint64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatUint(v, 10)
}

// onSave checks the form, stores its secrets, then the profile; on any
// error it says what is wrong and saves nothing more.
func (f *profileForm) onSave() {
	pr, secrets, err := f.read()
	var invalid error
	if v := pr.Validate(); v != nil {
		// The engine's words (shared with the command line) are English:
		// the lead says in the window's language what they are about.
		invalid = fmt.Errorf(lang.L("The connection settings are not valid: %w"), v)
	}
	if err = errors.Join(err, f.checkName(pr.Name), invalid); err != nil {
		f.showErr(err)
		return
	}
	keep := f.keep.Visible() && f.keep.Checked
	if f.mode == newProfile {
		pr.ConnectAtStart = true // it connects now, and at the next start
	}
	f.save.Disable()
	f.p.async(func() func() {
		err := storeSecrets(f.p.opts.Secrets, pr.ID, secrets, keep)
		return func() {
			f.save.Enable()
			if err != nil {
				f.showErr(err)
				if isKeyringMissing(err) {
					f.keep.Show()
				}
				return
			}
			wasOpen := f.mode == editProfile && f.p.open(f.base)
			if err := f.p.commit(pr); err != nil {
				f.showErr(err)
				return
			}
			f.dlg.Hide()
			switch {
			case f.mode == newProfile:
				f.p.connect(pr.ID, nil)
			case wasOpen:
				// An open connection keeps the profile it was opened with:
				// the edit applies by opening it again.
				f.p.reopen(f.base.Name, pr.ID)
			}
		}
	})
}

func (f *profileForm) checkName(name string) error {
	if name == "" {
		return nil // Validate says so
	}
	if f.p.usedNames(f.base.ID)[strings.ToLower(name)] {
		return fmt.Errorf(lang.L("Name %q: another connection (or the embedded broker's own source) has it; choose another"), localname.Label(name))
	}
	return nil
}

func (f *profileForm) showErr(err error) {
	f.errText.SetText(err.Error())
	f.errText.Show()
}

// storeSecrets puts secrets in the keyring, or, with keep, in memory for
// the session.
func storeSecrets(s *client.Secrets, id string, secrets map[client.SecretKind]string, keep bool) error {
	for kind, v := range secrets {
		if keep {
			s.KeepForSession(id, kind, v)
			continue
		}
		if err := s.Set(id, kind, v); err != nil {
			return err
		}
	}
	return nil
}

// parseLifetime reads an Azure SAS token's lifetime as typed.
func parseLifetime(text string) (time.Duration, error) {
	life, err := numfmt.ParseDuration(text)
	if err != nil || life <= 0 {
		return 0, fmt.Errorf(lang.L("Token lifetime %q: write how long each SAS token lives, like %s or %s"), text,
			numfmt.Duration(time.Hour), numfmt.Duration(30*time.Minute))
	}
	return life, nil
}
