package topics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/iotstudio/iotstudio/engine/message"
)

// entryBytes is what one message of payload n on topic costs in history.
func entryBytes(n int) int {
	r := msg("t", strings.Repeat("x", n))
	b := bodyLen(&r)
	return uvarintLen(uint64(b)) + b
}

func payloads(t *testing.T, m *Model, topic string) []string {
	t.Helper()
	var out []string
	for _, r := range m.History(lookup(t, m, topic)) {
		out = append(out, string(r.Payload))
	}
	return out
}

func TestHistoryCaps(t *testing.T) {
	e := entryBytes(2) // every payload below is 2 bytes, except "big"
	tests := []struct {
		name      string
		perTopic  int
		global    int64
		recs      []message.Message
		want      map[string][]string // newest first
		wantBytes int64
	}{
		{
			name:     "per-topic cap keeps the newest that fit",
			perTopic: 2 * e, global: 1 << 20,
			recs:      []message.Message{msg("a", "p1"), msg("a", "p2"), msg("a", "p3"), msg("a", "p4"), msg("a", "p5")},
			want:      map[string][]string{"a": {"p5", "p4", "p3"}},
			wantBytes: int64(2 * e),
		},
		{
			name:     "no history keeps the last message",
			perTopic: -1, global: 1 << 20,
			recs:      []message.Message{msg("a", "p1"), msg("a", "p2")},
			want:      map[string][]string{"a": {"p2"}},
			wantBytes: 0,
		},
		{
			name:     "a last message over the cap is kept whole",
			perTopic: e, global: 1 << 20,
			recs:      []message.Message{msg("a", "p1"), msg("a", strings.Repeat("B", 500))},
			want:      map[string][]string{"a": {strings.Repeat("B", 500), "p1"}},
			wantBytes: int64(e),
		},
		{
			name:     "and goes once superseded",
			perTopic: e, global: 1 << 20,
			recs:      []message.Message{msg("a", "p1"), msg("a", strings.Repeat("B", 500)), msg("a", "p3")},
			want:      map[string][]string{"a": {"p3"}},
			wantBytes: 0,
		},
		{
			name:     "global cap evicts the entry superseded longest ago",
			perTopic: 10 * e, global: int64(2 * e),
			recs: []message.Message{msg("a", "a1"), msg("b", "b1"), msg("a", "a2"), msg("b", "b2"), msg("a", "a3"),
				msg("b", "b3")},
			// Superseded in order a1, b1, a2, b2; the cap holds two.
			want:      map[string][]string{"a": {"a3", "a2"}, "b": {"b3", "b2"}},
			wantBytes: int64(2 * e),
		},
		{
			name:     "a quiet topic's past goes before a busy topic's recent one",
			perTopic: 10 * e, global: int64(3 * e),
			recs: []message.Message{msg("q", "q1"), msg("q", "q2"), msg("a", "a1"), msg("a", "a2"), msg("a", "a3"),
				msg("a", "a4")},
			want:      map[string][]string{"q": {"q2"}, "a": {"a4", "a3", "a2", "a1"}},
			wantBytes: int64(3 * e),
		},
		{
			name:     "per-topic evictions leave the global FIFO consistent",
			perTopic: e, global: int64(2 * e),
			recs: []message.Message{msg("a", "a1"), msg("a", "a2"), msg("a", "a3"), msg("b", "b1"), msg("b", "b2"),
				msg("c", "c1"), msg("c", "c2")},
			want:      map[string][]string{"a": {"a3"}, "b": {"b2", "b1"}, "c": {"c2", "c1"}},
			wantBytes: int64(2 * e),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, batched := range []bool{false, true} {
				m := New(Options{HistoryBytesPerTopic: tt.perTopic, HistoryBytes: tt.global})
				if batched {
					applyAll(m, tt.recs...)
				} else {
					for _, r := range tt.recs {
						applyAll(m, r)
					}
				}
				checkInvariants(t, m)
				for topic, want := range tt.want {
					if got := payloads(t, m, topic); !slices.Equal(got, want) {
						t.Errorf("batched=%v %s: history %v, want %v", batched, topic, got, want)
					}
				}
				if st := m.Stats(); st.HistoryBytes != tt.wantBytes {
					t.Errorf("batched=%v: %d history bytes, want %d", batched, st.HistoryBytes, tt.wantBytes)
				}
			}
		})
	}
}

// TestHistoryUnderRandomLoad drives the caps, compaction, reallocation and
// FIFO with random topics, sizes and batches, checking after every batch
// that the bookkeeping adds up and that each topic's history is exactly
// its newest messages.
func TestHistoryUnderRandomLoad(t *testing.T) {
	tests := []struct {
		name     string
		perTopic int
		global   int64
		topics   int
		maxSize  int
	}{
		{"small caps, many topics", 2 << 10, 16 << 10, 50, 600},
		{"global cap binds", 64 << 10, 8 << 10, 20, 3000},
		{"per-topic cap binds", 1 << 10, 1 << 20, 10, 300},
		{"large payloads", 8 << 10, 32 << 10, 5, 20000},
		{"no history", -1, -1, 10, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(tt.name))))
			m := New(Options{HistoryBytesPerTopic: tt.perTopic, HistoryBytes: tt.global})
			sent := map[string][]string{}
			for range 200 {
				var batch []message.Message
				for range 1 + rng.IntN(30) {
					topic := fmt.Sprintf("site/%d/dev", rng.IntN(tt.topics))
					p := fmt.Sprintf("%d:", len(sent[topic])) + strings.Repeat("x", rng.IntN(tt.maxSize))
					batch = append(batch, msg(topic, p))
					sent[topic] = append(sent[topic], p)
				}
				applyAll(m, batch...)
				checkInvariants(t, m)
			}
			for topic, all := range sent {
				got := payloads(t, m, topic)
				if len(got) == 0 {
					t.Fatalf("%s lost its last message", topic)
				}
				want := slices.Clone(all[len(all)-len(got):])
				slices.Reverse(want)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: history is not its newest messages newest first", topic)
				}
			}
		})
	}
}

