package topics

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A burst beyond the queue must never leave a topic showing an older
// message than the last one it received: the tree shows every topic's
// newest message, counts every message, and says how many it skipped.
func TestOverfilledQueueShowsEachTopicsNewestMessage(t *testing.T) {
	const topicCount, rounds = 40, 50
	tests := []struct {
		name string
		opts Options
		// live: Serve applies while the burst is ingested, from two
		// publishers; otherwise the whole burst is queued before Serve.
		live bool
	}{
		{"queued before Serve, by count", Options{QueueLen: 16}, false},
		{"queued before Serve, by payload bytes", Options{QueueBytes: 600}, false},
		{"while Serve applies", Options{QueueLen: 16, BatchInterval: 20 * time.Millisecond}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(tt.opts)
			if tt.live {
				runModel(t, m)
			}
			topicName := func(i int) string { return fmt.Sprintf("burst/%02d", i) }
			publish := func(first, step int) {
				for r := range rounds {
					for i := first; i < topicCount; i += step {
						if !m.Ingest(msg(topicName(i), fmt.Sprintf("round %02d of %s", r, topicName(i)))) {
							t.Errorf("Ingest refused round %d of %s", r, topicName(i))
							return
						}
					}
				}
			}
			if tt.live {
				var wg sync.WaitGroup
				for p := range 2 { // each topic has one publisher, so its order is defined
					wg.Go(func() { publish(p, 2) })
				}
				wg.Wait()
			} else {
				publish(0, 1)
				runModel(t, m)
			}
			syncModel(t, m)

			for i := range topicCount {
				d, ok := m.Node(lookup(t, m, topicName(i)))
				want := fmt.Sprintf("round %02d of %s", rounds-1, topicName(i))
				if !ok || string(d.Last.Payload) != want {
					t.Errorf("%s shows %q, want its newest message %q", topicName(i), d.Last.Payload, want)
				}
				if d.Messages != rounds {
					t.Errorf("%s counts %d messages, want %d", topicName(i), d.Messages, rounds)
				}
			}
			st := m.Stats()
			if st.Dropped != 0 || st.Messages != topicCount*rounds {
				t.Errorf("stats %+v: want %d messages, none dropped", st, topicCount*rounds)
			}
			if !tt.live && st.Coalesced == 0 {
				t.Errorf("stats %+v: the burst overfilled the queue but no message counts as coalesced", st)
			}
			if st.Coalesced >= st.Messages {
				t.Errorf("stats %+v: more coalesced than received", st)
			}
			checkInvariants(t, m)
		})
	}
}

// A non-retained message that replaces a retained one in the queue leaves
// the topic's retained state as the retained one set or cleared it.
func TestCoalescingKeepsTheRetainedState(t *testing.T) {
	tests := []struct {
		name         string
		before       []message.Message // applied before the burst
		burst        []message.Message // queued behind a full queue
		wantRetained bool
	}{
		{"a retained message replaced by a plain one", nil,
			[]message.Message{retainedMsg("x", "r"), msg("x", "plain")}, true},
		{"a clearing message replaced by a plain one", []message.Message{retainedMsg("x", "r")},
			[]message.Message{retainedMsg("x", ""), msg("x", "plain")}, false},
		{"a retained message replaced by a clearing one", nil,
			[]message.Message{retainedMsg("x", "r"), msg("x", "plain"), retainedMsg("x", "")}, false},
		{"plain messages keep an earlier retained one", []message.Message{retainedMsg("x", "r")},
			[]message.Message{msg("x", "a"), msg("x", "plain")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{QueueLen: 1})
			applyAll(m, tt.before...)
			m.Ingest(msg("filler", "f")) // fills the queue
			for _, r := range tt.burst {
				if !m.Ingest(r) {
					t.Fatal("Ingest refused a record")
				}
			}
			runModel(t, m)
			syncModel(t, m)
			d, _ := m.Node(lookup(t, m, "x"))
			last := tt.burst[len(tt.burst)-1]
			if string(d.Last.Payload) != string(last.Payload) || d.Retained != tt.wantRetained {
				t.Errorf("x shows %q, retained %v; want %q, retained %v", d.Last.Payload, d.Retained, last.Payload, tt.wantRetained)
			}
			if want := uint64(len(tt.before) + len(tt.burst)); d.Messages != want {
				t.Errorf("x counts %d messages, want %d", d.Messages, want)
			}
			if st := m.Stats(); st.Coalesced != uint64(len(tt.burst)-1) {
				t.Errorf("%d coalesced, want %d", st.Coalesced, len(tt.burst)-1)
			}
			checkInvariants(t, m)
		})
	}
}
