package devices

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/numfmt"
)

type editorWidgets struct {
	list     *widget.List
	text     *widget.Entry
	first    *widget.Label // the first problem, or that the file is valid
	problems *widget.List  // every problem; selecting one moves the cursor there
	preview  *widget.Label
	tabs     *container.AppTabs
	probTab  *container.TabItem
	infer    *widget.Button
	saveAs   *widget.Button
}

func (p *Panel) buildProfiles() fyne.CanvasObject {
	e := &p.ed
	e.list = widget.NewList(
		func() int { return len(p.profiles) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			src := widget.NewLabel("")
			src.SizeName = theme.SizeNameCaptionText
			src.Truncation = fyne.TextTruncateEllipsis
			return container.NewVBox(name, src)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			box := o.(*fyne.Container)
			pr := p.profiles[i]
			box.Objects[0].(*widget.Label).SetText(pr.Name)
			src := pr.Source
			if pr.BuiltIn {
				src = lang.L("built-in")
			}
			box.Objects[1].(*widget.Label).SetText(src)
		},
	)
	e.list.OnSelected = p.onProfile
	head := widget.NewLabelWithStyle(lang.L("Profiles"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewBorder(head, nil, nil, nil, e.list)
}

func (p *Panel) buildEditor() fyne.CanvasObject {
	e := &p.ed
	e.text = widget.NewMultiLineEntry()
	e.text.TextStyle = fyne.TextStyle{Monospace: true}
	e.text.Wrapping = fyne.TextWrapOff
	e.text.SetPlaceHolder(lang.L("A scenario file: pick a profile, or infer one from the capture."))
	e.text.OnChanged = p.onEdit
	e.first = statusLabel()
	e.problems = widget.NewList(
		func() int { return len(p.problems) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(p.problems) {
				o.(*widget.Label).SetText(p.problems[i].String())
			}
		},
	)
	e.problems.OnSelected = p.goToProblem
	e.preview = widget.NewLabel("")
	e.preview.TextStyle = fyne.TextStyle{Monospace: true}
	e.preview.Wrapping = fyne.TextWrapBreak
	e.probTab = container.NewTabItem(lang.L("Problems"), e.problems)
	e.tabs = container.NewAppTabs(
		container.NewTabItem(lang.L("Preview of device 0"), container.NewVScroll(e.preview)),
		e.probTab,
	)
	e.infer = widget.NewButtonWithIcon(lang.L("Infer from capture…"), theme.SearchIcon(), p.onInfer)
	e.saveAs = widget.NewButtonWithIcon(lang.L("Save as…"), theme.DocumentSaveIcon(), p.onSaveAs)
	bar := container.NewHBox(e.infer, e.saveAs)
	left := container.NewBorder(bar, e.first, nil, nil, e.text)
	split := container.NewHSplit(left, e.tabs)
	split.Offset = 0.6
	return split
}

func (p *Panel) setProfiles(ps []ProfileEntry) {
	p.profiles = ps
	p.ed.list.Refresh()
}

func (p *Panel) onProfile(i widget.ListItemID) {
	if i < 0 || i >= len(p.profiles) {
		return
	}
	pr := p.profiles[i]
	if pr.YAML == p.ed.text.Text {
		return
	}
	if p.win == nil || !p.dirty() {
		p.load(pr.YAML)
		return
	}
	dialog.ShowConfirm(lang.L("Replace the editor's text?"),
		fmt.Sprintf(lang.L("The editor holds changes that are not saved. Replace them with %q?"), pr.Name),
		func(ok bool) {
			if ok {
				p.load(pr.YAML)
			}
		}, p.win)
}

// dirty says whether the editor holds text that would be lost.
func (p *Panel) dirty() bool {
	t := p.ed.text.Text
	return strings.TrimSpace(t) != "" && t != p.loaded
}

func (p *Panel) load(yaml string) {
	p.loaded = yaml
	p.ed.text.SetText(yaml)
}

// onEdit hands the new text to the validation worker, replacing any text
// it has not read yet. Start keeps the last verdict meanwhile (it checks
// again before it starts), so it does not flicker with every key.
func (p *Panel) onEdit(text string) {
	select {
	case <-p.edits:
	default:
	}
	p.edits <- text
	if text != p.checked {
		setStatus(p.ed.first, lang.L("Checking…"), widget.LowImportance)
	}
}

// validateLoop checks the editor's text once it has not changed for
// p.debounce: Validate, then Preview if the file is valid.
func (p *Panel) validateLoop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var text string
	for {
		select {
		case <-ctx.Done():
			return
		case text = <-p.edits:
			timer.Reset(p.debounce)
		case <-timer.C:
			p.check(text)
		}
	}
}

func (p *Panel) check(text string) {
	problems := p.eng.Validate(text)
	var preview []PreviewMsg
	var err error
	if len(problems) == 0 {
		preview, err = p.eng.Preview(text, 0, previewCount)
	}
	p.do(func() { p.applyCheck(text, problems, preview, err) })
}

// applyCheck shows the verdict on text, unless the editor has moved on
// (a newer verdict is on its way).
func (p *Panel) applyCheck(text string, problems []Problem, preview []PreviewMsg, previewErr error) {
	if text != p.ed.text.Text {
		return
	}
	p.checked, p.problems = text, problems
	p.valid = len(problems) == 0 && strings.TrimSpace(text) != ""
	e := &p.ed
	switch {
	case strings.TrimSpace(text) == "":
		setStatus(e.first, lang.L("Empty: pick a profile or write a scenario."), widget.LowImportance)
	case len(problems) == 0:
		setStatus(e.first, lang.L("Valid."), widget.SuccessImportance)
	case len(problems) == 1:
		setStatus(e.first, problems[0].String(), widget.DangerImportance)
	default:
		setStatus(e.first, fmt.Sprintf(lang.L("%s (and %d more)"), problems[0], len(problems)-1), widget.DangerImportance)
	}
	e.problems.UnselectAll()
	e.problems.Refresh()
	title := lang.L("Problems")
	if len(problems) > 0 {
		title = fmt.Sprintf(lang.L("Problems (%d)"), len(problems))
	}
	if e.probTab.Text != title {
		e.probTab.Text = title
		e.tabs.Refresh()
	}
	switch {
	case len(problems) > 0:
		setText(e.preview, lang.L("No preview: fix the problems first."))
	case previewErr != nil:
		setText(e.preview, lang.L("No preview: ")+previewErr.Error())
	default:
		setText(e.preview, formatMessages(preview))
	}
	p.updateControls()
}

// goToProblem puts the editor's cursor where problem i is.
func (p *Panel) goToProblem(i widget.ListItemID) {
	if i < 0 || i >= len(p.problems) || p.problems[i].Line < 1 {
		return
	}
	pr := p.problems[i]
	e := p.ed.text
	e.CursorRow = pr.Line - 1
	e.CursorColumn = max(pr.Col-1, 0)
	e.Refresh()
	if p.win != nil {
		p.win.Canvas().Focus(e)
	}
}

// String is how the panel lists a problem: "line 3, col 7: msg".
func (pr Problem) String() string {
	switch {
	case pr.Line > 0 && pr.Col > 0:
		return fmt.Sprintf(lang.L("line %d, col %d: %s"), pr.Line, pr.Col, pr.Msg)
	case pr.Line > 0:
		return fmt.Sprintf(lang.L("line %d: %s"), pr.Line, pr.Msg)
	}
	return pr.Msg
}

// formatMessages lists messages as "+1.5 s  topic\n  payload".
func formatMessages(ms []PreviewMsg) string {
	if len(ms) == 0 {
		return lang.L("No messages.")
	}
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "+%s  %s\n  %s", numfmt.Duration(m.At), m.Topic, m.Payload)
	}
	return b.String()
}