// TestRingStaysWithinItsBound writes every topic of a wide tree again and
// again under a small global cap, with a per-topic cap that leaves dead
// records in the ring: the ring must stay within its bound, and what each
// topic keeps must still be its newest messages.
func TestRingStaysWithinItsBound(t *testing.T) {
	tests := []struct {
		name     string
		topics   int
		size     int
		perTopic int
	}{
		{"many topics, medium payloads", 5000, 400, 64 << 10},
		{"fewer topics, large payloads", 600, 3000, 64 << 10},
		{"a per-topic cap of one entry", 200, 400, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{HistoryBytes: 64 << 10, HistoryBytesPerTopic: tt.perTopic})
			for round := range 4 {
				var batch []message.Message
				for i := range tt.topics {
					batch = append(batch, msg(fmt.Sprintf("w/%d", i), fmt.Sprint(round)+strings.Repeat("x", tt.size)))
					if len(batch) == maxChunk {
						applyAll(m, batch...)
						batch = batch[:0]
					}
				}
				applyAll(m, batch...)
				checkInvariants(t, m)
			}
			// The newest topic keeps its previous message as history.
			last := fmt.Sprintf("w/%d", tt.topics-1)
			if got := payloads(t, m, last); len(got) < 2 || got[0][0] != '3' || got[1][0] != '2' {
				t.Fatalf("%s holds %d messages, want its last two", last, len(got))
			}
			if st := m.Stats(); st.BufferBytes > int64(tt.topics*2*(tt.size+100))+m.t.ringMax() {
				t.Fatalf("buffers hold %d bytes for %d topics of %d bytes", st.BufferBytes, tt.topics, tt.size)
			}
		})
	}
}

// The ring grows keeping every record at its position, also records that
// wrapped the end of the smaller ring.
func TestRingGrowsKeepingWrappedRecords(t *testing.T) {
	m := New(Options{})
	h := &m.t.hist
	h.ring = make([]byte, 1024)
	h.alloc += int64(len(h.ring))
	h.tail, h.head = 900, 900 // the first records wrap the end
	var recs []message.Message
	for i := range 12 {
		recs = append(recs, msg(fmt.Sprintf("g/%d", i%3), fmt.Sprintf("%02d:%s", i, strings.Repeat("x", 100))))
	}
	for _, r := range recs {
		applyAll(m, r)
		checkInvariants(t, m)
	}
	if len(h.ring) <= 1024 {
		t.Fatalf("the ring did not grow: %d bytes", len(h.ring))
	}
	for i := range 3 {
		got := payloads(t, m, fmt.Sprintf("g/%d", i))
		if len(got) != 4 || got[0][:2] != fmt.Sprintf("%02d", 9+i) || got[3][:2] != fmt.Sprintf("%02d", i) {
			t.Fatalf("g/%d holds %d messages from %q to %q", i, len(got), got[0][:2], got[len(got)-1][:2])
		}
	}
}

// With many topics each getting a message now and then, the memory the
// model holds must follow what it keeps: before the shared ring, every
// topic's buffer kept room for two messages and the buffers held 2.8
// times the messages in them (103 MB for 37 MB at 100,000 topics).
func TestBuffersFollowWhatIsKept(t *testing.T) {
	const topicCount, messages = 20_000, 200_000
	m := New(Options{HistoryBytes: 3 << 20})
	rng := rand.New(rand.NewPCG(3, 4))
	var batch []message.Message
	for i := range messages {
		k := i
		if i >= topicCount {
			k = rng.IntN(topicCount)
		}
		batch = append(batch, msg(fmt.Sprintf("site/%d/dev/%d", k/100, k%100),
			strings.Repeat("x", 50+rng.IntN(251))))
		if len(batch) == maxChunk || i == messages-1 {
			applyAll(m, batch...)
			batch = batch[:0]
		}
	}
	st := m.Stats()
	var kept int64
	for id := 1; id <= st.Nodes; id++ {
		if d, ok := m.Node(NodeID(id)); ok {
			kept += int64(d.HistoryBytes)
		}
	}
	if st.HistoryBytes < 2<<20 {
		t.Fatalf("only %d bytes of history: the cap must bind for this test to mean anything", st.HistoryBytes)
	}
	if limit := kept + kept/2; st.BufferBytes > limit {
		t.Fatalf("buffers hold %d bytes for %d bytes of messages (%.2f×), over %d",
			st.BufferBytes, kept, float64(st.BufferBytes)/float64(kept), limit)
	}
	t.Logf("buffers %d bytes for %d bytes of messages (%.2f×)", st.BufferBytes, kept, float64(st.BufferBytes)/float64(kept))
}
