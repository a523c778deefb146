package settings

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
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
}

var (
	themeLabels   = map[ThemeMode]string{ThemeSystem: "System", ThemeLight: "Light", ThemeDark: "Dark"}
	densityLabels = map[Density]string{DensityNormal: "Normal", DensityCompact: "Compact"}
)

// Show opens the Settings dialog of a over w, showing the settings saved
// in a's preferences.
func Show(a fyne.App, w fyne.Window) *Dialog {
	d := &Dialog{app: a, s: Load(a.Preferences())}
	d.theme = widget.NewRadioGroup([]string{"System", "Light", "Dark"}, func(l string) {
		d.change(func(s *Settings) { s.Theme = keyOf(themeLabels, l, s.Theme) })
	})
	d.theme.Horizontal = true
	d.theme.Required = true
	d.theme.SetSelected(themeLabels[d.s.Theme])
	d.dense = widget.NewRadioGroup([]string{"Normal", "Compact"}, func(l string) {
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
	form := widget.NewForm(
		widget.NewFormItem(lang.L("Theme"), d.theme),
		widget.NewFormItem(lang.L("Topic tree"), d.dense),
		widget.NewFormItem(lang.L("Text size"), d.font),
	)
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
