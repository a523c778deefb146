package connections

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// presetChoices are the presets New offers, as it shows them.
var presetChoices = []struct {
	kind  client.PresetKind
	label string
}{
	{client.PresetGeneric, "Custom broker (Mosquitto, EMQX, HiveMQ, VerneMQ, …)"},
	{client.PresetAWS, "AWS IoT Core"},
	{client.PresetAzure, "Azure IoT Hub"},
	{client.PresetYandex, "Yandex IoT Core"},
	{client.PresetEMQX, "EMQX Cloud"},
	{client.PresetHiveMQ, "HiveMQ Cloud"},
	{client.PresetLocal, "Local broker (IoT Studio's own)"},
}

// presetLabel is how the preset list shows a choice: product names as
// they are, the two that describe themselves in the window's language.
func presetLabel(k client.PresetKind, label string) string {
	switch k {
	case client.PresetGeneric:
		return lang.L("Custom broker (Mosquitto, EMQX, HiveMQ, VerneMQ, …)")
	case client.PresetLocal:
		return lang.L("Local broker (IoT Studio's own)")
	}
	return label
}

// presetDialog asks which preset, and what that preset needs, before the
// full form.
type presetDialog struct {
	p       *Panel
	kind    *widget.Select
	fields  *fyne.Container // the form for the chosen preset
	errText *widget.Label
	dlg     *dialog.CustomDialog

	name, host, url, thing, user, hub, device, lifetime *widget.Entry
	cert, key, ca                                       *widget.Entry
	certRow, keyRow, caRow                              fyne.CanvasObject
	aws443                                              *widget.Check

	// Yandex IoT Core: as a device or a registry, by password or certificate.
	yandexAs, yandexLogin *widget.RadioGroup
	yandexID              *widget.Entry
}

// Yandex IoT Core choices as the dialog shows them.
const (
	yandexAsDevice   = "Device"
	yandexAsRegistry = "Registry"
	yandexByPassword = "ID and password"
	yandexByCert     = "Certificate"
)

func (p *Panel) onNew() { p.newPresetDialog().dlg.Show() }

func (p *Panel) newPresetDialog() *presetDialog {
	d := &presetDialog{p: p, fields: container.NewStack()}
	d.name = entryWith("", lang.L("empty: named after the preset"))
	d.host = entryWith("", "")
	d.url = entryWith("", "mqtt://host:1883, mqtts://host:8883, ws://… or wss://…")
	d.thing = entryWith("", lang.L("the thing name; becomes the client ID"))
	d.user = entryWith("", lang.L("the user name"))
	d.hub = entryWith("", lang.L("myhub or myhub.azure-devices.net"))
	d.device = entryWith("", lang.L("the device ID"))
	d.lifetime = entryWith(numfmt.Duration(time.Hour), fmt.Sprintf(lang.L("how long each SAS token lives, e.g. %s"), numfmt.Duration(time.Hour)))
	d.cert, d.certRow = p.fileEntry("", lang.L("the device certificate (PEM)"))
	d.key, d.keyRow = p.fileEntry("", lang.L("its private key (PEM)"))
	d.ca, d.caRow = p.fileEntry("", lang.L("empty: the system's trusted roots"))
	d.yandexID = entryWith("", "")
	// The radios show their choices translated; asRegistry and byCert
	// read them back.
	d.yandexAs = widget.NewRadioGroup([]string{lang.L(yandexAsDevice), lang.L(yandexAsRegistry)}, func(string) { d.showFields() })
	d.yandexAs.Horizontal, d.yandexAs.Required = true, true
	d.yandexAs.Selected = lang.L(yandexAsDevice)
	d.yandexLogin = widget.NewRadioGroup([]string{lang.L(yandexByPassword), lang.L(yandexByCert)}, func(string) { d.showFields() })
	d.yandexLogin.Horizontal, d.yandexLogin.Required = true, true
	d.yandexLogin.Selected = lang.L(yandexByPassword)
	d.aws443 = widget.NewCheck(lang.L("Port 443 with ALPN ")+client.AWSALPN+lang.L(" (for networks that only let HTTPS out)"), nil)
	d.errText = widget.NewLabel("")
	d.errText.Importance = widget.DangerImportance
	d.errText.Wrapping = fyne.TextWrapWord
	d.errText.Hide()

	labels := make([]string, len(presetChoices))
	for i, c := range presetChoices {
		labels[i] = presetLabel(c.kind, c.label)
	}
	d.kind = widget.NewSelect(labels, func(string) { d.showFields() })
	d.kind.SetSelectedIndex(0)

	next := widget.NewButton(lang.L("Next…"), d.onNext)
	next.Importance = widget.HighImportance
	content := container.NewBorder(container.NewVBox(widget.NewForm(widget.NewFormItem(lang.L("Preset"), d.kind)), d.errText), nil, nil, nil,
		container.NewVScroll(d.fields))
	d.dlg = dialog.NewCustomWithoutButtons(lang.L("New connection"), content, p.win)
	d.dlg.SetButtons([]fyne.CanvasObject{widget.NewButton(lang.L("Cancel"), func() { d.dlg.Hide() }), next})
	d.dlg.Resize(fyne.NewSize(720, 520))
	return d
}

func (d *presetDialog) selected() client.PresetKind {
	return presetChoices[d.kind.SelectedIndex()].kind
}

