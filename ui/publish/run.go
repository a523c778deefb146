package publish

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/saved"
	"github.com/iotstudio/iotstudio/ui/localname"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// run is one publish job: a message sent n times on a connection.
type run struct {
	conn   string
	msg    client.Message
	format payloadFormat
	n      int
	every  time.Duration
	sent   atomic.Int64
	// shown is set while a progress update waits for the UI, so that a
	// fast run sends the UI one update at a time, never a backlog.
	shown atomic.Bool
}

// outcome is how a run ended.
type outcome struct {
	sent    int
	err     error
	stopped bool
	started time.Time
	took    time.Duration
}

func (p *Panel) onPublish() {
	m, errs := p.formMessage()
	n, every, err := p.repeatSettings()
	if errs.any() || err != nil || p.form.conn.Selected == "" {
		p.validate()
		return
	}
	p.start(&run{conn: p.connName(), msg: m, format: p.format, n: n, every: every})
}

// publishSaved sends a saved message once on the selected connection.
func (p *Panel) publishSaved(m saved.Message) {
	if p.running {
		p.showResult(lang.L("A publish is running; stop it first."), widget.WarningImportance)
		return
	}
	if p.form.conn.Selected == "" {
		p.showResult(lang.L("Open a connection first: there is none to publish on."), widget.DangerImportance)
		return
	}
	p.start(&run{conn: p.connName(), msg: m.ClientMessage(), format: formatFromFile(m.Format), n: 1})
}

// start runs r on a goroutine owned by the panel, cancelled by Stop and
// when Serve ends.
func (p *Panel) start(r *run) {
	stopped, stopRun := context.WithCancel(context.Background())
	p.running, p.stopRun = true, stopRun
	f := &p.form
	f.stop.Enable()
	if r.n > 1 {
		f.progress.SetValue(0)
		f.progress.Show()
	} else {
		f.progress.Hide()
	}
	p.showResult(fmt.Sprintf(lang.L("Publishing to %s on %s…"), r.msg.Topic, r.conn), widget.MediumImportance)
	p.validate()
	p.actions.Go(func(ctx context.Context) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(stopped, cancel)()
		defer stopRun()
		out := p.execute(ctx, r)
		if out.sent > 0 && p.history != nil {
			e := saved.Entry{Time: out.started, Connection: r.conn, Count: out.sent, Message: saved.FromClient("", r.format.fileName(), r.msg)}
			if err := p.history.Add(e); err != nil {
				p.log.Warn("publish history not saved", "error", err)
				out.err = errors.Join(out.err, err)
			}
		}
		p.do(func() { p.finish(r, out) })
	})
}

// execute publishes r.msg r.n times, r.every apart, until done, an error
// or ctx ends.
func (p *Panel) execute(ctx context.Context, r *run) (out outcome) {
	out.started = time.Now()
	defer func() { out.took = time.Since(out.started) }() // a named result, or the time is lost
	conn := p.mgr.Get(r.conn)
	if conn == nil {
		out.err = fmt.Errorf(lang.L("connection %q is not open; open it again in Connections"), r.conn)
		return out
	}
	var tick *time.Ticker
	if r.n > 1 && r.every > 0 {
		tick = time.NewTicker(r.every)
		defer tick.Stop()
	}
	for i := 0; i < r.n; i++ {
		if i > 0 && tick != nil {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
		if ctx.Err() != nil {
			out.stopped = true
			return out
		}
		if err := conn.Publish(ctx, r.msg); err != nil {
			if ctx.Err() != nil {
				out.stopped = true
			} else {
				out.err = err
			}
			return out
		}
		out.sent++
		r.sent.Store(int64(out.sent))
		if r.n > 1 && r.shown.CompareAndSwap(false, true) {
			p.do(func() { p.showProgress(r) })
		}
	}
	return out
}

func (p *Panel) showProgress(r *run) {
	r.shown.Store(false)
	if !p.running {
		return
	}
	sent := r.sent.Load()
	p.form.progress.SetValue(float64(sent) / float64(r.n))
	p.showResult(fmt.Sprintf(lang.L("Published %d of %d to %s on %s…"), sent, r.n, r.msg.Topic, r.conn), widget.MediumImportance)
}

func (p *Panel) finish(r *run, out outcome) {
	p.running, p.stopRun = false, nil
	f := &p.form
	f.stop.Disable()
	if r.n > 1 {
		f.progress.SetValue(float64(out.sent) / float64(r.n))
	}
	what := fmt.Sprintf(lang.L("%s on %s"), r.msg.Topic, localname.Label(r.conn))
	switch {
	case out.err != nil && out.sent == 0:
		p.showResult(lang.L("Not published: ")+out.err.Error(), widget.DangerImportance)
	case out.err != nil:
		p.showResult(fmt.Sprintf(lang.L("Published %d of %d to %s, then: %v"), out.sent, r.n, what, out.err), widget.DangerImportance)
	case out.stopped:
		p.showResult(fmt.Sprintf(lang.L("Stopped after %d of %d to %s."), out.sent, r.n, what), widget.WarningImportance)
	case r.n == 1:
		p.showResult(fmt.Sprintf(lang.L("Published to %s (QoS %d%s) at %s."), what, r.msg.QoS, retainedNote(r.msg), out.started.Format("15:04:05")), widget.SuccessImportance)
	default:
		p.showResult(fmt.Sprintf(lang.L("Published %d times to %s in %s."), out.sent, what, numfmt.Duration(out.took)), widget.SuccessImportance)
	}
	p.refreshHistory()
	p.validate()
}

func retainedNote(m client.Message) string {
	if m.Retain {
		return lang.L(", retained")
	}
	return ""
}

func (p *Panel) onStop() {
	if p.stopRun != nil {
		p.stopRun()
	}
}

func (p *Panel) showResult(text string, imp widget.Importance) {
	showMessage(p.form.result, text, imp)
}
