package device

import (
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// Preview returns the first n messages device index of f would send on
// its streams from start, in schedule order (without jitter; streams due
// at the same time in stream order), without any I/O: for `simulate
// preview` and the editor. The device is connected and born first, as the
// runtime does, so a Sparkplug node's seq and the values continue from
// its births. Switched-off streams send nothing, so fewer than n messages
// come back when no stream is on.
func Preview(f *Fleet, index, n int, start time.Time) []message.Message {
	d := f.NewDevice(index)
	d.Connect()
	d.Online(start)
	streams := d.Streams()
	due := make([]time.Time, len(streams))
	for i := range due {
		due[i] = start
	}
	live := make([]bool, len(streams))
	for i, s := range streams {
		live[i] = s.Every > 0
	}
	var out []message.Message
	for len(out) < n {
		i := earliest(due, live)
		if i < 0 {
			break
		}
		m, ok := d.Next(i, due[i])
		if !ok {
			// Nothing switches a stream on during a preview (no commands
			// come), so an off stream stays silent: drop it from the schedule.
			live[i] = false
			continue
		}
		out = append(out, m)
		due[i] = due[i].Add(streams[i].Every)
	}
	return out
}

// earliest is the live stream due first, -1 when none is live.
func earliest(due []time.Time, live []bool) int {
	best := -1
	for i, t := range due {
		if live[i] && (best < 0 || t.Before(due[best])) {
			best = i
		}
	}
	return best
}
