package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/topics"
)

// fixedRecorder accepts or refuses every record, counting what it saw.
type fixedRecorder struct {
	accept bool
	seen   int
}

func (f *fixedRecorder) Ingest(capture.Record) bool {
	f.seen++
	return f.accept
}

func TestTeeOffersEveryRecordToEveryRecorder(t *testing.T) {
	tests := []struct {
		name    string
		accepts []bool
		want    bool
	}{
		{"all accept", []bool{true, true}, true},
		{"first drops", []bool{false, true}, false},
		{"last drops", []bool{true, false}, false},
		{"three, middle drops", []bool{true, false, true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tee Tee
			var recs []*fixedRecorder
			for _, a := range tt.accepts {
				r := &fixedRecorder{accept: a}
				recs = append(recs, r)
				tee = append(tee, r)
			}
			if got := tee.Ingest(capture.Record{Topic: "a"}); got != tt.want {
				t.Fatalf("Ingest = %v, want %v", got, tt.want)
			}
			for i, r := range recs {
				if r.seen != 1 {
					t.Fatalf("recorder %d saw %d records, want 1", i, r.seen)
				}
			}
		})
	}
}

func TestNewTeeSkipsNilRecorders(t *testing.T) {
	a, b := &fixedRecorder{accept: true}, &fixedRecorder{accept: true}
	var offCapture *capture.Store // capture turned off
	tests := []struct {
		name string
		in   []Recorder
		want int // recorders left; -1: the single recorder a itself
	}{
		{"none", nil, 0},
		{"only nils", []Recorder{nil, offCapture}, 0},
		{"one left is returned as is", []Recorder{offCapture, a}, -1},
		{"two", []Recorder{a, nil, b}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewTee(tt.in...)
			switch {
			case tt.want == 0:
				if got != nil {
					t.Fatalf("got %#v, want nil so that no tap is installed", got)
				}
			case tt.want == -1:
				if got != Recorder(a) {
					t.Fatalf("got %#v, want the recorder itself", got)
				}
			default:
				tee, ok := got.(Tee)
				if !ok || len(tee) != tt.want {
					t.Fatalf("got %#v, want a Tee of %d", got, tt.want)
				}
				tee.Ingest(capture.Record{})
				if a.seen != 1 || b.seen != 1 {
					t.Fatalf("recorders saw %d and %d records, want 1 each", a.seen, b.seen)
				}
			}
		})
	}
}

// TestTeeFeedsTopicModelFromBroker publishes through the real broker with a
// real client and checks the live topic tree, next to another recorder
// standing in for the capture.
func TestTeeFeedsTopicModelFromBroker(t *testing.T) {
	model := topics.New(topics.Options{BatchInterval: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- model.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("model Run: %v", err)
		}
	}()
	other := &recorded{}
	b := startBroker(t, func(c *Config) { c.Recorder = NewTee(other, model) })
	c := mustDialV5(t, listenerAddr(t, b, "mqtt"), "sensor-gw")
	c.pub(t, "site/1/device/2/temperature", "21.5", 1, false)
	c.pub(t, "site/1/device/2/temperature", "21.7", 1, false)
	c.pub(t, "site/1/device/10/temperature", "19.0", 0, false)
	c.pub(t, "site/1/device/2/status", "online", 1, true)
	c.pub(t, "site/1/device/10/status", "online", 1, true)
	c.pub(t, "site/1/device/10/status", "", 1, true) // clears the retained status
	const total = 6
	other.wait(t, total)
	waitApplied(t, model, total)

	id, ok := model.Lookup(SourceBroker, "site/1/device/2/temperature")
	if !ok {
		t.Fatal("published topic not in the tree")
	}
	d, _ := model.Node(id)
	if d.Messages != 2 || string(d.Last.Payload) != "21.7" || d.Last.ClientID != "sensor-gw" || d.Last.QoS != 1 ||
		d.Last.Protocol != 5 || d.Source != SourceBroker {
		t.Fatalf("temperature node %+v", d)
	}
	if h := model.History(id); len(h) != 2 || string(h[1].Payload) != "21.5" {
		t.Fatalf("history %+v", h)
	}
	site, _ := model.Lookup(SourceBroker, "site/1/device")
	var names []string
	for _, k := range model.Children(site) {
		names = append(names, k.Name)
	}
	if len(names) != 2 || names[0] != "2" || names[1] != "10" {
		t.Fatalf("devices %v, want [2 10] in natural order", names)
	}
	root := model.Sources()[0]
	if root.Name != SourceBroker || root.SubtreeMessages != total || root.SubtreeTopics != 4 || root.SubtreeRetained != 1 {
		t.Fatalf("broker root %+v", root)
	}
	st, _ := model.Lookup(SourceBroker, "site/1/device/10/status")
	if s := model.Summaries(nil, []topics.NodeID{st})[0]; s.Retained || s.Messages != 2 {
		t.Fatalf("cleared status %+v", s)
	}
}

func waitApplied(t *testing.T, m *topics.Model, n uint64) {
	t.Helper()
	testkit.EventuallyErr(t, fmt.Sprintf("the model to apply %d messages", n), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if got := m.Stats().Messages; got < n {
			return fmt.Errorf("it applied %d", got)
		}
		return nil
	})
}
