package capturepanel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/replay"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// Replay choices as the dialog shows them.
const (
	targetEmbedded = "The embedded broker"
	targetURL      = "Another broker"
	qosAsCaptured  = "As captured"
)

// speeds are the replay speeds offered, in order; 0 is as fast as it goes.
var speeds = []float64{0.5, 1, 10, 0}

// speedLabel is how the dialog shows speed: 0.5×, 1×, 10×, Max.
func speedLabel(speed float64) string {
	if speed == 0 {
		return lang.X("replay.speed.max", "Max")
	}
	return numfmt.Decimal(strconv.FormatFloat(speed, 'f', -1, 64)) + "×"
}

// speedOf is the speed the label shows (the radio shows labels).
func speedOf(label string) float64 {
	for _, s := range speeds {
		if speedLabel(s) == label {
			return s
		}
	}
	return 1
}

// replayDialog asks where and how to replay the current search.
type replayDialog struct {
	what            *widget.Label
	target          *widget.RadioGroup
	url             *widget.Entry
	user, password  *widget.Entry
	speed           *widget.RadioGroup
	remap           *widget.Entry
	qos             *widget.Select
	clearRetain     *widget.Check
	errText         *widget.Label
	cancel, replayB *widget.Button
	dlg             *dialog.CustomDialog

	embedded string // the embedded broker's URL, "" when it does not run
}

func (p *Panel) onReplay() {
	if p.store == nil || p.act != nil {
		return
	}
	q, desc, err := p.currentSearch()
	if err != nil {
		dialog.ShowError(fmt.Errorf(lang.L("The search form is not valid, so there is nothing to replay: %w"), err), p.win)
		return
	}
	d := &replayDialog{}
	if p.opts.BrokerURL != nil {
		d.embedded = p.opts.BrokerURL()
	}
	what := lang.L("every message of the current search")
	if p.ctx != nil && !p.loading && p.next == "" {
		what = fmt.Sprintf(lang.L("the %s of the current search"), numfmt.Plural(int64(len(p.recs)), "message", "messages"))
	}
	d.what = widget.NewLabel(fmt.Sprintf(lang.L("Publishes %s (%s) again, oldest first, keeping their timing, payloads and properties."), what, desc))
	d.what.Wrapping = fyne.TextWrapWord

	embeddedLabel := lang.L(targetEmbedded) + " (" + d.embedded + ")"
	if d.embedded == "" {
		embeddedLabel = lang.L(targetEmbedded) + lang.L(" (not running)")
	}
	d.url = widget.NewEntry()
	d.url.SetPlaceHolder(lang.L("mqtt://host:1883, mqtts://…, ws://host:8083/mqtt"))
	d.target = widget.NewRadioGroup([]string{embeddedLabel, lang.L(targetURL)}, func(string) { d.toggled() })
	d.target.Required = true
	d.user = widget.NewEntry()
	d.user.SetPlaceHolder(lang.L("User name (optional)"))
	d.password = widget.NewPasswordEntry()
	d.password.SetPlaceHolder(lang.L("Password (optional)"))
	labels := make([]string, len(speeds))
	for i, s := range speeds {
		labels[i] = speedLabel(s)
	}
	d.speed = widget.NewRadioGroup(labels, nil)
	d.speed.Horizontal = true
	d.speed.Required = true
	d.speed.SetSelected(speedLabel(1))
	d.remap = widget.NewMultiLineEntry()
	d.remap.SetPlaceHolder(lang.L("OLD=NEW, one per line, e.g. plant=replay/plant"))
	d.remap.SetMinRowsVisible(2)
	d.qos = widget.NewSelect([]string{lang.L(qosAsCaptured), "0", "1", "2"}, nil)
	d.qos.SetSelected(lang.L(qosAsCaptured))
	d.clearRetain = widget.NewCheck(lang.L("Clear retain flags"), nil)
	d.errText = errLabel()
	for _, e := range []*widget.Entry{d.url, d.remap, d.user, d.password} {
		e.OnChanged = func(string) { setLabel(d.errText, "", widget.DangerImportance) }
	}
	if d.embedded != "" {
		d.target.SetSelected(embeddedLabel)
	} else {
		d.target.SetSelected(lang.L(targetURL))
		d.target.Disable()
	}
	d.toggled()

	form := container.New(layout.NewFormLayout(),
		widget.NewLabel(lang.L("Target")), d.target,
		widget.NewLabel(lang.L("URL")), d.url,
		widget.NewLabel(lang.L("Login")), container.NewGridWithColumns(2, d.user, d.password),
		widget.NewLabel(lang.L("Speed")), d.speed,
		widget.NewLabel(lang.L("Remap topics")), d.remap,
		widget.NewLabel(lang.L("QoS")), container.NewHBox(d.qos, d.clearRetain),
	)
	content := container.NewVBox(d.what, form,
		hint(lang.L("Replayed messages pass through the target broker; into the embedded one they are captured again. "+
			"Only messages captured before the replay starts are replayed.")),
		d.errText)
	d.cancel = widget.NewButton(lang.L("Cancel"), nil)
	d.replayB = widget.NewButtonWithIcon(lang.L("Replay"), theme.MediaReplayIcon(), func() { p.startReplay(d, q) })
	d.replayB.Importance = widget.HighImportance
	d.dlg = dialog.NewCustomWithoutButtons(lang.L("Replay the search"), content, p.win)
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.replayB})
	d.cancel.OnTapped = d.dlg.Hide
	d.dlg.Resize(fyne.NewSize(680, 1)) // height: the minimum
	p.replayDlg = d
	d.dlg.Show()
}

