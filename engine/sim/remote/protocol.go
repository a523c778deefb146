// Package remote runs a fleet of virtual devices in another process and
// talks to it. `iotstudio simulate run --control` serves its run over
// standard input and output (Serve); the window starts that process and
// drives it (Start, Client). A large fleet then has a process of its own:
// the window's process keeps only the broker's end of each connection, so
// its file descriptors, goroutines and garbage stay the broker's, and a
// fleet that fails cannot take the window with it.
//
// The protocol is JSON Lines. The driver writes Requests to the run's
// standard input; the run writes its stats lines (the same as
// `simulate run --format jsonl`, see StatsLine) and Replies to its
// standard output. The end of the run's input stops the run gracefully,
// so a window that dies leaves no fleet behind.
package remote

import (
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/fleet"
)

// Operations a Request can ask for.
const (
	OpDevices = "devices" // every device's row
	OpDetail  = "detail"  // one device's state and last messages
	OpKill    = "kill"    // drop a device without DISCONNECT: its will fires
	OpCommand = "command" // deliver Topic and Payload to a device as a command
	OpPause   = "pause"
	OpResume  = "resume"
	OpStop    = "stop" // graceful: offline status, DISCONNECT, no will
)

// Request is one line the driver writes.
type Request struct {
	ID      uint64 `json:"id"`
	Op      string `json:"op"`
	Device  string `json:"device,omitempty"`
	Topic   string `json:"topic,omitempty"`
	Payload []byte `json:"payload,omitempty"`
}

// Line kinds the run writes.
const (
	KindStats   = "stats"
	KindSummary = "summary"
	KindReply   = "reply"
)

// Reply answers the Request with the same ID; Error is "" on success.
type Reply struct {
	Kind    string         `json:"kind"`
	ID      uint64         `json:"id"`
	Error   string         `json:"error,omitempty"`
	Devices []DeviceRow    `json:"devices,omitempty"`
	State   map[string]any `json:"state,omitempty"`
	Last    []Sent         `json:"last,omitempty"`
}

// DeviceRow is one device of the run.
type DeviceRow struct {
	ID        string `json:"id"`
	ClientID  string `json:"client_id"`
	State     string `json:"state"` // fleet.State's word
	Sent      uint64 `json:"sent"`
	LastError string `json:"last_error,omitempty"`
}

// Sent is one message a device sent; AtMS is milliseconds from the
// device's creation.
type Sent struct {
	Topic   string  `json:"topic"`
	Payload []byte  `json:"payload"`
	AtMS    float64 `json:"at_ms"`
}

// Stats is a stats or summary line: one fleet's counters.
type Stats struct {
	Kind             string  `json:"kind"`
	Time             string  `json:"time"`
	Fleet            string  `json:"fleet"`
	Wanted           int     `json:"wanted"`
	Connected        int     `json:"connected"`
	ConnectedMax     *int    `json:"connected_max,omitempty"` // summary only
	Paused           bool    `json:"paused"`
	Sent             uint64  `json:"sent"`
	SentPerSec       float64 `json:"sent_per_s"`
	Errors           uint64  `json:"errors"`
	Reconnects       uint64  `json:"reconnects"`
	ChaosDropped     uint64  `json:"chaos_dropped"`
	ChaosDisconnects uint64  `json:"chaos_disconnects"`
	LagP50MS         float64 `json:"lag_p50_ms"`
	LagP99MS         float64 `json:"lag_p99_ms"`
	LagMaxMS         float64 `json:"lag_max_ms"`
	// Known only when the run observes its own messages (--embedded).
	Delivered    *uint64  `json:"delivered,omitempty"`
	Lost         *uint64  `json:"lost,omitempty"`
	LatencyP50MS *float64 `json:"latency_p50_ms,omitempty"`
	LatencyP99MS *float64 `json:"latency_p99_ms,omitempty"`
	LastError    string   `json:"last_error,omitempty"`
}

// StatsLine is st as a line of the given kind; mostConnected < 0 leaves
// connected_max out (a stats line).
func StatsLine(kind string, st fleet.Stats, mostConnected int) Stats {
	at := st.At // when the counters were read, for a reader that counts delivery itself
	if at.IsZero() {
		at = time.Now()
	}
	l := Stats{
		Kind: kind, Time: at.UTC().Format(time.RFC3339Nano), Fleet: st.Fleet,
		Wanted: st.Wanted, Connected: st.Connected, Paused: st.Paused, Sent: st.Sent, SentPerSec: st.SentPerSec,
		Errors: st.Errors, Reconnects: st.Reconnects, ChaosDropped: st.Dropped, ChaosDisconnects: st.ChaosDisconnects,
		LagP50MS: ms(st.LagP50), LagP99MS: ms(st.LagP99), LagMaxMS: ms(st.LagMax), LastError: st.LastError,
	}
	if mostConnected >= 0 {
		l.ConnectedMax = &mostConnected
	}
	if st.Observed {
		p50, p99 := ms(st.LatencyP50), ms(st.LatencyP99)
		l.Delivered, l.Lost, l.LatencyP50MS, l.LatencyP99MS = &st.Delivered, &st.Lost, &p50, &p99
	}
	return l
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Duration turns a line's milliseconds back into a duration.
func Duration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// Fleet is the line's counters as the fleet reported them (delivery and
// latency only when the run observed its messages).
func (l Stats) Counters() fleet.Stats {
	st := fleet.Stats{
		Fleet: l.Fleet, Wanted: l.Wanted, Connected: l.Connected, Paused: l.Paused, Sent: l.Sent, SentPerSec: l.SentPerSec,
		Errors: l.Errors, Reconnects: l.Reconnects, Dropped: l.ChaosDropped, ChaosDisconnects: l.ChaosDisconnects,
		LagP50: Duration(l.LagP50MS), LagP99: Duration(l.LagP99MS), LagMax: Duration(l.LagMaxMS), LastError: l.LastError,
	}
	if l.Delivered != nil && l.Lost != nil && l.LatencyP50MS != nil && l.LatencyP99MS != nil {
		st.Observed = true
		st.Delivered, st.Lost = *l.Delivered, *l.Lost
		st.LatencyP50, st.LatencyP99 = Duration(*l.LatencyP50MS), Duration(*l.LatencyP99MS)
	}
	return st
}
