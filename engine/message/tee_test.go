package message

import "testing"

// fixedSink accepts or refuses every message, counting what it saw.
type fixedSink struct {
	accept bool
	seen   int
}

func (f *fixedSink) Ingest(Message) bool {
	f.seen++
	return f.accept
}

func TestTeeOffersEveryMessageToEverySink(t *testing.T) {
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
			var sinks []*fixedSink
			for _, a := range tt.accepts {
				s := &fixedSink{accept: a}
				sinks = append(sinks, s)
				tee = append(tee, s)
			}
			if got := tee.Ingest(Message{Topic: "a"}); got != tt.want {
				t.Fatalf("Ingest = %v, want %v", got, tt.want)
			}
			for i, s := range sinks {
				if s.seen != 1 {
					t.Fatalf("sink %d saw %d messages, want 1", i, s.seen)
				}
			}
		})
	}
}

func TestNewTeeSkipsNilSinks(t *testing.T) {
	a, b := &fixedSink{accept: true}, &fixedSink{accept: true}
	tests := []struct {
		name string
		in   []Sink
		want int // sinks left; -1: the single sink a itself
	}{
		{"none", nil, 0},
		{"only nils", []Sink{nil, nil}, 0},
		{"one left is returned as is", []Sink{nil, a}, -1},
		{"two", []Sink{a, nil, b}, 2},
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
				if got != Sink(a) {
					t.Fatalf("got %#v, want the sink itself", got)
				}
			default:
				tee, ok := got.(Tee)
				if !ok || len(tee) != tt.want {
					t.Fatalf("got %#v, want a Tee of %d", got, tt.want)
				}
				tee.Ingest(Message{})
				if a.seen != 1 || b.seen != 1 {
					t.Fatalf("sinks saw %d and %d messages, want 1 each", a.seen, b.seen)
				}
			}
		})
	}
}
