package topics

import "time"

// rate counts messages over a sliding window with two counters: the
// current window and the one before. Read at a point f (0..1) into the
// current window, the estimate is (prev·(1−f) + cur) per window, the usual
// sliding-window-counter approximation. It costs 12 bytes and a few
// integer operations per message, where exact timestamps per message would
// cost memory per message.
type rate struct {
	win, cur, prev uint32
}

// add counts n messages in window w. Window numbers are compared modulo
// 2^32, so they may wrap.
func (r *rate) add(w, n uint32) {
	switch d := w - r.win; {
	case d == 0:
		r.cur += n
	case d == 1:
		r.win, r.prev, r.cur = w, r.cur, n
	case int32(d) < 0:
		// The clock went back: count it in the window we are in.
		r.cur += n
	default:
		r.win, r.prev, r.cur = w, 0, n
	}
}

// perSecond estimates messages per second at fraction f of window w.
func (r rate) perSecond(w uint32, f float64, window time.Duration) float64 {
	var cur, prev uint32
	switch w - r.win {
	case 0:
		cur, prev = r.cur, r.prev
	case 1:
		prev = r.cur
	}
	return (float64(prev)*(1-f) + float64(cur)) / window.Seconds()
}