func (d *replayDialog) toggled() {
	if d.url == nil {
		return
	}
	setEnabled(d.url, d.target.Selected == lang.L(targetURL))
}

// targetURL is the URL to replay to.
func (d *replayDialog) targetURL() string {
	if d.target.Selected == lang.L(targetURL) {
		return strings.TrimSpace(d.url.Text)
	}
	return d.embedded
}

// options reads the form.
func (d *replayDialog) options() (replay.ClientOptions, replay.Options, error) {
	co := replay.ClientOptions{URL: d.targetURL(), Username: strings.TrimSpace(d.user.Text)}
	if d.password.Text != "" {
		co.Password = []byte(d.password.Text)
	}
	var ro replay.Options
	if co.URL == "" {
		return co, ro, errors.New(lang.L("Enter the URL of the broker to replay to."))
	}
	if _, err := replay.ParseURL(co.URL); err != nil {
		return co, ro, fmt.Errorf(lang.L("URL: %w"), err)
	}
	ro.Speed = speedOf(d.speed.Selected)
	for i, line := range strings.Split(d.remap.Text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		r, err := replay.ParseRemap(line)
		if err != nil {
			return co, ro, fmt.Errorf(lang.L("Remap line %d: %w"), i+1, err)
		}
		ro.Remap = append(ro.Remap, r)
	}
	if s := d.qos.Selected; s != lang.L(qosAsCaptured) && s != "" {
		q := s[0] - '0'
		ro.QoS = &q
	}
	ro.ClearRetain = d.clearRetain.Checked
	if err := ro.Validate(); err != nil {
		return co, ro, fmt.Errorf(lang.L("The replay settings are not valid: %w"), err)
	}
	return co, ro, nil
}

// replayState is what the progress line shows; written by the replay's
// goroutine, read on the UI goroutine.
type replayState struct {
	counting                  atomic.Bool
	published, skipped, total atomic.Int64
	position, span            atomic.Int64 // time.Duration
}

func (p *Panel) startReplay(d *replayDialog, q capture.Query) {
	co, ro, err := d.options()
	if err != nil {
		setLabel(d.errText, err.Error(), widget.DangerImportance)
		return
	}
	store := p.store
	target := co.URL
	if t, err := replay.ParseURL(target); err == nil {
		target = t.String()
	}
	st := &replayState{}
	st.counting.Store(true)
	started := p.startAction(job{
		title:       lang.L("Replay"),
		cancellable: true,
		status:      func(int64, int64) string { return st.text(target, ro.Speed) },
		run: func(ctx context.Context, progress func(int64, int64)) (string, error) {
			client, err := replay.Dial(ctx, co)
			if err != nil {
				if ctx.Err() != nil {
					return lang.L("Replay cancelled before it connected; nothing was published."), err
				}
				return lang.L("Replay failed: ") + err.Error(), err
			}
			defer client.Close()
			res, err := replay.Run(ctx, store, q, client, ro, func(pr replay.Progress) {
				st.counting.Store(false)
				st.published.Store(pr.Published)
				st.skipped.Store(pr.Skipped)
				st.total.Store(pr.Total)
				st.position.Store(int64(pr.Position))
				st.span.Store(int64(pr.Span))
				if ro.Speed > 0 && pr.Span > 0 {
					progress(int64(pr.Position), int64(pr.Span)) // time drives a timed replay
				} else {
					progress(pr.Published+pr.Skipped, pr.Total)
				}
			})
			skipped := ""
			if res.Skipped > 0 {
				skipped = fmt.Sprintf(lang.L(" (%s left out: remapped to an empty topic)"), numfmt.Plural(res.Skipped, "message", "messages"))
			}
			switch {
			case err != nil && ctx.Err() != nil:
				return fmt.Sprintf(lang.L("Replay stopped after %s of %s to %s%s."), numfmt.Count(res.Published),
					numfmt.Plural(res.Total, "message", "messages"), target, skipped), err
			case err != nil:
				return fmt.Sprintf(lang.L("Replay failed after %s of %s: %v"), numfmt.Count(res.Published), numfmt.Plural(res.Total, "message", "messages"), err), err
			}
			return fmt.Sprintf(lang.L("Replayed %s to %s in %s s%s."), numfmt.Plural(res.Published, "message", "messages"), target,
				numfmt.Fixed(res.Elapsed.Seconds(), 1), skipped), nil
		},
	})
	if started {
		d.dlg.Hide()
	}
}

// text is the progress line of a replay to target at speed.
func (st *replayState) text(target string, speed float64) string {
	if st.counting.Load() {
		return lang.L("Replay to ") + target + lang.L(": connecting and counting messages…")
	}
	line := fmt.Sprintf(lang.L("Replaying to %s: %s of %s"), target, numfmt.Count(st.published.Load()),
		numfmt.Plural(st.total.Load(), "message", "messages"))
	if speed > 0 {
		if span := time.Duration(st.span.Load()); span > 0 {
			line += fmt.Sprintf(lang.L(" · %s of %s of capture time"), shortDuration(time.Duration(st.position.Load())), shortDuration(span))
		}
	}
	return line
}

// shortDuration is d as 1:02:03 or 2:03, in whole seconds elapsed (so
// that a position never shows as far as a span it has not reached).
func shortDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
