package explorer

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/inspector"
)

// The load of issue 4's acceptance test; the flags make shorter runs
// possible while working on the code.
var (
	loadFor    = flag.Duration("load-for", 10*time.Second, "BenchmarkExplorerUnderLoad: how long to publish")
	loadRate   = flag.Int("load-rate", 10000, "BenchmarkExplorerUnderLoad: messages per second")
	loadTopics = flag.Int("load-topics", 100000, "BenchmarkExplorerUnderLoad: distinct topics")
)

// BenchmarkExplorerUnderLoad publishes -load-rate messages a second over
// -load-topics distinct topics for -load-for into the embedded broker (on
// a free port, fed to the capture store and the topic model through a
// Tee, as in the app), while the Explorer panel shows the tree with busy
// branches open and a topic selected, refreshing as in the app. It
// reports the model's apply cost per message, the interval between the
// tree's refreshes and how long each took on the UI goroutine, how long
// the refresh goroutine held the model's read lock, and every drop count.
//
//	go test -run '^$' -bench ExplorerUnderLoad -benchtime 1x ./ui/explorer
func BenchmarkExplorerUnderLoad(b *testing.B) {
	for b.Loop() {
		runLoad(b)
	}
}

func runLoad(b *testing.B) {
	w := startWindow(b)
	ctx := w.ctx

	addr := w.br.Addr
	pub, err := rawmqtt.Dial(ctx, addr, "load", 64<<10, 64<<10)
	if err != nil {
		b.Fatal(err)
	}
	groups := 100
	frames := make([][]byte, *loadTopics)
	for i := range frames {
		// Interleaved, so that every branch is busy all the time: message i
		// goes to group i%groups.
		g, t := i%groups, i/groups
		frames[i] = rawmqtt.EncodePublish(fmt.Sprintf("load/g%03d/t%05d", g, t), fmt.Appendf(nil, `{"v":%d,"ok":true}`, i), 0, false).B
	}

	// Open the busiest branches once they exist, and select a topic in
	// one, as a user watching the load would.
	opened := make(chan error, 1)
	go func() {
		opened <- openDuringLoad(ctx, w.model, w.p, w.onUI, []string{"load", "load/g000", "load/g001"}, "load/g000/t00000")
	}()

	start := time.Now()
	sent := 0
	step := 10 * time.Millisecond
	perStep := *loadRate * int(step) / int(time.Second)
	tk := time.NewTicker(step)
	for time.Since(start) < *loadFor {
		for range perStep {
			if _, err := pub.W.Write(frames[sent%len(frames)]); err != nil {
				b.Fatal(err)
			}
			sent++
		}
		if err := pub.W.Flush(); err != nil {
			b.Fatal(err)
		}
		<-tk.C
	}
	tk.Stop()
	elapsed := time.Since(start)
	pub.Close()
	if err := <-opened; err != nil {
		b.Fatal(err)
	}

	// Everything sent reaches the model (applied or counted as dropped).
	w.waitModel(b, uint64(sent))
	st, bst, cst := w.stop(b)

	rf := w.refreshesIn(time.Time{}, time.Time{})
	if len(rf.starts) < 2 {
		b.Fatalf("the tree refreshed %d times", len(rf.starts))
	}
	if !w.wasSelected() {
		b.Error("no topic was selected during the load")
	}
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(st.ApplyTime.Nanoseconds())/float64(max(st.Messages, 1)), "apply-ns/msg")
	rf.report(b)
	reportDrops(b, st, bst, cst)
	b.Logf("%d messages in %v over %d topics; model: %d applied, %d topics, apply %v (%.0f ns/msg), %d dropped, %d over the node limit; capture: %d dropped; broker: %d dropped",
		sent, elapsed.Round(time.Millisecond), min(sent, len(frames)), st.Messages, st.Topics, st.ApplyTime.Round(time.Millisecond),
		float64(st.ApplyTime.Nanoseconds())/float64(max(st.Messages, 1)), st.Dropped, st.OverLimit, cst.Dropped, bst.Dropped)
	rf.log(b)
}

// window is the app's engine and Explorer as the load benchmarks run
// them: the embedded broker on a free port feeding a capture store, the
// topic model and any extra sinks through a Tee, and the Explorer with
// the inspector beside it in fyne's test driver, refreshing as in the
// app, each timed tree refresh recorded.
type window struct {
	ctx   context.Context // ends when stop begins
	model *topics.Model
	store *capture.Store
	br    *brokertest.Server
	p     *Panel
	// onUI runs fn on the UI goroutine and waits for it.
	onUI func(fn func())
	stop func(b *testing.B) (topics.Stats, broker.Stats, capture.Stats)

	mu       sync.Mutex
	rf       refreshes
	selected topics.NodeID
}