// inferSince are the ranges "Infer from capture…" offers.
var inferSince = []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

func (p *Panel) onInfer() {
	filter := widget.NewEntry()
	filter.SetText("#")
	labels := make([]string, len(inferSince))
	for i, d := range inferSince {
		labels[i] = numfmt.Duration(d)
	}
	since := widget.NewSelect(labels, nil)
	since.SetSelected(numfmt.Duration(time.Hour))
	items := []*widget.FormItem{
		widget.NewFormItem(lang.L("Topic filter"), filter),
		widget.NewFormItem(lang.L("Captured in the last"), since),
	}
	dialog.ShowForm(lang.L("Infer a profile from the capture"), lang.L("Infer"), lang.L("Cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		d := time.Hour
		if i := since.SelectedIndex(); i >= 0 {
			d = inferSince[i]
		}
		p.infer(filter.Text, d)
	}, p.win)
}

// infer asks the engine for a profile and puts it in the editor.
func (p *Panel) infer(filter string, since time.Duration) {
	setEnabled(p.ed.infer, false)
	setStatus(p.ed.first, fmt.Sprintf(lang.L("Inferring a profile from %q in the last %s…"), filter, numfmt.Duration(since)), widget.MediumImportance)
	p.actions.Go(func(context.Context) {
		yaml, report, err := p.eng.Infer(filter, since)
		p.do(func() {
			setEnabled(p.ed.infer, true)
			if err != nil {
				setStatus(p.ed.first, lang.L("Not inferred: ")+err.Error(), widget.DangerImportance)
				return
			}
			p.loaded = ""
			p.ed.text.SetText(yaml)
			if report != "" && p.win != nil {
				dialog.ShowInformation(lang.L("Inferred profile"), report, p.win)
			}
		})
	})
}

func (p *Panel) onSaveAs() {
	name := widget.NewEntry()
	name.SetPlaceHolder(lang.L("my-sensor"))
	name.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New(lang.L("Give the profile a name."))
		}
		return nil
	}
	dialog.ShowForm(lang.L("Save the scenario in your profiles"), lang.L("Save"), lang.L("Cancel"),
		[]*widget.FormItem{widget.NewFormItem(lang.L("Name"), name)}, func(ok bool) {
			if ok {
				p.confirmSave(strings.TrimSpace(name.Text))
			}
		}, p.win)
}

// confirmSave asks before a save replaces one of the user's profiles.
func (p *Panel) confirmSave(name string) {
	if !slices.ContainsFunc(p.profiles, func(e ProfileEntry) bool { return !e.BuiltIn && e.Name == name }) {
		p.save(name)
		return
	}
	dialog.ShowConfirm(lang.L("Replace the profile?"), fmt.Sprintf(lang.L("You already have a profile named %q. Replace it?"), name),
		func(ok bool) {
			if ok {
				p.save(name)
			}
		}, p.win)
}

// save writes the editor's text as profile name, then lists it.
func (p *Panel) save(name string) {
	text := p.ed.text.Text
	setEnabled(p.ed.saveAs, false)
	p.actions.Go(func(context.Context) {
		err := p.eng.SaveProfile(name, text)
		var profiles []ProfileEntry
		if err == nil {
			profiles = p.eng.Profiles()
		}
		p.do(func() {
			setEnabled(p.ed.saveAs, true)
			if err != nil {
				setStatus(p.ed.first, lang.L("Not saved: ")+err.Error(), widget.DangerImportance)
				return
			}
			p.loaded = text
			p.setProfiles(profiles)
			setStatus(p.ed.first, fmt.Sprintf(lang.L("Saved as %q."), name), widget.SuccessImportance)
		})
	})
}
