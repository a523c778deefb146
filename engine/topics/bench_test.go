package topics

// Benchmarks for docs/PERFORMANCE.md, "Topic model (issue 4)":
//
//	go test -run '^$' -bench 'BenchmarkApply|BenchmarkIngest' -benchtime 2000000x -count 3 ./engine/topics/
//	go test -run '^$' -bench BenchmarkHeap100kTopics1MMessages -benchtime 1x -count 3 ./engine/topics/
//	go test -run '^$' -bench BenchmarkUIWhileApplying -benchtime 100x -count 3 ./engine/topics/
//	go test -run '^$' -bench BenchmarkMatch -benchtime 50x -count 3 ./engine/topics/

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// workload is a realistic feed: topics shaped site/<s>/device/<d>/<metric>
// (100 sites × 250 devices × 4 metrics = 100,000 topics) and JSON payloads
// of 50–300 bytes, chosen at random per message.
type workload struct {
	topics   []string
	payloads [][]byte
	clients  []string
	order    []uint32 // topic index of each message
}

var metrics = []string{"temperature", "humidity", "power", "status"}

func newWorkload(nTopics, nMessages int) *workload {
	rng := rand.New(rand.NewPCG(4, 2))
	w := &workload{}
	devicesPerSite := 250
	for i := range nTopics {
		dev := i / len(metrics)
		w.topics = append(w.topics, fmt.Sprintf("site/%d/device/%d/%s", dev/devicesPerSite, dev%devicesPerSite, metrics[i%len(metrics)]))
	}
	for i := range 4096 {
		// {"value":…,"seq":…,"unit":"C","pad":"xx…"} of exactly size bytes.
		size := 50 + rng.IntN(251)
		p := fmt.Sprintf(`{"value":%.2f,"seq":%d,"unit":"C","pad":"`, rng.Float64()*40, i)
		p += strings.Repeat("x", size-len(p)-2) + `"}`
		w.payloads = append(w.payloads, []byte(p))
	}
	for i := range 1000 {
		w.clients = append(w.clients, fmt.Sprintf("gw-%04d", i))
	}
	w.order = make([]uint32, nMessages)
	for i := range w.order {
		if i < nTopics {
			w.order[i] = uint32(i) // every topic gets at least one message
		} else {
			w.order[i] = uint32(rng.IntN(nTopics))
		}
	}
	return w
}

// record i of the feed. Topic and payload are fresh copies, as the broker
// hands them over (mochi reads each packet into a new buffer): reusing a
// pool of 100,000 topic strings would make every message read a cold
// string, a cache miss the real feed does not have.
func (w *workload) record(i int) message.Message {
	ti := w.order[i%len(w.order)]
	return message.Message{
		Time:     time.Unix(1767225600, int64(i)),
		Source:   "broker",
		ClientID: w.clients[int(ti)%len(w.clients)],
		Protocol: 5,
		Topic:    strings.Clone(w.topics[ti]),
		Payload:  bytes.Clone(w.payloads[i%len(w.payloads)]),
		QoS:      byte(i % 2),
	}
}

// feed applies messages [from, to) in chunks the size Serve uses.
func (w *workload) feed(m *Model, from, to int, buf []message.Message) {
	for i := from; i < to; {
		n := min(maxChunk, to-i)
		buf = buf[:0]
		for k := range n {
			buf = append(buf, w.record(i+k))
		}
		m.apply(buf, nil)
		i += n
	}
}

var (
	benchOnce sync.Once
	benchWork *workload
)

func work100k() *workload {
	benchOnce.Do(func() { benchWork = newWorkload(100_000, 1_000_000) })
	return benchWork
}

