package fleet

import (
	"math"
	"sync/atomic"
	"time"
)

// hist is a fixed-bucket histogram of durations, safe for concurrent use
// and cheap to read: bucket i counts durations up to histBase·histGrowth^i
// (12 % apart, from 100 µs to minutes), so a quantile is exact to within a
// bucket without keeping or sorting samples.
type hist struct {
	n     [histBuckets]atomic.Uint64
	count atomic.Uint64
	max   atomic.Int64
}

const (
	histBuckets = 128
	histBase    = 100 * time.Microsecond
	histGrowth  = 1.12
)

var logGrowth = math.Log(histGrowth)

func (h *hist) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := 0
	if d > histBase {
		i = int(math.Ceil(math.Log(float64(d)/float64(histBase)) / logGrowth))
		i = min(i, histBuckets-1)
	}
	h.n[i].Add(1)
	h.count.Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

// quantile is the upper bound of the bucket holding quantile q (0 < q ≤ 1),
// never above the largest duration seen; 0 when nothing was observed.
func (h *hist) quantile(q float64) time.Duration {
	total := h.count.Load()
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i := range h.n {
		seen += h.n[i].Load()
		if seen >= rank {
			if i == histBuckets-1 { // the overflow bucket has no upper bound
				return time.Duration(h.max.Load())
			}
			return min(bucketBound(i), time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

func bucketBound(i int) time.Duration {
	return time.Duration(float64(histBase) * math.Pow(histGrowth, float64(i)))
}
