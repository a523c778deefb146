package fleet

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// counters are a Runner's running totals.
type counters struct {
	startedAt time.Time

	connected        atomic.Int64
	sent             atomic.Uint64
	errors           atomic.Uint64
	reconnects       atomic.Uint64
	dropped          atomic.Uint64
	chaosDisconnects atomic.Uint64
	notStopped       atomic.Int64
	lag              hist

	errMu     sync.Mutex
	lastErr   string
	lastErrAt time.Time

	rateMu  sync.Mutex
	samples [rateWindow + 1]rateSample
	nSample int
}

type rateSample struct {
	at   time.Time
	sent uint64
}

// rateWindow is how many seconds the send rate is averaged over.
const rateWindow = 5

// Stats is a fleet's state at a moment; cheap enough to take ten times a
// second.
type Stats struct {
	Fleet     string
	Wanted    int // devices in the fleet
	Connected int
	Paused    bool

	Sent       uint64
	SentPerSec float64 // over the last few seconds

	// Errors counts failed connects, lost connections and failed
	// publishes or subscriptions; LastError says the latest in words.
	Errors      uint64
	LastError   string
	LastErrorAt time.Time

	Reconnects       uint64 // connects after the first, per device
	ChaosDisconnects uint64 // random drops by chaos (MTBF)
	Dropped          uint64 // scheduled messages chaos did not send (DropPercent)

	// Lag is how late stream messages went out: send time − scheduled time.
	LagP50, LagP99, LagMax time.Duration

	// Observed: Ingest has seen the devices' messages (MQTT 5 only, which
	// carries sim-seq and sim-ts); then Delivered, Lost and the end-to-end
	// latency are known.
	Observed               bool
	Delivered, Lost        uint64
	LatencyP50, LatencyP99 time.Duration

	// NotStopped is how many devices Run could not stop cleanly.
	NotStopped int

	// At is when the counters were read: a process that counts delivery
	// itself compares Sent with what it had seen delivered by then.
	At time.Time
}

// Stats returns the fleet's counters now. Delivery is read first, at At:
// a message is counted sent before it is written, so Delivered never runs
// ahead of Sent.
func (r *Runner) Stats() Stats {
	at := time.Now()
	o := r.obs.Counts()
	s := Stats{
		At:               at,
		Fleet:            r.src.Name(),
		Wanted:           len(r.devs),
		Connected:        int(r.connected.Load()),
		Paused:           r.paused.Load(),
		Sent:             r.sent.Load(),
		Errors:           r.errors.Load(),
		Reconnects:       r.reconnects.Load(),
		ChaosDisconnects: r.chaosDisconnects.Load(),
		Dropped:          r.dropped.Load(),
		LagP50:           r.lag.quantile(0.50),
		LagP99:           r.lag.quantile(0.99),
		LagMax:           time.Duration(r.lag.max.Load()),
		NotStopped:       int(r.notStopped.Load()),
	}
	s.Delivered, s.Lost, s.LatencyP50, s.LatencyP99 = o.Delivered, o.Lost, o.LatencyP50, o.LatencyP99
	s.Observed = s.Delivered > 0
	r.errMu.Lock()
	s.LastError, s.LastErrorAt = r.lastErr, r.lastErrAt
	r.errMu.Unlock()
	s.SentPerSec = r.rate(time.Now(), s.Sent)
	return s
}

func (r *Runner) setLastErr(err error) {
	r.errMu.Lock()
	r.lastErr, r.lastErrAt = err.Error(), time.Now()
	r.errMu.Unlock()
}

// noteErr records a failure of a connected device that does not end its
// connection.
func (r *Runner) noteErr(d *device, err error) {
	if r.stopping.Load() {
		return
	}
	r.errors.Add(1)
	r.setLastErr(err)
	d.mu.Lock()
	d.lastErr = err.Error()
	d.mu.Unlock()
}

// sampleRate keeps the last rateWindow seconds' send totals.
func (r *Runner) sampleRate(now time.Time) {
	r.rateMu.Lock()
	defer r.rateMu.Unlock()
	copy(r.samples[1:], r.samples[:len(r.samples)-1])
	r.samples[0] = rateSample{at: now, sent: r.sent.Load()}
	r.nSample = min(r.nSample+1, len(r.samples))
}

func (r *Runner) rate(now time.Time, sent uint64) float64 {
	r.rateMu.Lock()
	defer r.rateMu.Unlock()
	if r.nSample == 0 {
		return 0
	}
	old := r.samples[r.nSample-1]
	secs := now.Sub(old.at).Seconds()
	if secs < 0.5 {
		return 0
	}
	return float64(sent-old.sent) / secs
}

// DeviceStatus is one device's state.
type DeviceStatus struct {
	Index     int
	ID        string
	ClientID  string
	State     State
	Sent      uint64
	LastError string
}

// Devices lists every device's state, in fleet order.
func (r *Runner) Devices() []DeviceStatus {
	out := make([]DeviceStatus, len(r.devs))
	for i, d := range r.devs {
		d.mu.Lock()
		out[i] = DeviceStatus{Index: i, ID: d.id, ClientID: d.clientID, State: d.state, LastError: d.lastErr}
		d.mu.Unlock()
		out[i].Sent = d.sent.Load()
	}
	return out
}

// Ingest is a message.Sink: see Observer.Ingest.
func (r *Runner) Ingest(m message.Message) bool { return r.obs.Ingest(m) }
