package settings

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/translations"
)

// Dialog is the Settings dialog. Each change applies at once (the user
// sees the theme or the tree change behind the dialog) and is saved, so
// there is nothing to confirm and nothing lost if the app is closed with
// the dialog open.
type Dialog struct {
	app   fyne.App
	s     Settings
	dlg   dialog.Dialog
	theme *widget.RadioGroup
	dense *widget.RadioGroup
	font  *widget.Select
	lang  *widget.Select
	// dlgForm holds the fields, for tests to read their names.
	dlgForm *widget.Form
}

// The labels are made when the dialog opens: the translations are
// registered after package initialisation.
func themeLabels() map[ThemeMode]string {
	return map[ThemeMode]string{ThemeSystem: lang.L("System"), ThemeLight: lang.L("Light"), ThemeDark: lang.L("Dark")}
}

func densityLabels() map[Density]string {
	return map[Density]string{DensityNormal: lang.L("Normal"), DensityCompact: lang.L("Compact")}
}

// languageLabels names each language in its own words, the system's
// choice in the current language.
func languageLabels() map[translations.Choice]string {
	m := map[translations.Choice]string{}
	for _, c := range translations.Choices {
		m[c] = c.Name()
	}
	m[translations.System] = lang.L("System")
	return m
}

// Options are what the dialog controls besides the saved settings.
type Options struct {
	// Metrics, when set, adds the switch for Prometheus metrics.
	Metrics *MetricsControl
}

// Show opens the Settings dialog of a over w, showing the settings saved
// in a's preferences.
func Show(a fyne.App, w fyne.Window, opts Options) *Dialog {
	d := &Dialog{app: a, s: Load(a.Preferences())}
	themeLabels, densityLabels, langLabels := themeLabels(), densityLabels(), languageLabels()
	d.theme = widget.NewRadioGroup([]string{themeLabels[ThemeSystem], themeLabels[ThemeLight], themeLabels[ThemeDark]}, func(l string) {
		d.change(func(s *Settings) { s.Theme = keyOf(themeLabels, l, s.Theme) })
	})
	d.theme.Horizontal = true
	d.theme.Required = true
	d.theme.SetSelected(themeLabels[d.s.Theme])
	d.dense = widget.NewRadioGroup([]string{densityLabels[DensityNormal], densityLabels[DensityCompact]}, func(l string) {
		d.change(func(s *Settings) { s.Density = keyOf(densityLabels, l, s.Density) })
	})
	d.dense.Horizontal = true
	d.dense.Required = true
	d.dense.SetSelected(densityLabels[d.s.Density])
	var fonts []string
	for _, p := range FontPercents {
		fonts = append(fonts, fontLabel(p))
	}
	d.font = widget.NewSelect(fonts, func(l string) {
		d.change(func(s *Settings) {
			for _, p := range FontPercents {
				if fontLabel(p) == l {
					s.FontPercent = p
				}
			}
		})
	})
	d.font.SetSelected(fontLabel(d.s.FontPercent))
	var langs []string
	for _, c := range translations.Choices {
		langs = append(langs, langLabels[c])
	}
	d.lang = widget.NewSelect(langs, func(l string) {
		d.change(func(s *Settings) { s.Language = keyOf(langLabels, l, s.Language) })
	})
	d.lang.SetSelected(langLabels[d.s.Language])
	if !translations.CanChoose() {
		d.lang.Disable()
	}
	form := widget.NewForm(
		widget.NewFormItem(lang.L("Theme"), d.theme),
		widget.NewFormItem(lang.L("Topic tree"), d.dense),
		widget.NewFormItem(lang.L("Text size"), d.font),
		widget.NewFormItem(lang.L("Language"), container.NewVBox(d.lang, restartNote())),
	)
	if opts.Metrics != nil {
		form.Append(lang.L("Metrics"), metricsRow(opts.Metrics))
	}
	d.dlgForm = form
	d.dlg = dialog.NewCustom(lang.L("Settings"), lang.L("Close"), form, w)
	d.dlg.Show()
	return d
}

// change applies and saves the settings as edit changes them; setting
// the widgets to the saved values while building them changes nothing.
func (d *Dialog) change(edit func(*Settings)) {
	s := d.s
	edit(&s)
	if s == d.s {
		return
	}
	d.s = s
	s.Save(d.app.Preferences())
	Apply(d.app, s)
}

// restartNote says when a language applies: Fyne's lang translates a
// string when a widget is made, so the open window keeps its language.
func restartNote() *widget.Label {
	text := lang.L("The language applies after a restart.")
	if !translations.CanChoose() {
		text = lang.L("The window follows the system's language on this OS.")
	}
	l := widget.NewLabel(text)
	l.Importance = widget.LowImportance
	l.Wrapping = fyne.TextWrapWord
	return l
}

// Hide closes the dialog.
func (d *Dialog) Hide() { d.dlg.Hide() }

func keyOf[K comparable](labels map[K]string, label string, old K) K {
	for k, l := range labels {
		if l == label {
			return k
		}
	}
	return old
}