// refreshes are the timed tree refreshes: when each started on the UI
// goroutine, how long it took there, and how long its pass held the
// model's read lock.
type refreshes struct {
	starts       []time.Time
	tooks, reads []time.Duration
}

func startWindow(b *testing.B, extra ...message.Sink) *window {
	test.NewTempApp(b)
	ctx, cancel := context.WithCancel(context.Background())
	win := &window{ctx: ctx}

	win.model = topics.New(topics.Options{})
	model := win.model
	var bg sync.WaitGroup
	mctx, stopModel := context.WithCancel(context.Background())
	bg.Go(func() { _ = model.Serve(mctx) })
	store, err := capture.Open(b.TempDir(), capture.Options{Logger: testkit.Logger()})
	if err != nil {
		b.Fatal(err)
	}
	win.store = store
	sinks := append([]message.Sink{store, model}, extra...)
	br := brokertest.Start(b, func(c *broker.Config) { c.Recorder = message.NewTee(sinks...) })
	win.br = br

	// The UI goroutine: runs what fyne.Do would, in order.
	ui := make(chan func(), 64)
	uiDone := make(chan struct{})
	go func() {
		defer close(uiDone)
		for {
			select {
			case fn := <-ui:
				fn()
			case <-ctx.Done():
				return
			}
		}
	}()
	win.onUI = func(fn func()) {
		done := make(chan struct{})
		ui <- func() { fn(); close(done) }
		<-done
	}

	var p *Panel
	var w fyne.Window
	win.onUI(func() {
		w = test.NewTempWindow(b, nil)
		// The inspector beside the tree, as in the app. It hands its UI
		// updates to fyne.Do, which fyne's test driver runs on the calling
		// goroutine; its package offers no way to queue them here.
		insp := inspector.New(model, func() *capture.Store { return store }, w, inspector.Options{})
		bg.Go(func() { _ = insp.Serve(ctx) }) // nil once ctx is done
		p = New(model, w, Options{Do: func(fn func()) { ui <- fn }, Publisher: br, PublisherSource: broker.SourceBroker,
			Detail: insp.Content(),
			OnSelect: func(id topics.NodeID) {
				win.mu.Lock()
				win.selected = id
				win.mu.Unlock()
				insp.Show(id)
			}})
		p.onApplied = func(tick bool, start time.Time, took time.Duration) {
			if !tick {
				return
			}
			win.mu.Lock()
			win.rf.starts = append(win.rf.starts, start)
			win.rf.tooks = append(win.rf.tooks, took)
			win.rf.reads = append(win.rf.reads, p.lastUpdate.readTook)
			win.mu.Unlock()
		}
		w.SetContent(p.Content())
		w.Resize(fyne.NewSize(1100, 720))
	})
	win.p = p
	panelDone := make(chan struct{})
	go func() {
		defer close(panelDone)
		_ = p.Serve(ctx) // nil once ctx is done
	}()

	// stop takes the engine's counters, then stops the window, the
	// broker, the model and the capture, in that order.
	win.stop = func(b *testing.B) (topics.Stats, broker.Stats, capture.Stats) {
		st := model.Stats()
		bst := br.Stats()
		cst, _ := store.Stats()
		cancel()
		<-panelDone
		<-uiDone
		_ = br.Stop()
		stopModel()
		bg.Wait() // the model and the inspector
		if err := store.Close(); err != nil {
			b.Error(err)
		}
		return st, bst, cst
	}
	return win
}

// waitModel waits until the model has had n messages, applied or counted
// as dropped.
func (w *window) waitModel(b *testing.B, n uint64) {
	testkit.WithinErr(b, 30*time.Second, fmt.Sprintf("the model to get all %d messages", n), func() error {
		if st := w.model.Stats(); st.Messages+st.Dropped+st.OverLimit < n {
			return fmt.Errorf("it got %d", st.Messages+st.Dropped+st.OverLimit)
		}
		return nil
	})
}

func (w *window) wasSelected() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.selected != 0
}