// BenchmarkApply is the cost of applying one message (ns/op, allocs/op)
// with product defaults: "steady" on 100,000 known topics after 1,000,000
// messages (caps binding), "new-topics" when every message creates its
// topic.
func BenchmarkApply(b *testing.B) {
	w := work100k()
	b.Run("steady", func(b *testing.B) {
		m := New(Options{})
		buf := make([]message.Message, 0, maxChunk)
		w.feed(m, 0, len(w.order), buf) // 1M messages: topics exist, caps are binding
		before := m.Stats().ApplyTime
		defer func() { reportApply(b, m.Stats().ApplyTime-before) }()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; {
			n := min(maxChunk, b.N-i)
			b.StopTimer()
			buf = buf[:0]
			for k := range n {
				buf = append(buf, w.record(i+k))
			}
			b.StartTimer()
			m.apply(buf, nil)
			i += n
		}
	})
	b.Run("new-topics", func(b *testing.B) {
		m := New(Options{MaxNodes: 1 << 30})
		buf := make([]message.Message, 0, maxChunk)
		defer func() { reportApply(b, m.Stats().ApplyTime) }()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; {
			n := min(maxChunk, b.N-i)
			b.StopTimer()
			buf = buf[:0]
			for k := range n {
				// The feed's topics under run<n>/, one run per 100,000
				// messages: each message creates a topic, with the fan-out
				// of real trees rather than millions of siblings.
				r := w.record(i + k)
				r.Topic = fmt.Sprintf("run%d/%s", (i+k)/len(w.topics), w.topics[(i+k)%len(w.topics)])
				buf = append(buf, r)
			}
			b.StartTimer()
			m.apply(buf, nil)
			i += n
		}
	})
}

// reportApply reports the model's own measure of applying (Stats.ApplyTime)
// per message, which leaves out building the records.
func reportApply(b *testing.B, d time.Duration) {
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "apply-ns/msg")
}

