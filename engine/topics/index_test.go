package topics

import (
	"fmt"
	"testing"
)

func TestIndexFindsEveryNodeAcrossGrowth(t *testing.T) {
	tests := []struct {
		name    string
		sources []string
		topics  int
	}{
		{"one source, past several doublings", []string{"broker"}, 5000},
		{"same topics in two sources", []string{"broker", "factory"}, 700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{})
			for _, src := range tt.sources {
				for i := range tt.topics {
					r := msg(fmt.Sprintf("plant/%d/sensor%d", i%37, i), src)
					r.Source = src
					applyAll(m, r)
				}
			}
			for _, src := range tt.sources {
				for i := range tt.topics {
					topic := fmt.Sprintf("plant/%d/sensor%d", i%37, i)
					id, ok := m.Lookup(src, topic)
					if !ok {
						t.Fatalf("%s %s not found", src, topic)
					}
					d, _ := m.Node(id)
					if d.Topic != topic || d.Source != src || string(d.Last.Payload) != src {
						t.Fatalf("%s %s found node %s %s", src, topic, d.Source, d.Topic)
					}
				}
				if _, ok := m.Lookup(src, "plant/1/sensor"); ok {
					t.Fatal("found a topic never published")
				}
			}
			if m.Stats().Topics != len(tt.sources)*tt.topics {
				t.Fatalf("topics %d", m.Stats().Topics)
			}
		})
	}
}

// TestFingerprintCollision plants a slot with topic x's fingerprint that
// points at another node, ahead of x's own slot, as a 32-bit fingerprint
// collision would. Lookups and applying (through prefetch's fallback) must
// compare the whole path and land on x.
func TestFingerprintCollision(t *testing.T) {
	m := New(Options{})
	applyAll(m, msg("x", "1"), msg("y", "1"))
	tr := &m.t
	x := &tr.index
	xid, yid := lookup(t, m, "x"), lookup(t, m, "y")
	h := x.hash(tr.bySource["broker"].idx, "x")
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for uint32(x.slots[i]) != uint32(xid) {
		i = (i + 1) & mask
	}
	j := (i + 1) & mask
	for x.slots[j] != 0 {
		j = (j + 1) & mask
	}
	// x's slot moves to the first free slot after it, still on its probe
	// sequence, and a decoy with x's fingerprint takes its place. No slot
	// becomes empty, so every other key stays reachable.
	x.slots[j] = x.slots[i]
	x.slots[i] = h>>32<<32 | uint64(yid)

	if id, _ := m.Lookup("broker", "x"); id != xid {
		t.Fatalf("lookup of x found node %d, want %d", id, xid)
	}
	applyAll(m, msg("x", "2"))
	if s := summaryOf(t, m, "x"); s.Messages != 2 || s.Preview != "2" {
		t.Fatalf("x after the decoy: %+v", s)
	}
	if s := m.Summaries(nil, []NodeID{yid})[0]; s.Messages != 1 || s.Preview != "1" {
		t.Fatalf("y took x's message: %+v", s)
	}
}
