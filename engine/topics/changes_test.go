package topics

import (
	"fmt"
	"slices"
	"testing"

	"github.com/iotstudio/iotstudio/engine/message"
)

// topicsOf names the nodes of a change set as "source:topic" ("broker:" for
// the root), sorted, so that expectations read as paths.
func topicsOf(t *testing.T, m *Model, ids []NodeID) []string {
	t.Helper()
	var out []string
	for _, s := range m.Summaries(nil, ids) {
		if s.ID == 0 {
			t.Fatalf("change set lists an unknown node in %v", ids)
		}
		out = append(out, s.Source+":"+s.Topic)
	}
	slices.Sort(out)
	return out
}

func TestChangesListOnlyWhatChanged(t *testing.T) {
	seed := []message.Message{msg("a/b/c", "1"), msg("a/b/d", "1"), msg("x/y", "1")}
	tests := []struct {
		name    string
		batches [][]message.Message // applied after seed, one version each
		since   int                 // versions back from the seed's (0: the seed's version)
		want    []string
		all     bool
	}{
		{
			name:    "nothing new",
			batches: nil,
			want:    nil,
		},
		{
			name:    "a message marks its topic and ancestors, not siblings",
			batches: [][]message.Message{{msg("a/b/c", "2")}},
			want:    []string{"broker:", "broker:a", "broker:a/b", "broker:a/b/c"},
		},
		{
			name:    "several versions, each node once",
			batches: [][]message.Message{{msg("a/b/c", "2")}, {msg("a/b/c", "3"), msg("x/y", "2")}, {msg("a/b/c", "4")}},
			want:    []string{"broker:", "broker:a", "broker:a/b", "broker:a/b/c", "broker:x", "broker:x/y"},
		},
		{
			name:    "new topics and new sources",
			batches: [][]message.Message{{msg("a/b/e", "1"), {Source: "remote", Topic: "r", Payload: []byte("1")}}},
			want:    []string{"broker:", "broker:a", "broker:a/b", "broker:a/b/e", "remote:", "remote:r"},
		},
		{
			name:    "a reader further back sees the seed too",
			batches: [][]message.Message{{msg("x/y", "2")}},
			since:   1,
			want:    []string{"broker:", "broker:a", "broker:a/b", "broker:a/b/c", "broker:a/b/d", "broker:x", "broker:x/y"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{})
			first := m.Changes(0)
			if !first.All || first.To != 1 {
				t.Fatalf("first look %+v, want All at version 1", first)
			}
			applyAll(m, seed...)
			seedVersion := m.Changes(first.To).To
			for _, b := range tt.batches {
				applyAll(m, b...)
			}
			cs := m.Changes(seedVersion - Version(tt.since))
			if cs.All != tt.all || cs.To != seedVersion+Version(len(tt.batches)) {
				t.Fatalf("change set %+v", cs)
			}
			if got := topicsOf(t, m, cs.Nodes); !slices.Equal(got, tt.want) {
				t.Fatalf("changed\n got %v\nwant %v", got, tt.want)
			}
			if again := m.Changes(cs.To); again.All || len(again.Nodes) != 0 {
				t.Fatalf("nothing changed since %d but got %+v", cs.To, again)
			}
		})
	}
}

func TestChangesOverflowSaysEverythingChanged(t *testing.T) {
	// 10 entries fit; one new topic at depth 2 logs 3 nodes (root, level, topic).
	tests := []struct {
		name string
		run  func(m *Model) (oldReader, recentReader Version)
		// what the recent reader must see; nil: All
		recent []string
	}{
		{
			name: "one version larger than the log",
			run: func(m *Model) (Version, Version) {
				old := m.Changes(0).To
				var recs []message.Message
				for i := range 20 {
					recs = append(recs, msg(fmt.Sprintf("d/%d", i), "1"))
				}
				applyAll(m, recs...)
				mid := m.Changes(old).To
				applyAll(m, msg("d/1", "2"))
				return old, mid
			},
			recent: []string{"broker:", "broker:d", "broker:d/1"},
		},
		{
			name: "many small versions push old ones out",
			run: func(m *Model) (Version, Version) {
				old := m.Changes(0).To
				for i := range 8 {
					applyAll(m, msg(fmt.Sprintf("e%d/t", i), "1"))
				}
				recent := m.Changes(old).To
				applyAll(m, msg("e0/t", "2"))
				return old, recent
			},
			recent: []string{"broker:", "broker:e0", "broker:e0/t"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{MaxChanges: 10})
			old, recent := tt.run(m)
			if cs := m.Changes(old); !cs.All || len(cs.Nodes) != 0 {
				t.Fatalf("reader at %d: %+v, want All", old, cs)
			}
			cs := m.Changes(recent)
			if cs.All {
				t.Fatalf("recent reader at %d told everything changed", recent)
			}
			if got := topicsOf(t, m, cs.Nodes); !slices.Equal(got, tt.recent) {
				t.Fatalf("recent reader got %v, want %v", got, tt.recent)
			}
			m.mu.RLock()
			n := len(m.t.changes.ids)
			m.mu.RUnlock()
			if n > 10 {
				t.Fatalf("change log holds %d entries, over MaxChanges", n)
			}
		})
	}
}

func TestChangesFromTheFuture(t *testing.T) {
	m := New(Options{})
	applyAll(m, msg("a", "1"))
	if cs := m.Changes(1000); !cs.All {
		t.Fatalf("a version this model never had must rebuild: %+v", cs)
	}
}