// BenchmarkIngest is what the broker's publisher goroutines pay per
// message (ns/op). "accepted": the queue has room, Serve is not competing
// (each queue-full is applied with the timer stopped), so nothing is
// coalesced. "saturated": two
// publishers as fast as they can while Serve applies: what is coalesced or
// dropped, and how many messages per second were applied meanwhile.
func BenchmarkIngest(b *testing.B) {
	w := work100k()
	pool := make([]message.Message, 4096) // built once: the broker's allocations are not the model's
	for i := range pool {
		pool[i] = w.record(i)
	}
	b.Run("accepted", func(b *testing.B) {
		m := New(Options{})
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if i > 0 && i%DefaultQueueLen == 0 {
				b.StopTimer()
				m.drain()
				b.StartTimer()
			}
			m.Ingest(pool[i%len(pool)])
		}
		if st := m.Stats(); st.Coalesced+st.Dropped > 0 {
			b.Fatalf("the queue overflowed: %+v", st)
		}
	})
	b.Run("saturated", func(b *testing.B) {
		m := New(Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = m.Serve(ctx)
		}()
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		var next sync.Mutex
		seed := 0
		b.RunParallel(func(pb *testing.PB) {
			next.Lock()
			i := seed
			seed += 1000
			next.Unlock()
			for pb.Next() {
				m.Ingest(pool[i%len(pool)])
				i++
			}
		})
		b.StopTimer()
		elapsed := time.Since(start)
		sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
		defer scancel()
		if err := m.Sync(sctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		<-done
		st := m.Stats()
		b.ReportMetric(100*float64(st.Coalesced)/float64(b.N), "%coalesced")
		b.ReportMetric(100*float64(st.Dropped)/float64(b.N), "%dropped")
		b.ReportMetric(float64(st.Messages)/elapsed.Seconds(), "applied-msg/s")
	})
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkHeap100kTopics1MMessages applies 1,000,000 messages over
// 100,000 topics with product defaults and reports the heap the model
// holds afterwards (heap-MB, 10^6 bytes, after GC) and the apply cost
// (apply-ns/msg, including creating the 100,000 topics).
func BenchmarkHeap100kTopics1MMessages(b *testing.B) {
	w := work100k()
	buf := make([]message.Message, 0, maxChunk)
	for range b.N {
		before := heapInUse()
		m := New(Options{})
		w.feed(m, 0, len(w.order), buf)
		after := heapInUse()
		st := m.Stats()
		if st.Topics != 100_000 || st.Messages != 1_000_000 {
			b.Fatalf("stats %+v", st)
		}
		b.ReportMetric(float64(after-before)/1e6, "heap-MB")
		b.ReportMetric(float64(st.ApplyTime.Nanoseconds())/1e6, "apply-ns/msg")
		b.ReportMetric(float64(st.HistoryBytes)/1e6, "history-MB")
		b.ReportMetric(float64(st.BufferBytes)/1e6, "buffers-MB")
		b.ReportMetric(float64(st.HistoryEntries), "history-msgs")
		runtime.KeepAlive(m)
	}
}

// BenchmarkUIWhileApplying plays the load: 10,000 messages per
// second over 100,000 topics through Ingest and Serve, while a UI goroutine
// refreshes 10 times a second from the change sets. One op is one UI tick
// (100 ms). A tick reads the change set, the rows it shows that changed
// (the sites, one site's devices, one device's metrics), and the selected
// topic's detail and history, each in one View. Reported: apply cost per
// message, refresh latency (p50, p99, max), messages dropped.
func BenchmarkUIWhileApplying(b *testing.B) {
	w := work100k()
	m := New(Options{})
	// Messages applied before the live load: with the default 200,000
	// most topics' buffers are still growing while it runs; with
	// IOTSTUDIO_BENCH_WARM=1000000 they are as in BenchmarkApply/steady.
	warm := 200_000
	if v := os.Getenv("IOTSTUDIO_BENCH_WARM"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("IOTSTUDIO_BENCH_WARM=%q: want a positive number of messages", v)
		}
		warm = n
	}
	w.feed(m, 0, warm, make([]message.Message, 0, maxChunk))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = m.Serve(ctx) })

	// What the UI shows: every site, site 7's devices, device 7/3's metrics.
	var visible []NodeID
	expanded := []string{"site", "site/7/device", "site/7/device/3"}
	var selected NodeID
	m.View(func(v View) {
		for _, e := range expanded {
			id, _ := v.Lookup("broker", e)
			visible = append(visible, v.ChildIDs(id)...)
		}
		selected, _ = v.Lookup("broker", "site/7/device/3/temperature")
	})
	shown := make(map[NodeID]bool, len(visible))
	for _, id := range visible {
		shown[id] = true
	}

	startMsgs, startApply := m.Stats().Messages, m.Stats().ApplyTime
	const rate = 10_000
	feedCtx, stopFeed := context.WithCancel(ctx)
	wg.Go(func() {
		start := time.Now()
		sent := warm
		for feedCtx.Err() == nil {
			due := warm + int(time.Since(start).Seconds()*rate)
			for ; sent < due; sent++ {
				m.Ingest(w.record(sent))
			}
			time.Sleep(time.Millisecond)
		}
	})

	var lat []time.Duration
	since := m.Changes(0).To
	rows := make([]NodeSummary, 0, len(visible))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for range b.N {
		<-tick.C
		t0 := time.Now()
		cs := m.Changes(since)
		since = cs.To
		var dirty []NodeID
		if cs.All {
			dirty = visible
		} else {
			for _, id := range cs.Nodes {
				if shown[id] {
					dirty = append(dirty, id)
				}
			}
		}
		rows = m.Summaries(rows[:0], dirty)
		d, _ := m.Node(selected)
		h := m.History(selected)
		lat = append(lat, time.Since(t0))
		if len(h) == 0 || d.ID != selected {
			b.Fatal("selected topic lost")
		}
	}
	b.StopTimer()
	stopFeed()
	cancel()
	wg.Wait()
	st := m.Stats()
	applied := st.Messages - startMsgs
	slices.Sort(lat)
	b.ReportMetric(float64((st.ApplyTime-startApply).Nanoseconds())/float64(max(applied, 1)), "apply-ns/msg")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "refresh-p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "refresh-p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "refresh-max-µs")
	b.ReportMetric(float64(applied)/(float64(b.N)/10), "msg/s")
	b.ReportMetric(float64(st.Dropped), "dropped")
}

// BenchmarkMatch filters 100,000 topics (ns/op is one whole filter).
func BenchmarkMatch(b *testing.B) {
	w := work100k()
	m := New(Options{})
	w.feed(m, 0, 100_000, make([]message.Message, 0, maxChunk))
	for _, text := range []string{"device/12/", "site/+/device/12/#"} {
		f, err := ParseFilter(text)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("wildcard=%v", f.Wildcard()), func(b *testing.B) {
			for range b.N {
				ms := m.Match("broker", f, 0)
				if len(ms.Topics) != 400 {
					b.Fatalf("%d matches", len(ms.Topics))
				}
			}
		})
	}
}
