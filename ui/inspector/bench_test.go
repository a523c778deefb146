package inspector

import (
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/topics"
)

// BenchmarkShowJSON selects a topic whose last message is JSON, 100 bytes
// or 10 MB of it, and waits until its first lines are on screen and its chart fields
// are listed. It reports, per selection:
//
//   - ns/op: the whole time, as the user waits it;
//   - lines-ns/op: until the first lines show;
//   - ui-ns/op: the work done on the UI goroutine (Show and every update
//     Serve's goroutines queued for it), which is what could freeze the
//     window;
//   - max-ui-ns/op: the longest single piece of that work, the worst
//     pause a user could notice.
func BenchmarkShowJSON(b *testing.B) {
	small := []byte(`{"device":"pump-7","temp":21.5,"pressure":2.08,"rpm":1462,"running":true,"status":"ok","alarms":[]}`)
	b.Run("100B", func(b *testing.B) { benchShow(b, small) })
	b.Run("10MB", func(b *testing.B) { benchShow(b, big10MB()) })
}

func benchShow(b *testing.B, payload []byte) {
	h := newHarness(b, topics.Options{}, nil)
	r := rec("plant/pump-7/log", "", 0)
	r.Payload = payload
	h.feed(r)
	id := h.lookup("plant/pump-7/log")
	var ui, slowest, lines time.Duration
	h.q.ran = func(d time.Duration) {
		ui += d
		slowest = max(slowest, d)
	}
	b.SetBytes(int64(len(r.Payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		h.in.Show(id) // a new read of the node: decoded afresh
		ui += time.Since(start)
		h.waitDecoded()
		lines += time.Since(start)
		h.q.until(b, "the chart fields", func() bool { return len(h.in.chart.fields) > 0 })
	}
	n := float64(b.N)
	b.ReportMetric(float64(lines.Nanoseconds())/n, "lines-ns/op")
	b.ReportMetric(float64(ui.Nanoseconds())/n, "ui-ns/op")
	b.ReportMetric(float64(slowest.Nanoseconds()), "max-ui-ns/op")
}

// BenchmarkLines10MB splits the decode goroutine's extra work for a 10 MB
// JSON view (measuring every line's width, once per decode) from the UI
// goroutine's (wrapping those widths to the pane's columns, once per
// decode and per change of width).
func BenchmarkLines10MB(b *testing.B) {
	res := decode.Decode(decode.Auto, "plant/pump-7/log", big10MB(), "")
	lens := measure(res)
	b.Run("measure", func(b *testing.B) {
		for b.Loop() {
			measure(res)
		}
	})
	b.Run("wrap", func(b *testing.B) {
		for b.Loop() {
			newRowMap(&lens, 120)
		}
	})
	b.Run("wrap-narrow", func(b *testing.B) {
		for b.Loop() {
			newRowMap(&lens, 20) // most lines wrap
		}
	})
}
