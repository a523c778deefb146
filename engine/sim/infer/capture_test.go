package infer

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
)

// captured opens a capture store in a temporary directory holding msgs.
func captured(t *testing.T, msgs []message.Message) *capture.Store {
	t.Helper()
	s, err := capture.Open(t.TempDir(), capture.Options{})
	if err != nil {
		t.Fatalf("capture.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, m := range msgs {
		if !s.Ingest(m) {
			t.Fatalf("Ingest(%s) refused", m.Topic)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return s
}

func TestFromCapture(t *testing.T) {
	// Recent receive times, so the capture's default retention keeps them;
	// ingested oldest first, as a broker would.
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	d := plant(20, 60, start)
	sortByTime(d.msgs)
	other := []message.Message{
		msg(start.Add(time.Second), "office/lamp/state", "lamp", `{"on":true}`),
		msg(start.Add(2*time.Second), "office/lamp/state", "lamp", `{"on":false}`),
	}
	s := captured(t, append(other, d.msgs...))
	ctx := context.Background()

	f, rep, err := FromCapture(ctx, s, "plant/#", time.Time{}, time.Time{}, Options{Name: "greenhouse"})
	if err != nil {
		t.Fatalf("FromCapture: %v", err)
	}
	st := f.Profiles[0].Streams[0]
	if rep.Messages != 1200 || rep.Truncated || len(f.Profiles[0].Streams) != 1 || st.Topic != "plant/{{.ID}}/telemetry" || f.Fleets[0].Count != 20 {
		t.Fatalf("read %d messages (truncated %v), streams %d, topic %q, count %d; want 1200 of plant/# only, plant/{{.ID}}/telemetry, 20",
			rep.Messages, rep.Truncated, len(f.Profiles[0].Streams), st.Topic, f.Fleets[0].Count)
	}
	within(t, "temp", field(t, st.Fields, "temp").Walk, d.tempMin, d.tempMax)
	if every := time.Duration(st.Every); every < 4900*time.Millisecond || every > 5100*time.Millisecond {
		t.Errorf("every %v, want ≈5s", every)
	}

	// The time range bounds what is read: the first minute holds 12 messages per device.
	_, rep, err = FromCapture(ctx, s, "plant/#", start, start.Add(time.Minute), Options{})
	if err != nil {
		t.Fatalf("FromCapture with a time range: %v", err)
	}
	if rep.Messages < 200 || rep.Messages > 260 || rep.From.Before(start) || !rep.To.Before(start.Add(time.Minute)) {
		t.Errorf("a minute's range read %d messages from %v to %v; want about 240 inside it", rep.Messages, rep.From, rep.To)
	}

	// MaxMessages keeps the newest ones and says the rest were not read.
	_, rep, err = FromCapture(ctx, s, "plant/#", time.Time{}, time.Time{}, Options{MaxMessages: 1500 - 1000 + 100})
	if err != nil {
		t.Fatalf("FromCapture with a bound: %v", err)
	}
	if rep.Messages != 600 || !rep.Truncated || !rep.To.Equal(d.msgs[len(d.msgs)-1].Time) {
		t.Errorf("bounded read: %d messages, truncated %v, newest %v; want the newest 600 and truncated", rep.Messages, rep.Truncated, rep.To)
	}
	if !strings.Contains(strings.Join(rep.Lines(), "\n"), "newest 600") {
		t.Errorf("the report does not say the read was bounded: %q", rep.Lines())
	}

	// So does MaxBytes, for captures of large payloads.
	per := len(d.msgs[0].Payload)
	_, rep, err = FromCapture(ctx, s, "plant/#", time.Time{}, time.Time{}, Options{MaxBytes: 50 * per})
	if err != nil {
		t.Fatalf("FromCapture with a byte bound: %v", err)
	}
	if rep.Messages < 45 || rep.Messages > 55 || !rep.Truncated {
		t.Errorf("byte-bounded read: %d messages, truncated %v; want about 50 and truncated", rep.Messages, rep.Truncated)
	}

	if _, _, err := FromCapture(ctx, s, "nothing/#", time.Time{}, time.Time{}, Options{}); err == nil || !strings.Contains(err.Error(), "no messages on \"nothing/#\"") {
		t.Errorf("empty selection: %v, want an error naming the filter", err)
	}
	if _, _, err := FromCapture(ctx, s, "a/#/b", time.Time{}, time.Time{}, Options{}); err == nil || !strings.Contains(err.Error(), "'#' must be the last level") {
		t.Errorf("bad filter: %v, want the filter's error", err)
	}
}

func sortByTime(msgs []message.Message) {
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].Time.Before(msgs[j].Time) })
}
