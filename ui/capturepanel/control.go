package capturepanel

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// onPause pauses or resumes capturing. While paused the store ignores
// what the broker hands it; nothing already captured changes.
func (p *Panel) onPause() {
	if p.src == nil {
		return
	}
	p.paused = !p.paused
	p.src.SetPaused(p.paused)
	p.showPaused(p.paused)
	p.refreshNow()
}

// showPaused shows whether capturing is paused, on the toolbar.
func (p *Panel) showPaused(paused bool) {
	p.paused = paused
	if paused {
		p.pauseBtn.SetText(lang.L("Resume"))
		p.pauseBtn.SetIcon(theme.MediaPlayIcon())
		p.pauseBtn.Importance = widget.HighImportance
		p.pauseBtn.Refresh()
		setLabel(p.capturing, lang.L("PAUSED — new messages are not captured"), widget.WarningImportance)
		return
	}
	p.pauseBtn.SetText(lang.L("Pause"))
	p.pauseBtn.SetIcon(theme.MediaPauseIcon())
	p.pauseBtn.Importance = widget.MediumImportance
	p.pauseBtn.Refresh()
	setLabel(p.capturing, lang.L("Capturing"), widget.SuccessImportance)
}

// updateButtons enables what can be done now: nothing without a store,
// one action at a time.
func (p *Panel) updateButtons() {
	busy := p.act != nil
	setEnabled(p.pauseBtn, p.src != nil)
	setEnabled(p.clearBtn, p.src != nil && !busy)
	setEnabled(p.retentionBtn, p.src != nil)
	for _, b := range []*widget.Button{p.exportBtn, p.importBtn, p.replayBtn} {
		setEnabled(b, p.store != nil && !busy)
	}
}

func setEnabled(w fyne.Disableable, on bool) {
	if on && w.Disabled() {
		w.Enable()
	} else if !on && !w.Disabled() {
		w.Disable()
	}
}

// job is one long action: export, import, replay or clear.
type job struct {
	// title names it in messages: "Export".
	title string
	// cancellable shows a Cancel button while it runs.
	cancellable bool
	// status is the progress line for done of total (total <= 0: unknown).
	status func(done, total int64) string
	// run does the work off the UI goroutine, reporting progress, and
	// returns the line shown when it ends (err != nil: shown as an error;
	// "" with an error: the error itself).
	run func(ctx context.Context, progress func(done, total int64)) (string, error)
	// after, if set, runs on the UI goroutine once it has ended.
	after func(err error)
}

// action is the running job.
type action struct {
	job
	cancel      context.CancelFunc
	cancelled   bool // by the user (UI goroutine)
	done, total atomic.Int64
	pending     atomic.Bool // a progress update is queued for the UI
}

// startAction runs j in a goroutine with a progress bar (and Cancel),
// unless another action runs. It reports whether j started.
func (p *Panel) startAction(j job) bool {
	if p.act != nil {
		return false
	}
	cancelled, cancel := context.WithCancel(context.Background()) // by Cancel
	a := &action{job: j, cancel: cancel}
	a.total.Store(-1)
	p.act = a
	p.updateButtons()
	p.actionBars.Show()
	setVisible(p.actionCancel, j.cancellable)
	p.actionCancel.Enable()
	p.actionClose.Hide()
	p.actionRow.Show()
	p.relayoutAction()
	p.showProgress(a)
	p.content.Refresh()

	progress := func(done, total int64) {
		a.done.Store(done)
		a.total.Store(total)
		if a.pending.CompareAndSwap(false, true) {
			p.do(func() {
				a.pending.Store(false)
				if p.act == a {
					p.showProgress(a)
				}
			})
		}
	}
	p.actions.Go(func(life context.Context) {
		defer cancel()
		ctx, stop := context.WithCancel(life)
		defer stop()
		defer context.AfterFunc(cancelled, stop)()
		msg, err := j.run(ctx, progress)
		if life.Err() != nil {
			return // the panel is gone
		}
		p.do(func() { p.finishAction(a, msg, err) })
	})
	return true
}

// showProgress shows a's progress: a bar when the total is known, an
// animated one otherwise.
func (p *Panel) showProgress(a *action) {
	done, total := a.done.Load(), a.total.Load()
	setLabel(p.actionText, a.status(done, total), widget.MediumImportance)
	if total > 0 {
		p.actionSpin.Stop()
		p.actionSpin.Hide()
		p.actionBar.Show()
		p.actionBar.SetValue(min(1, float64(done)/float64(total)))
		return
	}
	p.actionBar.Hide()
	if !p.actionSpin.Visible() {
		p.actionSpin.Show()
		p.actionSpin.Start()
	}
}

