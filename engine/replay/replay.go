package replay

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
)

// Source is the capture a replay reads: a capture.Store, or one that
// another process holds open, reached through it.
type Source interface {
	capture.Querier
	// Flush makes everything captured so far visible to Query.
	Flush(ctx context.Context) error
}

// Publisher sends replayed messages somewhere. Run calls it from one
// goroutine. Publish may return before a QoS 1 or 2 message is
// acknowledged; an error about it is then returned by a later Publish or
// by Flush.
type Publisher interface {
	// Publish sends r.Topic, r.Payload, r.QoS, r.Retain and r's MQTT 5
	// properties. The other fields of r mean nothing to it.
	Publish(ctx context.Context, r message.Message) error
	// Flush waits until everything published so far is acknowledged.
	Flush(ctx context.Context) error
}

// Options shape a replay. The zero value replays at full speed with topics,
// QoS and retain flags as captured.
type Options struct {
	// Speed scales the original timing: 1 is real time, 10 ten times
	// faster, 0.5 half as fast. 0, negative or +Inf: as fast as possible.
	Speed float64
	// Remap rewrites topic prefixes; the longest matching Old wins.
	Remap []Remap
	// QoS, if set, replaces every record's QoS.
	QoS *byte
	// ClearRetain publishes every message with the retain flag cleared.
	ClearRetain bool
	// ProgressEvery is the least time between two progress calls while
	// the replay runs (default 250 ms); a last call always reports the end.
	ProgressEvery time.Duration
}

// Validate reports what is wrong with o: a speed that is not a number, a
// QoS above 2, a bad remap or the same prefix remapped twice.
func (o Options) Validate() error {
	if math.IsNaN(o.Speed) {
		return errors.New("speed is not a number")
	}
	if o.QoS != nil && *o.QoS > 2 {
		return fmt.Errorf("QoS %d; use 0, 1 or 2", *o.QoS)
	}
	_, err := newRemapper(o.Remap)
	return err
}

// Progress describes a running replay.
type Progress struct {
	// Published counts the records handed to the Publisher, Skipped those
	// left out because a remap made their topic empty, Total all the
	// records the replay selected.
	Published, Skipped, Total int64
	// Position is how far into the original timeline the replay is, out
	// of Span: the time from the first to the last selected record.
	Position, Span time.Duration
	// Elapsed is the wall time since publishing began.
	Elapsed time.Duration
	// Done is set on the last call.
	Done bool
}

// Result is what a replay did, also when it stopped early.
type Result struct {
	Published, Skipped, Total int64
	// First and Last are the capture times of the first and last selected
	// records; Span is Last-First (zero when nothing was selected).
	First, Last time.Time
	Span        time.Duration
	// Elapsed is the wall time spent publishing (counting excluded).
	Elapsed time.Duration
}

// pageSize is how many records Run reads at a time (tests shrink it).
var pageSize = 200

// flushOnStop bounds the wait for acknowledgements after a cancelled replay.
const flushOnStop = 2 * time.Second

// maxOffset keeps a scaled offset inside time.Duration.
const maxOffset = time.Duration(1 << 62)

// Run replays the records q selects, oldest first, through pub. q.Filter,
// Since, Until, Contains and Where select; Limit, Newest and Cursor are
// ignored. Only records captured before Run starts are replayed: Until is
// lowered to the start time, so a replay into the broker that feeds the
// same store never replays its own output.
//
// Record i is published at start + (t_i - t_0)/Speed, measured from the
// start of publishing rather than by adding up sleeps, so lateness does not
// accumulate; records already late (or captured out of order) go at once.
// Run first counts the selected records (one pass over them), then
// publishes. progress (may be nil) is called on Run's goroutine and must
// return quickly.
//
// Run stops when ctx is done, also in the middle of a long wait: it then
// waits briefly for outstanding acknowledgements and returns the counts so
// far with an error that wraps ctx.Err(). A Publisher error stops the
// replay too.
func Run(ctx context.Context, store Source, q capture.Query, pub Publisher, opts Options, progress func(Progress)) (Result, error) {
	start := time.Now()
	var res Result
	if err := opts.Validate(); err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	remap, err := newRemapper(opts.Remap)
	if err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	if err := message.ValidateFilter(q.Filter); err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 250 * time.Millisecond
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	speed := opts.Speed
	if speed <= 0 || math.IsInf(speed, 1) {
		speed = 0
	}

	// Make whatever was captured up to now visible, then never look past it.
	if err := store.Flush(ctx); err != nil {
		return res, replayErr(ctx, res, fmt.Errorf("replay: %w", err))
	}
	q.Newest, q.Cursor, q.Limit = false, "", pageSize
	if q.Until.IsZero() || q.Until.After(start) {
		q.Until = start
	}

	if res.Total, res.First, res.Last, err = survey(ctx, store, q); err != nil {
		return res, replayErr(ctx, res, err)
	}
	res.Span = res.Last.Sub(res.First)

	r := &runner{
		pub: pub, opts: opts, speed: speed, remap: remap, progress: progress,
		res: &res, begin: time.Now(), nextProgress: time.Now(),
	}
	r.report(r.begin, false)
	err = r.publishAll(ctx, store, q)
	if err == nil {
		err = pub.Flush(ctx)
	} else if ctx.Err() != nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushOnStop)
		_ = pub.Flush(fctx)
		cancel()
	}
	res.Elapsed = time.Since(r.begin)
	r.report(time.Now(), true)
	return res, replayErr(ctx, res, err)
}

