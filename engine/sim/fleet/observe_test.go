package fleet

import (
	"strconv"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A subscription on another broker sees no publisher client ID; the
// device is named by its sim-client property instead, so the window can
// count delivery through a saved connection too.
func TestIngestNamesTheDeviceWithoutAClientID(t *testing.T) {
	r := New(fleetOf{n: 1}, Target{}, Options{})
	for seq := range 3 {
		r.Ingest(message.Message{Source: "Team EMQX", Topic: "data", UserProps: []message.UserProp{
			{Key: PropSeq, Value: strconv.Itoa(seq)},
			{Key: PropClient, Value: "sim-dev000"},
		}})
	}
	r.Ingest(message.Message{Source: "Team EMQX", Topic: "data", UserProps: []message.UserProp{
		{Key: PropSeq, Value: "9"}, {Key: PropClient, Value: "not-ours"},
	}})
	if st := r.Stats(); st.Delivered != 3 || st.Lost != 0 || !st.Observed {
		t.Fatalf("delivered %d lost %d observed %v; want 3, 0, true", st.Delivered, st.Lost, st.Observed)
	}
}

// DeliveredBy counts what had arrived before a moment: the window shows
// it beside a Sent the fleet's process read then, so deliveries while the
// stats line travelled do not run ahead of Sent (they did, 5 of 1,781).
func TestDeliveredByCountsWhatArrivedBeforeAMoment(t *testing.T) {
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	now := start
	o := NewObserver([]string{"dev-0"})
	o.start, o.now = start, func() time.Time { return now }
	deliver := func(seq int, at time.Duration) {
		now = start.Add(at)
		o.Ingest(message.Message{ClientID: "dev-0", UserProps: []message.UserProp{{Key: PropSeq, Value: strconv.Itoa(seq)}}})
	}
	for seq := range 3 {
		deliver(seq, 10*time.Millisecond)
	}
	deliver(3, 25*time.Millisecond)
	deliver(4, 25*time.Millisecond)
	for _, tc := range []struct {
		by   time.Duration
		want uint64
	}{
		{-time.Second, 0},          // before the observer
		{5 * time.Millisecond, 0},  // before any
		{10 * time.Millisecond, 0}, // that millisecond may not be over: left out
		{11 * time.Millisecond, 3}, // the first three
		{20 * time.Millisecond, 3}, //
		{26 * time.Millisecond, 5}, // all
		{time.Second, 5},           // later than now
	} {
		if got := o.DeliveredBy(start.Add(tc.by)); got != tc.want {
			t.Errorf("delivered by +%v: %d, want %d", tc.by, got, tc.want)
		}
	}
	now = start.Add(time.Hour) // further back than the buckets reach: all
	if got := o.DeliveredBy(start.Add(11 * time.Millisecond)); got != 5 {
		t.Errorf("delivered by a moment an hour ago: %d, want all 5", got)
	}
	if got := o.Counts().Delivered; got != 5 {
		t.Errorf("delivered %d, want 5", got)
	}
}
