package explorer

import (
	"context"
	"flag"
	"fmt"
	"slices"
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
	test.NewTempApp(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	model := topics.New(topics.Options{})
	var bg sync.WaitGroup
	mctx, stopModel := context.WithCancel(context.Background())
	bg.Go(func() { _ = model.Serve(mctx) })
	store, err := capture.Open(b.TempDir(), capture.Options{Logger: testkit.Logger()})
	if err != nil {
		b.Fatal(err)
	}
	br := brokertest.Start(b, func(c *broker.Config) { c.Recorder = message.NewTee(store, model) })

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
	onUI := func(fn func()) {
		done := make(chan struct{})
		ui <- func() { fn(); close(done) }
		<-done
	}

	var (
		mu       sync.Mutex
		starts   []time.Time
		tooks    []time.Duration
		reads    []time.Duration
		selected topics.NodeID
	)
	var p *Panel
	var w fyne.Window
	onUI(func() {
		w = test.NewTempWindow(b, nil)
		// The inspector beside the tree, as in the app. It hands its UI
		// updates to fyne.Do, which fyne's test driver runs on the calling
		// goroutine; its package offers no way to queue them here.
		insp := inspector.New(model, func() *capture.Store { return store }, w, inspector.Options{})
		bg.Go(func() { _ = insp.Serve(ctx) }) // nil once ctx is done
		p = New(model, w, Options{Do: func(fn func()) { ui <- fn }, Publisher: br, PublisherSource: broker.SourceBroker,
			Detail: insp.Content(),
			OnSelect: func(id topics.NodeID) {
				selected = id
				insp.Show(id)
			}})
		p.onApplied = func(tick bool, start time.Time, took time.Duration) {
			if !tick {
				return
			}
			mu.Lock()
			starts = append(starts, start)
			tooks = append(tooks, took)
			reads = append(reads, p.lastUpdate.readTook)
			mu.Unlock()
		}
		w.SetContent(p.Content())
		w.Resize(fyne.NewSize(1100, 720))
	})
	panelDone := make(chan struct{})
	go func() {
		defer close(panelDone)
		_ = p.Serve(ctx) // nil once ctx is done
	}()

	addr := br.Addr
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
	go func() { opened <- openDuringLoad(ctx, model, p, onUI) }()

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
	testkit.WithinErr(b, 30*time.Second, fmt.Sprintf("the model to get all %d messages", sent), func() error {
		if st := model.Stats(); st.Messages+st.Dropped+st.OverLimit < uint64(sent) {
			return fmt.Errorf("it got %d", st.Messages+st.Dropped+st.OverLimit)
		}
		return nil
	})
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

	mu.Lock()
	defer mu.Unlock()
	if len(starts) < 2 {
		b.Fatalf("the tree refreshed %d times", len(starts))
	}
	var gaps []time.Duration
	for i := 1; i < len(starts); i++ {
		gaps = append(gaps, starts[i].Sub(starts[i-1]))
	}
	if selected == 0 {
		b.Error("no topic was selected during the load")
	}
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(st.ApplyTime.Nanoseconds())/float64(max(st.Messages, 1)), "apply-ns/msg")
	b.ReportMetric(ms(pct(gaps, 50)), "refresh-interval-p50-ms")
	b.ReportMetric(ms(pct(gaps, 99)), "refresh-interval-p99-ms")
	b.ReportMetric(ms(pct(tooks, 50)), "refresh-ui-p50-ms")
	b.ReportMetric(ms(pct(tooks, 99)), "refresh-ui-p99-ms")
	b.ReportMetric(ms(pct(reads, 99)), "refresh-read-p99-ms")
	b.ReportMetric(float64(st.Dropped+st.OverLimit), "model-dropped")
	b.ReportMetric(float64(cst.Dropped), "capture-dropped")
	b.ReportMetric(float64(bst.Dropped), "broker-dropped")
	b.Logf("%d messages in %v over %d topics; model: %d applied, %d topics, apply %v (%.0f ns/msg), %d dropped, %d over the node limit; capture: %d dropped; broker: %d dropped",
		sent, elapsed.Round(time.Millisecond), min(sent, len(frames)), st.Messages, st.Topics, st.ApplyTime.Round(time.Millisecond),
		float64(st.ApplyTime.Nanoseconds())/float64(max(st.Messages, 1)), st.Dropped, st.OverLimit, cst.Dropped, bst.Dropped)
	b.Logf("tree refreshes: %d; interval p50 %v p99 %v max %v; UI time p50 %v p99 %v max %v; read lock held p50 %v p99 %v max %v",
		len(starts), pct(gaps, 50), pct(gaps, 99), pct(gaps, 100), pct(tooks, 50), pct(tooks, 99), pct(tooks, 100),
		pct(reads, 50), pct(reads, 99), pct(reads, 100))
}

// openDuringLoad opens broker, load and two groups, and selects a topic,
// as soon as they exist.
func openDuringLoad(ctx context.Context, m *topics.Model, p *Panel, onUI func(func())) error {
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
	for _, topic := range []string{"load", "load/g000", "load/g001"} {
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
	var leaf topics.NodeID
	if err := waitFor("a leaf", func() bool {
		var ok bool
		leaf, ok = m.Lookup(broker.SourceBroker, "load/g000/t00000")
		return ok
	}); err != nil {
		return err
	}
	onUI(func() { p.tree.Select(uidOf(leaf)) })
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
