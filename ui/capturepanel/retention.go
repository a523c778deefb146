package capturepanel

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// Bounds of what the Retention dialog accepts.
const (
	minRetentionBytes = 1 << 20 // 1 MiB: less would delete records as they are written
	maxRetentionBytes = 1 << 50 // 1024 TiB
	minRetentionAge   = time.Hour
	maxRetentionAge   = 36500 * 24 * time.Hour // 100 years
)

var (
	sizeUnits = []string{"MiB", "GiB", "TiB"}
	sizeScale = map[string]int64{"MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
	ageUnits  = []string{"hours", "days"}
	ageScale  = map[string]time.Duration{"hours": time.Hour, "days": 24 * time.Hour}
)

// retentionText is the status line's summary of the limits in force:
// "keeps 1 GiB / 7 days".
func retentionText(maxBytes int64, maxAge time.Duration) string {
	if maxBytes == 0 {
		maxBytes = capture.DefaultMaxBytes
	}
	if maxAge == 0 {
		maxAge = capture.DefaultMaxAge
	}
	if maxBytes < 0 && maxAge < 0 {
		return lang.L("keeps everything")
	}
	size, age := lang.L("any size"), lang.L("any age")
	if maxBytes > 0 {
		size = sizeText(maxBytes)
	}
	if maxAge > 0 {
		age = formatAge(maxAge)
	}
	return lang.L("keeps ") + size + " / " + age
}

// splitSize shows b in the dialog's units: the largest one b is at least
// one of, with up to three decimals.
func splitSize(b int64) (value, unit string) {
	unit = "MiB"
	for _, u := range sizeUnits {
		if b >= sizeScale[u] {
			unit = u
		}
	}
	return trimFloat(float64(b) / float64(sizeScale[unit])), unit
}

// sizeText is b in the dialog's units: "1024 TiB".
func sizeText(b int64) string {
	v, unit := splitSize(b)
	return v + " " + unitLabel(unit)
}

// splitAge shows d in days when it is whole days, else in hours.
func splitAge(d time.Duration) (value, unit string) {
	if d%(24*time.Hour) == 0 {
		return trimFloat(float64(d) / float64(24*time.Hour)), "days"
	}
	return trimFloat(d.Hours()), "hours"
}

func formatAge(d time.Duration) string {
	v, unit := splitAge(d)
	if n, err := strconv.Atoi(v); err == nil {
		if unit == "days" {
			return numfmt.Plural(n, "day", "days")
		}
		return numfmt.Plural(n, "hour", "hours")
	}
	// A fraction takes no plural form of its own: Russian and Chinese
	// write it with a short unit.
	if unit == "days" {
		return fmt.Sprintf(lang.X("retention.days.fraction", "%s days"), v)
	}
	return fmt.Sprintf(lang.X("retention.hours.fraction", "%s hours"), v)
}

// unitLabel is how the dialog shows one of its units (sizeUnits,
// ageUnits): the byte units as everywhere in the window, hours and days
// translated. The unit pickers show labels; unitOf reads them back.
func unitLabel(unit string) string {
	switch unit {
	case "hours":
		return lang.X("retention.unit.hours", "hours")
	case "days":
		return lang.X("retention.unit.days", "days")
	}
	return numfmt.ByteUnit(unit)
}

// unitLabels are units' labels, in order.
func unitLabels(units []string) []string {
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = unitLabel(u)
	}
	return out
}

// unitOf is the unit of units whose label is label, "" for none.
func unitOf(units []string, label string) string {
	for _, u := range units {
		if unitLabel(u) == label {
			return u
		}
	}
	return ""
}

func trimFloat(f float64) string {
	return numfmt.Decimal(strconv.FormatFloat(math.Round(f*1000)/1000, 'f', -1, 64))
}

// parseAmount reads a positive decimal number for what ("Size", "Age").
func parseAmount(what, text, unit string) (float64, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, fmt.Errorf(lang.L("%s: enter a number of %s, or tick the box for no limit"), what, unitLabel(unit))
	}
	f, err := numfmt.ParseDecimal(text)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf(lang.L("%s: %q is not a number"), what, text)
	}
	if f <= 0 {
		return 0, fmt.Errorf(lang.L("%s must be more than 0"), what)
	}
	return f, nil
}