// showFields shows what the chosen preset needs.
func (d *presetDialog) showFields() {
	item := widget.NewFormItem
	items := []*widget.FormItem{item(lang.L("Name"), d.name)}
	d.ca.SetPlaceHolder(lang.L("empty: the system's trusted roots"))
	switch d.selected() {
	case client.PresetGeneric:
		items = append(items, item("URL", d.url), item(lang.L("User name"), d.user))
	case client.PresetAWS:
		d.host.SetPlaceHolder(lang.L("your ATS endpoint, e.g. abc123-ats.iot.eu-west-1.amazonaws.com"))
		items = append(items, item(lang.L("Endpoint"), d.host), item(lang.L("Thing name"), d.thing), item(lang.L("Certificate"), d.certRow),
			item(lang.L("Private key"), d.keyRow), item(lang.L("Amazon root CA"), d.caRow), item("", d.aws443))
	case client.PresetAzure:
		items = append(items, item("Hub", d.hub), item(lang.L("Device ID"), d.device), item(lang.L("Token lifetime"), d.lifetime))
	case client.PresetYandex:
		items = append(items, d.yandexItems()...)
	case client.PresetEMQX, client.PresetHiveMQ:
		d.host.SetPlaceHolder(lang.L("the cluster host name from the console"))
		items = append(items, item(lang.L("Cluster host"), d.host), item(lang.L("User name"), d.user), item(lang.L("CA file"), d.caRow))
	}
	// A Form cannot drop items once shown: make a new one.
	d.fields.Objects = []fyne.CanvasObject{widget.NewForm(items...)}
	d.fields.Refresh()
}

// yandexItems are the Yandex IoT Core fields for the choices made: the
// ID of the device or registry the connection acts as, and its
// certificate when it logs in by one.
func (d *presetDialog) yandexItems() []*widget.FormItem {
	item := widget.NewFormItem
	// Whole sentences for each choice: Russian and Chinese word them
	// differently for a device and a registry.
	idLabel := lang.L("Device ID")
	d.yandexID.SetPlaceHolder(lang.L("the device ID from the Yandex Cloud console, e.g. are1a2b3c4d5e6f7g8h9"))
	noteText := lang.L("The user name is the device ID; its password is the one set for it in the console, asked for next.")
	if d.asRegistry() {
		idLabel = lang.L("Registry ID")
		d.yandexID.SetPlaceHolder(lang.L("the registry ID from the Yandex Cloud console, e.g. are1a2b3c4d5e6f7g8h9"))
		noteText = lang.L("The user name is the registry ID; its password is the one set for it in the console, asked for next.")
	}
	d.ca.SetPlaceHolder(lang.L("empty: Yandex's root CA (built in) and the system's roots"))
	items := []*widget.FormItem{item(lang.L("Acts as"), d.yandexAs), item(idLabel, d.yandexID), item(lang.L("Log in with"), d.yandexLogin)}
	if d.byCert() {
		items = append(items, item(lang.L("Certificate"), d.certRow), item(lang.L("Private key"), d.keyRow))
	} else {
		note := widget.NewLabel(noteText)
		note.Wrapping = fyne.TextWrapWord
		items = append(items, item("", note))
	}
	return append(items, item(lang.L("CA file"), d.caRow))
}

// onNext fills a profile from the preset and opens the full form on it.
func (d *presetDialog) onNext() {
	kind := d.selected()
	in := client.PresetInput{
		Name: strings.TrimSpace(d.name.Text), Host: strings.TrimSpace(d.host.Text), AWS443: d.aws443.Checked,
		ThingName: strings.TrimSpace(d.thing.Text), CertFile: strings.TrimSpace(d.cert.Text), KeyFile: strings.TrimSpace(d.key.Text),
		CAFile: strings.TrimSpace(d.ca.Text), Hub: strings.TrimSpace(d.hub.Text), Device: strings.TrimSpace(d.device.Text),
		Username: strings.TrimSpace(d.user.Text),
	}
	switch kind {
	case client.PresetGeneric:
		in.Host = strings.TrimSpace(d.url.Text)
	case client.PresetLocal:
		in.Addr = d.p.opts.LocalAddr()
		if in.Addr == "" {
			d.showErr(errors.New(lang.L("The embedded broker is not running, so its address is unknown: start it in the Broker panel first.")))
			return
		}
	case client.PresetYandex:
		id := strings.TrimSpace(d.yandexID.Text)
		if d.asRegistry() {
			in.Device, in.Registry = "", id
		} else {
			in.Device = id
		}
		switch {
		case !d.byCert():
			in.CertFile, in.KeyFile = "", ""
		case in.CertFile == "" || in.KeyFile == "":
			msg := lang.L("Log in with a certificate: give the device's certificate and private key files, or choose to log in with its ID and password")
			if d.asRegistry() {
				msg = lang.L("Log in with a certificate: give the registry's certificate and private key files, or choose to log in with its ID and password")
			}
			d.showErr(errors.New(msg))
			return
		}
	case client.PresetAzure:
		life, err := parseLifetime(d.lifetime.Text)
		if err != nil {
			d.showErr(err)
			return
		}
		in.TokenLifetime = life
	}
	pr, err := client.NewFromPreset(kind, in)
	if err != nil {
		d.showErr(fmt.Errorf(lang.L("The preset cannot make a connection: %w"), err))
		return
	}
	if in.Name == "" {
		pr.Name = d.p.uniqueName(pr.Name)
	}
	d.dlg.Hide()
	d.p.showForm(pr, newProfile, "")
}

// asRegistry: the connection acts as a Yandex IoT Core registry.
func (d *presetDialog) asRegistry() bool { return d.yandexAs.Selected == lang.L(yandexAsRegistry) }

// byCert: the connection logs in to Yandex IoT Core with a certificate.
func (d *presetDialog) byCert() bool { return d.yandexLogin.Selected == lang.L(yandexByCert) }

func (d *presetDialog) showErr(err error) {
	d.errText.SetText(err.Error())
	d.errText.Show()
}
