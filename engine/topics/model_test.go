package topics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// An overloaded queue still takes records on topics not waiting yet, up to
// its overload bounds; beyond them Ingest drops and counts.
func TestIngestDropsAndCountsBeyondTheOverloadBounds(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		payloads    []int // sizes, each to its own topic, ingested in order before Serve starts
		wantDropped uint64
	}{
		{"room for all", Options{QueueLen: 4}, []int{1, 1, 1, 1}, 0},
		{"by count", Options{QueueLen: 2}, slices.Repeat([]int{1}, overloadLen*2+4), 4},
		{"by payload bytes", Options{QueueBytes: 100}, []int{60, 30, 20, 10, 90, 50}, 1},
		{"one record over the byte bound still gets into an empty queue", Options{QueueBytes: 100}, []int{500, 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(tt.opts)
			accepted := map[string]string{}
			for i, n := range tt.payloads {
				topic, p := fmt.Sprintf("q/%d", i), strconv.Itoa(i)+strings.Repeat("x", n-1)
				if m.Ingest(msg(topic, p)) {
					accepted[topic] = p
				}
			}
			st := m.Stats()
			if st.Dropped != tt.wantDropped || st.Queued != len(tt.payloads)-int(tt.wantDropped) || st.Messages != 0 || st.Coalesced != 0 {
				t.Fatalf("before Serve: %+v, want %d dropped", st, tt.wantDropped)
			}
			runModel(t, m)
			syncModel(t, m)
			if st := m.Stats(); st.Messages != uint64(len(accepted)) || st.Queued != 0 || st.Dropped != tt.wantDropped {
				t.Fatalf("after Serve: %+v", st)
			}
			for i := range tt.payloads {
				topic := fmt.Sprintf("q/%d", i)
				_, found := m.Lookup("broker", topic)
				want, ok := accepted[topic]
				if found != ok {
					t.Fatalf("%s: in the tree %v, accepted %v", topic, found, ok)
				}
				if ok {
					if got := payloads(t, m, topic); len(got) != 1 || got[0] != want {
						t.Fatalf("%s holds %q, want %q", topic, got, want)
					}
				}
			}
		})
	}
}

func TestServeAppliesInBatches(t *testing.T) {
	const interval = 50 * time.Millisecond
	m := New(Options{BatchInterval: interval})
	runModel(t, m)
	startVersion := m.Stats().Version
	start := time.Now()
	// A steady trickle over about 300 ms.
	for i := range 60 {
		if !m.Ingest(msg(fmt.Sprintf("t/%d", i%7), "x")) {
			t.Fatal("dropped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	syncModel(t, m)
	st := m.Stats()
	if st.Messages != 60 {
		t.Fatalf("applied %d of 60", st.Messages)
	}
	// At most one batch per interval, plus the one Sync hurries; a slow
	// machine stretches elapsed, not the bound's validity.
	limit := Version(elapsed/interval) + 2
	if v := st.Version - startVersion; v > limit {
		t.Fatalf("%d versions for 60 messages over %v: more than one per %v", v, elapsed, interval)
	}
}

func TestServeLifecycle(t *testing.T) {
	m := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	m.Ingest(msg("a", "1"))
	syncModel(t, m)
	// Let the first Serve be surely running before the second.
	if err := m.Serve(context.Background()); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second Serve: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	noServeGoroutine(t)
	// Stopped: records queue up and Sync gives up with the context's error.
	m.Ingest(msg("a", "2"))
	sctx, scancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer scancel()
	if err := m.Sync(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sync without Serve: %v", err)
	}
	// And a new Serve picks them up.
	runModel(t, m)
	syncModel(t, m)
	if st := m.Stats(); st.Messages != 2 {
		t.Fatalf("applied %d of 2", st.Messages)
	}
}

// TestSnapshotsAreConsistentUnderLoad reads while several publishers feed
// the model. Each read checks relations that hold only if everything it
// returns comes from one applied state: a parent's count is the sum of its
// children's, and a topic's last message (which carries its own sequence
// number) matches its message count.
func TestSnapshotsAreConsistentUnderLoad(t *testing.T) {
	m := New(Options{BatchInterval: -1, HistoryBytes: 64 << 10, HistoryBytesPerTopic: 1 << 10})
	runModel(t, m)
	const publishers, perPublisher, devices = 4, 3000, 50
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range perPublisher {
				// Each publisher owns its topics so their payload can count.
				topic := fmt.Sprintf("p%d/dev%d/temp", p, i%devices)
				for !m.Ingest(msg(topic, strconv.Itoa(i/devices+1))) {
					time.Sleep(time.Millisecond) // full queue: retry, we want every message applied
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	errs := make(chan error, 8)
	for range 2 {
		readers.Go(func() {
			seen := Version(0)
			for {
				select {
				case <-stop:
					return
				default:
				}
				m.View(func(v View) {
					if err := checkSnapshot(v, &seen); err != nil {
						select {
						case errs <- err:
						default:
						}
					}
				})
			}
		})
	}
	wg.Wait()
	syncModel(t, m)
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := m.Stats()
	if st.Messages != publishers*perPublisher || st.Topics != publishers*devices {
		t.Fatalf("stats %+v", st)
	}
	checkInvariants(t, m)
}

func checkSnapshot(v View, seen *Version) error {
	if v.Version() < *seen {
		return fmt.Errorf("version went back from %d to %d", *seen, v.Version())
	}
	*seen = v.Version()
	root, ok := v.Root("broker")
	if !ok {
		return nil
	}
	rs, _ := v.Summary(root)
	var sum uint64
	for _, p := range v.Children(root) {
		sum += p.SubtreeMessages
		for _, dev := range v.ChildIDs(p.ID) {
			for _, leaf := range v.ChildIDs(dev) {
				d, _ := v.Node(leaf)
				if strconv.FormatUint(d.Messages, 10) != string(d.Last.Payload) {
					return fmt.Errorf("%s: %d messages but the last one says %q", d.Topic, d.Messages, d.Last.Payload)
				}
				if h := v.History(leaf); string(h[0].Payload) != string(d.Last.Payload) {
					return fmt.Errorf("%s: history starts with %q, last is %q", d.Topic, h[0].Payload, d.Last.Payload)
				}
			}
		}
	}
	if sum != rs.SubtreeMessages {
		return fmt.Errorf("root counts %d messages, its children %d", rs.SubtreeMessages, sum)
	}
	if st := v.Stats(); st.Messages != rs.SubtreeMessages {
		return fmt.Errorf("stats count %d messages, the only source %d", st.Messages, rs.SubtreeMessages)
	}
	return nil
}

func TestZeroTimeMeansApplyTime(t *testing.T) {
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: at}
	m := New(Options{clock: clk.Now})
	applyAll(m, message.Message{Source: "broker", Topic: "a", Payload: []byte("x")})
	d, _ := m.Node(lookup(t, m, "a"))
	if !d.Last.Time.Equal(at) || !d.LastSeen.Equal(at) {
		t.Fatalf("time %v / %v, want %v", d.Last.Time, d.LastSeen, at)
	}
}
