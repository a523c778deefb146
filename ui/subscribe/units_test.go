package subscribe

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
)

func TestStoreCaps(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		maxCount    int
		maxBytes    int64
		n, size     int
		wantKept    int
		wantClipped int64
	}{
		{"under both caps", 10, 1 << 20, 5, 10, 5, 0},
		{"count cap", 10, 1 << 20, 25, 10, 10, 0},
		{"byte cap", 1000, 10 * (entryOverhead + 1000 + 3), 50, 1000, 10, 0},
		// A payload over a quarter of the byte cap is kept in part.
		{"clipped", 100, 4 * 1024, 3, 5000, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(tt.maxCount, tt.maxBytes)
			for i := range tt.n {
				s.add(message.Message{Source: "c", Topic: fmt.Sprintf("t%02d", i%100), Payload: bytes.Repeat([]byte{'x'}, tt.size)}, now)
			}
			c := s.counts("c")
			if c.kept != tt.wantKept || c.received != int64(tt.n) || c.evicted != int64(tt.n-tt.wantKept) || c.clipped != tt.wantClipped {
				t.Fatalf("counts %+v; want %d kept of %d, %d clipped", c, tt.wantKept, tt.n, tt.wantClipped)
			}
			if c.keptBytes > tt.maxBytes {
				t.Errorf("%d bytes kept, cap %d", c.keptBytes, tt.maxBytes)
			}
			all, oldest := s.since(0, nil)
			if len(all) != tt.wantKept || all[len(all)-1].seq != uint64(tt.n) || oldest != all[0].seq {
				t.Fatalf("since(0): %d entries, newest seq %d, oldest %d", len(all), all[len(all)-1].seq, oldest)
			}
			for _, e := range all {
				if e.size != tt.size || e.clipped() != (tt.wantClipped > 0) || !e.rec.Time.Equal(now) {
					t.Fatalf("entry %d: size %d, kept %d, time %v", e.seq, e.size, len(e.rec.Payload), e.rec.Time)
				}
			}
			newer, _ := s.since(uint64(tt.n-2), nil)
			if len(newer) != min(2, tt.wantKept) {
				t.Errorf("since(n-2) gave %d entries", len(newer))
			}
			s.clear("c")
			if c := s.counts("c"); c.kept != 0 || c.keptBytes != 0 || c.received != int64(tt.n) || c.evicted != int64(tt.n-tt.wantKept) {
				t.Errorf("after clear: %+v", c)
			}
		})
	}
}

// TestStoreClearOneSource: Clear empties one connection's messages and
// keeps the others' in order.
func TestStoreClearOneSource(t *testing.T) {
	s := newStore(5, 1<<20)
	for i := range 8 { // the ring has wrapped
		s.add(message.Message{Source: []string{"a", "b"}[i%2], Topic: fmt.Sprint(i)}, time.Now())
	}
	s.clear("a")
	all, oldest := s.since(0, nil)
	var got []string
	for _, e := range all {
		got = append(got, e.rec.Source+e.rec.Topic)
	}
	if strings.Join(got, " ") != "b3 b5 b7" || oldest != 4 {
		t.Errorf("after clearing a: %v (oldest seq %d)", got, oldest)
	}
	s.add(message.Message{Source: "a", Topic: "8"}, time.Now())
	newer, _ := s.since(8, nil)
	if len(newer) != 1 || newer[0].rec.Topic != "8" {
		t.Errorf("since(8) after clear: %+v", newer)
	}
	if c := s.counts("a"); c.kept != 4 || c.received != 5 {
		t.Errorf("counts %+v", c)
	}
}

// TestStoreCopies: Ingest's records share their slices with the capture,
// so the store must not keep them.
func TestStoreCopies(t *testing.T) {
	s := newStore(10, 1<<20)
	payload, corr := []byte("abc"), []byte{1, 2}
	props := []message.UserProp{{Key: "k", Value: "v"}}
	s.add(message.Message{Source: "c", Topic: "t", Payload: payload, CorrelationData: corr, UserProps: props}, time.Now())
	payload[0], corr[0], props[0].Value = 'X', 9, "changed"
	e, _ := s.since(0, nil)
	if string(e[0].rec.Payload) != "abc" || e[0].rec.CorrelationData[0] != 1 || e[0].rec.UserProps[0].Value != "v" {
		t.Errorf("the store kept the caller's slices: %+v", e[0].rec)
	}
}

func TestMostSpecificSubscription(t *testing.T) {
	var c colours
	subs := []client.Subscription{{Filter: "#"}, {Filter: "a/#"}, {Filter: "a/+/c"}, {Filter: "a/b/c"}, {Filter: "$share/g/x/+"}, {Filter: "+/+/+"}}
	held := c.update("conn", subs)
	for i, h := range held {
		if h.colour != i {
			t.Errorf("%s: colour %d, want %d (least used first)", h.Filter, h.colour, i)
		}
	}
	tests := []struct{ topic, want string }{
		{"a/b/c", "a/b/c"},
		{"a/x/c", "a/+/c"},
		{"a/x/d", "a/#"}, // one literal level beats +/+/+'s none
		{"a/x", "a/#"},
		{"x/y", "$share/g/x/+"},
		{"z", "#"},
		{"$SYS/x", ""}, // wildcards first do not match $ topics
	}
	var buf []byte
	for _, tt := range tests {
		got := ""
		if h := c.best("conn", tt.topic, &buf); h != nil {
			got = h.Filter
		}
		if got != tt.want {
			t.Errorf("%s: matched %q, want %q", tt.topic, got, tt.want)
		}
	}
	// Colours stay with their filters; a new filter gets a free colour.
	held = c.update("conn", []client.Subscription{{Filter: "a/b/c"}, {Filter: "new"}})
	if held[0].colour != 3 || held[1].colour != 0 {
		t.Errorf("after update: %+v", held)
	}
	if c.best("other", "a/b/c", &buf) != nil {
		t.Error("another connection's subscriptions matched")
	}
}

func TestPreview(t *testing.T) {
	long := strings.Repeat("é", 200)
	tests := []struct {
		payload []byte
		size    int
		want    string
	}{
		{nil, 0, "(empty)"},
		{[]byte("21.5"), 4, "21.5"},
		{[]byte("a\nb\tc"), 5, "a b c"},
		{[]byte(long), len(long), strings.Repeat("é", previewRunes) + "…"},
		{[]byte("kept part"), 100, "kept part…"},
		{[]byte{0x00, 0x01, 0xff}, 3, "binary, 3 bytes: 00 01 ff"},
		{bytes.Repeat([]byte{0xfe}, 30), 30, "binary, 30 bytes: " + strings.TrimSpace(strings.Repeat("fe ", 24)) + " …"},
	}
	for _, tt := range tests {
		if got := preview(tt.payload, tt.size); got != tt.want {
			t.Errorf("preview(%q) = %q, want %q", tt.payload, got, tt.want)
		}
	}
}

func TestContainsFold(t *testing.T) {
	tests := []struct {
		s, needle string
		want      bool
	}{
		{"Sensors/Hall/Temp", "hall", true},
		{"sensors", "", true},
		{"abc", "abcd", false},
		{"aab", "ab", true},
		{"temp", "hum", false},
	}
	for _, tt := range tests {
		if got := containsFold(tt.s, tt.needle); got != tt.want {
			t.Errorf("containsFold(%q, %q) = %v", tt.s, tt.needle, got)
		}
		if got := containsFold([]byte(tt.s), tt.needle); got != tt.want {
			t.Errorf("containsFold([]byte %q, %q) = %v", tt.s, tt.needle, got)
		}
	}
}