// parseSize reads the size limit: text in unit (MiB, GiB, TiB).
func parseSize(text, unit string) (int64, error) {
	scale, ok := sizeScale[unit]
	if !ok {
		return 0, fmt.Errorf(lang.L("Size: choose a unit (%s)"), strings.Join(unitLabels(sizeUnits), ", "))
	}
	f, err := parseAmount(lang.L("Size"), text, unit)
	if err != nil {
		return 0, err
	}
	b := f * float64(scale)
	switch {
	case b < minRetentionBytes:
		return 0, fmt.Errorf(lang.L("Size must be at least %s"), sizeText(minRetentionBytes))
	case b > maxRetentionBytes:
		return 0, fmt.Errorf(lang.L("Size must be at most %s"), sizeText(maxRetentionBytes))
	}
	return int64(math.Round(b)), nil
}

// parseAge reads the age limit: text in unit (hours, days).
func parseAge(text, unit string) (time.Duration, error) {
	scale, ok := ageScale[unit]
	if !ok {
		return 0, fmt.Errorf(lang.L("Age: choose a unit (%s)"), strings.Join(unitLabels(ageUnits), ", "))
	}
	f, err := parseAmount(lang.L("Age"), text, unit)
	if err != nil {
		return 0, err
	}
	d := f * float64(scale)
	switch {
	case d < float64(minRetentionAge):
		return 0, fmt.Errorf(lang.L("Age must be at least %s"), formatAge(minRetentionAge))
	case d > float64(maxRetentionAge):
		return 0, fmt.Errorf(lang.L("Age must be at most %s (100 years)"), formatAge(maxRetentionAge))
	}
	return time.Duration(d).Round(time.Second), nil
}

// retentionDialog edits the two retention limits.
type retentionDialog struct {
	size, age               *widget.Entry
	sizeUnit, ageUnit       *widget.Select
	noSize, noAge           *widget.Check
	errText, warnText       *widget.Label
	defaults, cancel, apply *widget.Button
	dlg                     *dialog.CustomDialog

	stored  int64 // bytes the store holds, for the warning; <0 unknown
	onApply func(maxBytes int64, maxAge time.Duration)
}

// onRetention reads the limits in force, then shows them for editing.
func (p *Panel) onRetention() {
	if p.src == nil {
		return
	}
	p.retentionBtn.Disable()
	p.actions.Go(func(life context.Context) {
		st, err := p.src.Stats()
		if life.Err() != nil {
			return
		}
		p.do(func() {
			p.updateButtons()
			if err != nil {
				dialog.ShowError(fmt.Errorf(lang.L("Cannot read the retention limits: %w"), err), p.win)
				return
			}
			p.retentionDlg = newRetentionDialog(st.MaxBytes, st.MaxAge, st.Bytes, p.win, p.applyRetention)
			p.retentionDlg.dlg.Show()
		})
	})
}

// applyRetention puts new limits in force at once. The store saves them
// with the data, so they hold for every later start, of the app or of the
// command line, on this data dir.
func (p *Panel) applyRetention(maxBytes int64, maxAge time.Duration) {
	setLabel(p.retention, retentionText(maxBytes, maxAge), widget.MediumImportance)
	p.actions.Go(func(life context.Context) { // SetRetention writes to disk
		p.src.SetRetention(maxBytes, maxAge)
		if life.Err() == nil {
			p.refreshNow()
		}
	})
}

