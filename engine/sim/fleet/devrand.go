package fleet

import (
	"math/rand/v2"
	"sync"
	"time"
)

// devRand is one device's random numbers: a stream of its own per use,
// seeded by the fleet's seed and the device's index. Drawn from one
// shared generator (or a sender's), which device got which number
// depended on timing, so the same seed dropped different messages and
// disconnected devices at different points in every run; now the k-th
// drop decision or chaos interval of device i is the same in every run
// with that seed.
type devRand struct {
	mu                           sync.Mutex // a leaf: taken under device.mu too
	phase, chaos, drop, spreadBy *rand.Rand
}

func newDevRand(seed uint64, idx int) *devRand {
	stream := func(use uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, uint64(idx)<<3|use)) }
	return &devRand{phase: stream(1), chaos: stream(2), drop: stream(3), spreadBy: stream(4)}
}

// int64N draws from the given stream of r.
func (r *devRand) int64N(g *rand.Rand, n int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return g.Int64N(n)
}

// exp is an exponentially distributed wait of the given mean (chaos).
func (r *devRand) exp(mean time.Duration) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Duration(r.chaos.ExpFloat64() * float64(mean))
}

// dropped decides whether the next message is dropped, at percent.
func (r *devRand) dropped(percent float64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.drop.Float64()*100 < percent
}
