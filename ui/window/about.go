package window

import (
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/assets"
)

// aboutInfo is what Help > About says besides the fixed text.
type aboutInfo struct {
	Version string // as `iotstudio version` prints it
	DataDir string
}

// The source tree has no LICENSE yet; About says so rather than name a
// licence nobody chose. The third-party notices are assets/NOTICE,
// generated from the modules built in (packaging/notice).
const (
	licenceText    = "Licence: none stated yet (the source has no LICENSE file)."
	thirdPartyText = "Built on Fyne, mochi-mqtt, Badger, Eclipse Paho and other open-source Go modules, each under its own licence."
)

// showAbout opens the About dialog: the app, its version, where it keeps
// its data (what a user backs up or deletes), the licence and the
// project's page.
func showAbout(w fyne.Window, info aboutInfo) {
	version := info.Version
	if version == "" {
		version = "devel"
	}
	name := widget.NewLabelWithStyle(lang.L("IoT Studio"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	dir := widget.NewLabel(info.DataDir)
	dir.Selectable = true // to paste into a file manager or a backup script
	dir.Wrapping = fyne.TextWrapBreak
	wrapped := func(s string) *widget.Label {
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	items := []fyne.CanvasObject{
		name,
		widget.NewLabel(lang.L("Version ") + version),
		widget.NewLabel(lang.L("Local MQTT broker, topic explorer and traffic tools in one window.")),
		widget.NewSeparator(),
		widget.NewLabel(lang.L("Data directory")),
		dir,
		widget.NewSeparator(),
		wrapped(lang.L(licenceText)),
		wrapped(lang.L(thirdPartyText)),
		widget.NewButton(lang.L("Third-party licences…"), func() { showNotice(w) }),
	}
	if u, err := url.Parse(docsURL); err == nil {
		items = append(items, widget.NewHyperlink(lang.L("Documentation and source: github.com/iotstudio/iotstudio"), u))
	}
	d := dialog.NewCustom(lang.L("About IoT Studio"), lang.L("Close"), container.NewVBox(items...), w)
	d.Resize(fyne.NewSize(520, 0))
	d.Show()
}

// showNotice shows the licences of the modules built into the program.
func showNotice(w fyne.Window) {
	text := widget.NewLabel(assets.Notice)
	text.TextStyle = fyne.TextStyle{Monospace: true}
	text.Selectable = true
	d := dialog.NewCustom(lang.L("Third-party licences"), lang.L("Close"), container.NewVScroll(text), w)
	d.Resize(fyne.NewSize(760, 540))
	d.Show()
}
