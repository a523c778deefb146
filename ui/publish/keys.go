package publish

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// isPublishKey reports whether sc is Ctrl/Cmd+Enter (either Enter key),
// which publishes the form as the Publish button does.
func isPublishKey(sc fyne.Shortcut) bool {
	c, ok := sc.(*desktop.CustomShortcut)
	return ok && c.Modifier == fyne.KeyModifierShortcutDefault && (c.KeyName == fyne.KeyReturn || c.KeyName == fyne.KeyEnter)
}

// formEntry is an entry of the form on which Ctrl/Cmd+Enter publishes.
// The desktop driver hands a shortcut to the focused entry rather than to
// the window, and widget.Entry drops the ones it does not know, so the
// window's shortcut alone would not fire while the user types.
type formEntry struct {
	widget.Entry
	submit func()
}

func newFormEntry(submit func()) *formEntry {
	e := &formEntry{submit: submit}
	e.ExtendBaseWidget(e)
	return e
}

// newFormMultiLineEntry is widget.NewMultiLineEntry as a formEntry.
func newFormMultiLineEntry(submit func()) *formEntry {
	e := &formEntry{submit: submit}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.ExtendBaseWidget(e)
	return e
}

func (e *formEntry) TypedShortcut(sc fyne.Shortcut) {
	if isPublishKey(sc) {
		e.submit()
		return
	}
	e.Entry.TypedShortcut(sc)
}

// registerPublishKey makes Ctrl/Cmd+Enter on w publish while the panel is
// shown and nothing that takes shortcuts has the focus (a button, the
// format selector).
func (p *Panel) registerPublishKey(w fyne.Window) {
	for _, key := range []fyne.KeyName{fyne.KeyReturn, fyne.KeyEnter} {
		w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault},
			func(fyne.Shortcut) { p.publishByKey() })
	}
}

// publishByKey is Ctrl/Cmd+Enter: the Publish button's action, if the
// panel is shown and the button could be pressed (it is disabled while a
// run goes on or the form has an error).
func (p *Panel) publishByKey() {
	if !p.content.Visible() || p.form.publish.Disabled() {
		return
	}
	p.onPublish()
}