func (p *Panel) finishAction(a *action, msg string, err error) {
	if p.act != a {
		return
	}
	p.act = nil
	p.actionSpin.Stop()
	p.actionSpin.Hide()
	p.actionBar.Hide()
	p.actionBars.Hide()
	p.actionCancel.Hide()
	p.actionClose.Show()
	p.relayoutAction()
	imp := widget.SuccessImportance
	switch {
	case err != nil && (a.cancelled || errors.Is(err, context.Canceled)):
		imp = widget.WarningImportance
		if msg == "" {
			msg = a.title + lang.L(" cancelled.")
		}
	case err != nil:
		imp = widget.DangerImportance
		if msg == "" {
			msg = a.title + lang.L(" failed: ") + err.Error()
		}
	}
	setLabel(p.actionText, msg, imp)
	p.updateButtons()
	p.content.Refresh()
	p.refreshNow()
	if a.after != nil {
		a.after(err)
	}
}

// relayoutAction lays the action row out before its text changes: a
// wrapping label measures its height at the width it last had, so it must
// have its new width first or the row keeps the wrong height.
func (p *Panel) relayoutAction() {
	if p.actionRow.Size().Width > 0 {
		p.actionRow.Refresh()
	}
}

// onCancelAction cancels the running action; its goroutine ends it.
func (p *Panel) onCancelAction() {
	if p.act == nil {
		return
	}
	p.act.cancelled = true
	p.act.cancel()
	p.actionCancel.Disable()
	setLabel(p.actionText, p.act.title+lang.L(": cancelling…"), widget.MediumImportance)
}

// onCloseAction hides the result of the last action.
func (p *Panel) onCloseAction() {
	if p.act != nil {
		return
	}
	p.actionRow.Hide()
	p.content.Refresh()
}

func setVisible(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// refreshResults runs the current search again (after the store's
// content changed), or just clears the detail if there was none.
func (p *Panel) refreshResults() {
	if p.ctx != nil {
		p.runQuery(p.query)
		return
	}
	p.showDetail(nil)
}

// clearDialog asks before deleting every captured record.
type clearDialog struct {
	text        *widget.Label
	cancel, del *widget.Button
	dlg         *dialog.CustomDialog
}

// onClear counts the records, then asks whether to delete them.
func (p *Panel) onClear() {
	if p.src == nil || p.act != nil {
		return
	}
	p.clearBtn.Disable()
	p.actions.Go(func(life context.Context) {
		st, err := p.src.Stats()
		if life.Err() != nil {
			return
		}
		p.do(func() {
			p.updateButtons()
			if err != nil {
				dialog.ShowError(fmt.Errorf(lang.L("Cannot count the captured records: %w"), err), p.win)
				return
			}
			if p.act != nil {
				return
			}
			p.showClearDialog(st.Records)
		})
	})
}

func (p *Panel) showClearDialog(records int64) {
	c := &clearDialog{}
	c.text = widget.NewLabel("")
	c.text.Wrapping = fyne.TextWrapWord
	c.cancel = widget.NewButton(lang.L("Cancel"), nil)
	c.del = widget.NewButtonWithIcon(lang.L("Delete ")+numfmt.Plural(records, "record", "records"), theme.DeleteIcon(), nil)
	c.del.Importance = widget.DangerImportance
	if records == 0 {
		c.text.SetText(lang.L("The capture holds no records."))
		c.cancel.SetText(lang.L("Close"))
		c.del.Hide()
	} else {
		c.text.SetText(fmt.Sprintf(lang.L("Delete all %s?\n\n"+
			"This cannot be undone. Messages that arrive while deleting are deleted too; "+
			"export first (Export…) to keep a copy."), numfmt.Plural(records, "captured record", "captured records")))
	}
	c.dlg = dialog.NewCustomWithoutButtons(lang.L("Clear the capture"), c.text, p.win)
	c.dlg.SetButtons([]fyne.CanvasObject{c.cancel, c.del})
	c.cancel.OnTapped = c.dlg.Hide
	c.del.OnTapped = func() {
		c.dlg.Hide()
		p.startAction(job{
			title:  lang.L("Clear"),
			status: func(int64, int64) string { return lang.L("Deleting every captured record…") },
			run: func(ctx context.Context, _ func(int64, int64)) (string, error) {
				n, err := p.src.Clear(ctx)
				if err != nil {
					return "", err
				}
				return lang.L("Deleted ") + numfmt.Plural(n, "record", "records") + ".", nil
			},
			after: func(error) { p.refreshResults() },
		})
	}
	c.dlg.Resize(fyne.NewSize(480, 1)) // height: the minimum
	p.clearDlg = c
	c.dlg.Show()
}

func hint(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.SizeName = theme.SizeNameCaptionText
	l.Wrapping = fyne.TextWrapWord
	return l
}

func errLabel() *widget.Label {
	l := widget.NewLabel("") // empty, not hidden: keeps the dialog's size
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	return l
}