// refreshesIn returns the timed refreshes that started in [from, to); a
// zero to means no end.
func (w *window) refreshesIn(from, to time.Time) refreshes {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out refreshes
	for i, s := range w.rf.starts {
		if !s.Before(from) && (to.IsZero() || s.Before(to)) {
			out.starts = append(out.starts, s)
			out.tooks = append(out.tooks, w.rf.tooks[i])
			out.reads = append(out.reads, w.rf.reads[i])
		}
	}
	return out
}

func (r refreshes) gaps() []time.Duration {
	var gaps []time.Duration
	for i := 1; i < len(r.starts); i++ {
		gaps = append(gaps, r.starts[i].Sub(r.starts[i-1]))
	}
	return gaps
}

func (r refreshes) report(b *testing.B) {
	gaps := r.gaps()
	b.ReportMetric(ms(pct(gaps, 50)), "refresh-interval-p50-ms")
	b.ReportMetric(ms(pct(gaps, 99)), "refresh-interval-p99-ms")
	b.ReportMetric(ms(pct(r.tooks, 50)), "refresh-ui-p50-ms")
	b.ReportMetric(ms(pct(r.tooks, 99)), "refresh-ui-p99-ms")
	b.ReportMetric(ms(pct(r.reads, 99)), "refresh-read-p99-ms")
}

// processStart is about when the runtime started, so that the slow
// refreshes logged can be matched with GODEBUG=gctrace=1's "@…s" times.
var processStart = time.Now()

// slowRefresh is a refresh whose UI time is worth naming in the log.
const slowRefresh = 100 * time.Millisecond

func (r refreshes) log(b *testing.B) {
	gaps := r.gaps()
	b.Logf("tree refreshes: %d; interval p50 %v p99 %v max %v; UI time p50 %v p99 %v max %v; read lock held p50 %v p99 %v max %v",
		len(r.starts), pct(gaps, 50), pct(gaps, 99), pct(gaps, 100), pct(r.tooks, 50), pct(r.tooks, 99), pct(r.tooks, 100),
		pct(r.reads, 50), pct(r.reads, 99), pct(r.reads, 100))
	var slow []string
	for i, took := range r.tooks {
		if took >= slowRefresh {
			slow = append(slow, fmt.Sprintf("@%.3fs %v", r.starts[i].Sub(processStart).Seconds(), took.Round(time.Millisecond)))
		}
	}
	if len(slow) > 0 {
		b.Logf("refreshes with UI time ≥ %v (since the process started): %s", slowRefresh, strings.Join(slow, ", "))
	}
}

func reportDrops(b *testing.B, st topics.Stats, bst broker.Stats, cst capture.Stats) {
	b.ReportMetric(float64(st.Dropped+st.OverLimit), "model-dropped")
	b.ReportMetric(float64(cst.Dropped), "capture-dropped")
	b.ReportMetric(float64(bst.Dropped), "broker-dropped")
}

// openDuringLoad opens the broker's root and the branches (topic paths,
// parents first), and selects the topic leaf, as soon as they exist.
func openDuringLoad(ctx context.Context, m *topics.Model, p *Panel, onUI func(func()), branches []string, leaf string) error {
	waitFor := func(what string, cond func() bool) error {
		for !cond() {
			if ctx.Err() != nil {
				return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
			}
			time.Sleep(20 * time.Millisecond)
		}
		return nil
	}
	var root topics.NodeID
	if err := waitFor("the broker source", func() bool {
		for _, s := range m.Sources() {
			root = s.ID
		}
		return root != 0
	}); err != nil {
		return err
	}
	ids := []topics.NodeID{root}
	for _, topic := range branches {
		var id topics.NodeID
		if err := waitFor(topic, func() bool {
			var ok bool
			id, ok = m.Lookup(broker.SourceBroker, topic)
			return ok
		}); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		onUI(func() { p.tree.OpenBranch(uidOf(id)) })
		if err := waitFor("the children of "+uidOf(id), func() bool {
			var ok bool
			onUI(func() { _, ok = p.kids[id] })
			return ok
		}); err != nil {
			return err
		}
	}
	var leafID topics.NodeID
	if err := waitFor(leaf, func() bool {
		var ok bool
		leafID, ok = m.Lookup(broker.SourceBroker, leaf)
		return ok
	}); err != nil {
		return err
	}
	onUI(func() { p.tree.Select(uidOf(leafID)) })
	return nil
}

// pct is the p-th percentile of ds (100: the maximum).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)*p/100, len(s)-1)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