// replayErr makes cancellation errors say how far the replay got.
func replayErr(ctx context.Context, res Result, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("replay interrupted after %d of %d records: %w", res.Published, res.Total, ctx.Err())
	}
	return err
}

// survey counts the records q selects and finds the least and greatest
// capture times among them (seq order and time order may differ slightly).
func survey(ctx context.Context, store capture.Querier, q capture.Query) (n int64, first, last time.Time, err error) {
	for {
		recs, next, err := store.Query(ctx, q)
		if err != nil {
			return n, first, last, fmt.Errorf("replay: counting the records: %w", err)
		}
		for _, r := range recs {
			if n == 0 || r.Time.Before(first) {
				first = r.Time
			}
			if n == 0 || r.Time.After(last) {
				last = r.Time
			}
			n++
		}
		if next == "" {
			return n, first, last, nil
		}
		q.Cursor = next
	}
}

// runner is the state of one Run's publishing loop.
type runner struct {
	pub      Publisher
	opts     Options
	speed    float64 // 0: as fast as possible
	remap    remapper
	progress func(Progress)
	res      *Result

	begin        time.Time     // wall time of t_0 on the schedule
	position     time.Duration // timeline position of the last published record
	nextProgress time.Time
}

func (r *runner) publishAll(ctx context.Context, store capture.Querier, q capture.Query) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop() // since Go 1.23 a stopped timer delivers nothing stale
	for {
		recs, next, err := store.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("replay: reading the capture: %w", err)
		}
		for i := range recs {
			if err := r.one(ctx, &recs[i], timer); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		q.Cursor = next
	}
}

// one waits for rec's moment, transforms it and publishes it.
func (r *runner) one(ctx context.Context, rec *message.Message, timer *time.Timer) error {
	offset := max(rec.Time.Sub(r.res.First), 0)
	if r.speed > 0 {
		if err := r.waitUntil(ctx, r.due(offset), offset, timer); err != nil {
			return err
		}
	} else if err := ctx.Err(); err != nil {
		return err
	}
	topic, err := r.remap.apply(rec.Topic)
	if errors.Is(err, errEmptyTopic) {
		r.res.Skipped++
		r.position = max(r.position, offset)
		return nil
	}
	if err != nil {
		return fmt.Errorf("replay: record captured %s on %q: %w", rec.Time.Format(time.RFC3339Nano), rec.Topic, err)
	}
	orig := rec.Topic
	rec.Topic = topic
	if r.opts.QoS != nil {
		rec.QoS = *r.opts.QoS
	}
	if r.opts.ClearRetain {
		rec.Retain = false
	}
	if err := r.pub.Publish(ctx, *rec); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("replay: publishing the record captured %s on %q after %d records: %w",
			rec.Time.Format(time.RFC3339Nano), orig, r.res.Published, err)
	}
	r.res.Published++
	r.position = max(r.position, offset)
	if now := time.Now(); !now.Before(r.nextProgress) {
		r.report(now, false)
	}
	return nil
}

// due is the wall time at which the record at offset goes out.
func (r *runner) due(offset time.Duration) time.Time {
	scaled := float64(offset) / r.speed
	if scaled >= float64(maxOffset) {
		return r.begin.Add(maxOffset)
	}
	return r.begin.Add(time.Duration(scaled))
}

// waitUntil sleeps until due, reporting progress meanwhile, and returns
// early with ctx's error.
func (r *runner) waitUntil(ctx context.Context, due time.Time, offset time.Duration, timer *time.Timer) error {
	for {
		now := time.Now()
		if !now.Before(due) {
			return ctx.Err()
		}
		wake := due
		if r.nextProgress.Before(wake) {
			wake = r.nextProgress
		}
		timer.Reset(wake.Sub(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		if now := time.Now(); !now.Before(r.nextProgress) && now.Before(due) {
			// The schedule has moved on although no record was due.
			r.position = max(r.position, min(time.Duration(float64(now.Sub(r.begin))*r.speed), offset))
			r.report(now, false)
		}
	}
}

func (r *runner) report(now time.Time, done bool) {
	// A record captured just before the start but stored after the count
	// is replayed too; never report "11 of 10".
	r.res.Total = max(r.res.Total, r.res.Published+r.res.Skipped)
	r.nextProgress = now.Add(r.opts.ProgressEvery)
	r.progress(Progress{
		Published: r.res.Published, Skipped: r.res.Skipped, Total: r.res.Total,
		Position: min(r.position, r.res.Span), Span: r.res.Span,
		Elapsed: now.Sub(r.begin), Done: done,
	})
}
