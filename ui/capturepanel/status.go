package capturepanel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/kvstore"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// status is what one refresh reads from the store, off the UI goroutine.
type status struct {
	stats capture.Stats
	err   error
	rate  float64 // records ingested per second since the previous refresh; <0 unknown
}

// Serve updates the status line about once a second until ctx is done,
// then cancels the actions (export, import, replay, clear) under way,
// waits for them and returns nil. The owner closes the store only after
// Serve returned. Only one Serve may be active at a time.
func (p *Panel) Serve(ctx context.Context) error {
	if !p.serving.CompareAndSwap(false, true) {
		return errors.New("capture panel: Serve called while the panel is already serving")
	}
	defer p.serving.Store(false)
	p.refreshLoop(ctx)
	p.actions.Stop()
	return nil
}

// refreshNow asks the refresh goroutine for a status update without
// waiting for the next tick.
func (p *Panel) refreshNow() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *Panel) refreshLoop(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	var (
		lastIngested int64
		lastAt       time.Time
	)
	for {
		// Skip a tick while the previous update still waits for the UI.
		if p.pending.CompareAndSwap(false, true) {
			st, err := p.src.Stats()
			now := time.Now()
			s := status{stats: st, err: err, rate: -1}
			if err == nil {
				if !lastAt.IsZero() && st.Ingested >= lastIngested {
					if dt := now.Sub(lastAt).Seconds(); dt > 0 {
						s.rate = float64(st.Ingested-lastIngested) / dt
					}
				}
				lastIngested, lastAt = st.Ingested, now
			}
			p.do(func() {
				p.pending.Store(false)
				p.applyStatus(s)
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
	}
}

// applyStatus shows s on the status line.
func (p *Panel) applyStatus(s status) {
	if s.err != nil {
		setLabel(p.records, lang.L("Capture store unavailable"), widget.DangerImportance)
		setLabel(p.disk, "", widget.MediumImportance)
		setLabel(p.rate, "", widget.MediumImportance)
		setLabel(p.dropped, "", widget.MediumImportance)
		setLabel(p.retention, "", widget.MediumImportance)
		setLabel(p.span, s.err.Error(), widget.DangerImportance)
		return
	}
	st := s.stats
	p.stats, p.haveStats = st, true
	p.followEmpty(st)
	setLabel(p.retention, retentionText(st.MaxBytes, st.MaxAge), widget.MediumImportance)
	setLabel(p.records, numfmt.Plural(st.Records, "record", "records"), widget.MediumImportance)
	setLabel(p.disk, numfmt.Bytes(st.DiskBytes)+lang.L(" on disk"), widget.MediumImportance)
	rate := lang.L("— rec/s")
	if s.rate >= 0 {
		rate = numfmt.Rate(s.rate) + lang.L(" rec/s")
	}
	setLabel(p.rate, rate, widget.MediumImportance)
	dropped, imp := numfmt.Count(st.Dropped)+lang.L(" dropped"), widget.MediumImportance
	if st.Failed > 0 {
		dropped += fmt.Sprintf(lang.L(", %s failed"), numfmt.Count(st.Failed))
	}
	if st.Dropped > 0 || st.Failed > 0 {
		imp = widget.DangerImportance
	}
	if st.DiskFull {
		dropped = diskFullText(st) + " · " + dropped
		imp = widget.DangerImportance
	}
	if damaged := damageText(st); damaged != "" {
		dropped += " · " + damaged
		imp = widget.DangerImportance
	}
	setLabel(p.dropped, dropped, imp)
	span := lang.L("empty")
	if !st.Oldest.IsZero() {
		span = lang.L("oldest ") + numfmt.Time(st.Oldest) + lang.L(" · newest ") + numfmt.Time(st.Newest)
	}
	setLabel(p.span, span, widget.MediumImportance)
}

// damageText counts the records the capture holds but cannot read back
// (damaged blocks) and those a crash cut short, "" when there are none.
func damageText(st capture.Stats) string {
	var lost int64
	for _, l := range st.Lost {
		lost += l.Records()
	}
	switch {
	case st.DamagedRecords > 0 && lost > 0:
		return fmt.Sprintf(lang.L("%s damaged, %s lost in a crash"), numfmt.Count(st.DamagedRecords), numfmt.Count(lost))
	case st.DamagedRecords > 0:
		return numfmt.Count(st.DamagedRecords) + lang.L(" damaged (unreadable)")
	case lost > 0:
		return numfmt.Count(lost) + lang.L(" lost in a crash")
	}
	return ""
}

// diskFullText tells the user that a full disk stopped the capture, and
// how to start it again.
func diskFullText(st capture.Stats) string {
	return fmt.Sprintf(lang.L("Disk full: capture stopped (%s free); free space and it resumes"), kvstore.MB(st.DiskFree))
}

// followEmpty runs the newest-messages search again when it listed
// nothing and records have arrived since: a user who opened the panel
// before the traffic started sees it come in, about once a second,
// instead of an empty list under a growing count. Only the empty form's
// search (the newest records, cheap at any store size) is repeated; a
// filtered one could scan the whole store every second. A list with
// records is left alone while the user reads it.
func (p *Panel) followEmpty(st capture.Stats) {
	if p.ctx == nil || p.loading || p.failed || len(p.recs) > 0 || !p.formEmpty() || st.Ingested == p.searchIngested {
		return
	}
	p.onSearch()
}

// formEmpty reports whether the search form asks for nothing but the
// newest (or oldest) records.
func (p *Panel) formEmpty() bool {
	return p.filter.Text == "" && p.since.Text == "" && p.until.Text == "" && p.contains.Text == "" && p.where.Text == ""
}

func setLabel(l *widget.Label, text string, imp widget.Importance) {
	if l.Text != text || l.Importance != imp {
		l.Text, l.Importance = text, imp
		l.Refresh()
	}
}