func newRetentionDialog(maxBytes int64, maxAge time.Duration, stored int64, w fyne.Window,
	onApply func(int64, time.Duration)) *retentionDialog {
	r := &retentionDialog{stored: stored, onApply: onApply}
	r.size = widget.NewEntry()
	r.size.SetPlaceHolder("1")
	r.sizeUnit = widget.NewSelect(unitLabels(sizeUnits), nil)
	r.noSize = widget.NewCheck(lang.L("No size limit"), nil)
	r.age = widget.NewEntry()
	r.age.SetPlaceHolder("7")
	r.ageUnit = widget.NewSelect(unitLabels(ageUnits), nil)
	r.noAge = widget.NewCheck(lang.L("No age limit"), nil)
	r.errText = errLabel()
	r.warnText = widget.NewLabel("")
	r.warnText.Importance = widget.WarningImportance
	r.warnText.Wrapping = fyne.TextWrapWord
	r.set(maxBytes, maxAge)
	for _, e := range []*widget.Entry{r.size, r.age} {
		e.OnChanged = func(string) { r.check() }
		e.OnSubmitted = func(string) { r.onApplyTapped() }
	}
	for _, s := range []*widget.Select{r.sizeUnit, r.ageUnit} {
		s.OnChanged = func(string) { r.check() }
	}
	r.noSize.OnChanged = func(bool) { r.toggled() }
	r.noAge.OnChanged = func(bool) { r.toggled() }

	form := container.New(layout.NewFormLayout(),
		widget.NewLabel(lang.L("Size")), container.NewBorder(nil, nil, nil, container.NewHBox(r.sizeUnit, r.noSize), r.size),
		widget.NewLabel(lang.L("Age")), container.NewBorder(nil, nil, nil, container.NewHBox(r.ageUnit, r.noAge), r.age),
	)
	dv, du := splitSize(capture.DefaultMaxBytes)
	content := container.NewVBox(form,
		hint(fmt.Sprintf(lang.L("Once the capture is larger or older than this, its oldest records are deleted: "+
			"now, and every few seconds from then on. Defaults: %s %s, %s."), dv, unitLabel(du), formatAge(capture.DefaultMaxAge))),
		r.warnText, r.errText)

	r.defaults = widget.NewButton(lang.L("Defaults"), func() { r.set(capture.DefaultMaxBytes, capture.DefaultMaxAge); r.toggled() })
	r.cancel = widget.NewButton(lang.L("Cancel"), nil)
	r.apply = widget.NewButtonWithIcon(lang.L("Apply"), theme.ConfirmIcon(), r.onApplyTapped)
	r.apply.Importance = widget.HighImportance
	r.dlg = dialog.NewCustomWithoutButtons(lang.L("Capture retention"), content, w)
	r.dlg.SetButtons([]fyne.CanvasObject{r.defaults, r.cancel, r.apply})
	r.cancel.OnTapped = r.dlg.Hide
	r.toggled()
	r.dlg.Resize(fyne.NewSize(560, 1)) // height: the minimum
	return r
}

// set fills the fields from limits (0: default, negative: none).
func (r *retentionDialog) set(maxBytes int64, maxAge time.Duration) {
	if maxBytes == 0 {
		maxBytes = capture.DefaultMaxBytes
	}
	if maxAge == 0 {
		maxAge = capture.DefaultMaxAge
	}
	r.noSize.SetChecked(maxBytes < 0)
	if maxBytes < 0 {
		maxBytes = capture.DefaultMaxBytes // offered when the box is unticked
	}
	v, u := splitSize(maxBytes)
	r.size.SetText(v)
	r.sizeUnit.SetSelected(unitLabel(u))
	r.noAge.SetChecked(maxAge < 0)
	if maxAge < 0 {
		maxAge = capture.DefaultMaxAge
	}
	v, u = splitAge(maxAge)
	r.age.SetText(v)
	r.ageUnit.SetSelected(unitLabel(u))
}

func (r *retentionDialog) toggled() {
	for _, f := range []struct {
		off bool
		ws  []fyne.Disableable
	}{{r.noSize.Checked, []fyne.Disableable{r.size, r.sizeUnit}}, {r.noAge.Checked, []fyne.Disableable{r.age, r.ageUnit}}} {
		for _, w := range f.ws {
			setEnabled(w, !f.off)
		}
	}
	r.check()
}

// values returns the limits the fields describe (negative: none).
func (r *retentionDialog) values() (int64, time.Duration, error) {
	maxBytes, maxAge := int64(-1), time.Duration(-1)
	var err error
	if !r.noSize.Checked {
		if maxBytes, err = parseSize(r.size.Text, unitOf(sizeUnits, r.sizeUnit.Selected)); err != nil {
			return 0, 0, err
		}
	}
	if !r.noAge.Checked {
		if maxAge, err = parseAge(r.age.Text, unitOf(ageUnits, r.ageUnit.Selected)); err != nil {
			return 0, 0, err
		}
	}
	return maxBytes, maxAge, nil
}

// check validates as the user types and warns before deleting records.
func (r *retentionDialog) check() {
	if r.apply == nil {
		return // still building
	}
	maxBytes, _, err := r.values()
	msg, warn := "", ""
	if err != nil {
		msg = err.Error()
	} else if r.stored > 0 && maxBytes > 0 && r.stored > maxBytes {
		warn = fmt.Sprintf(lang.L("The capture holds %s now: applying deletes its oldest records."), numfmt.Bytes(r.stored))
	}
	setLabel(r.errText, msg, widget.DangerImportance)
	setLabel(r.warnText, warn, widget.WarningImportance)
	setVisible(r.warnText, warn != "")
	setEnabled(r.apply, err == nil)
}

func (r *retentionDialog) onApplyTapped() {
	maxBytes, maxAge, err := r.values()
	if err != nil {
		setLabel(r.errText, err.Error(), widget.DangerImportance)
		return
	}
	r.dlg.Hide()
	r.onApply(maxBytes, maxAge)
}
