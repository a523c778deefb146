package devices

import (
	"context"
	"time"
)

// Engine is what the panel needs from the simulator. The window adapts
// engine/sim (parser, device model, fleet runtime, inference) to it, so
// this package imports none of them. Every method may be called from a
// background goroutine and none is called on the UI goroutine.
type Engine interface {
	// Profiles lists the built-in profiles and the user's own, in the
	// order the panel shows them.
	Profiles() []ProfileEntry
	// Validate checks a scenario file; no problems means it can start.
	Validate(yaml string) []Problem
	// Preview returns the next n messages device number device would
	// send, without connecting anything.
	Preview(yaml string, device, n int) ([]PreviewMsg, error)
	// Targets names where a fleet can connect: the embedded broker and
	// the saved connections. The first is the default.
	Targets() []string
	// Start connects count devices of the file (0: the counts the file
	// gives) to target and returns at once; the ramp goes on in the Run (Stats.Ramping). The run ends
	// when ctx ends or Stop is called.
	Start(ctx context.Context, yaml string, count int, target string) (Run, error)
	// Infer proposes a scenario file for the captured messages matching
	// filter in the last since, and a report of what it saw.
	Infer(filter string, since time.Duration) (yaml string, report string, err error)
	// SaveProfile writes yaml under name into the user's profile folder.
	SaveProfile(name, yaml string) error
}

// Run is one running fleet. Its methods may be called from any goroutine.
type Run interface {
	Stats() FleetStats
	Devices() []DeviceRow
	Pause()
	Resume()
	// Stop ends the run gracefully (offline status, DISCONNECT, no will)
	// and cancels a ramp under way; Done is closed once it has.
	Stop()
	// Kill drops device id without DISCONNECT, so the broker fires its
	// will.
	Kill(id string) error
	// Command delivers a command to device id as if it had received it.
	Command(id, topic, payload string) error
	// DeviceState is device id's state and the last messages it sent,
	// oldest first.
	DeviceState(id string) (state map[string]any, last []PreviewMsg)
	Done() <-chan struct{}
	// Err is why the run ended, nil for a Stop or a cancelled context.
	Err() error
}

// ProfileEntry is one profile the list offers.
type ProfileEntry struct {
	Name string
	// Source is "built-in" or the file's path in the user's folder.
	Source  string
	BuiltIn bool
	YAML    string
}

// Problem is one thing wrong with a scenario file, at 1-based Line and
// Col (0 when the position is unknown): a scenario.Error's Pos and Msg.
type Problem struct {
	Line, Col int
	Msg       string
}

// PreviewMsg is one message a device sends: At is its offset from the
// device's start.
type PreviewMsg struct {
	Topic   string
	Payload string
	At      time.Duration
}

// FleetStats are a run's live counters. Delivered, Lost and the latencies
// mean something only when LatencyKnown: the studio must see the
// messages arrive to measure them.
type FleetStats struct {
	Wanted, Connected      int
	Sent                   uint64
	Rate                   float64 // messages sent per second, lately
	Errors                 uint64
	LastError              string // in words; "" when there was none
	Reconnects             uint64
	LagP50, LagP99         time.Duration
	Delivered, Lost        uint64
	LatencyP50, LatencyP99 time.Duration
	LatencyKnown           bool
	Ramping                bool
}

// Device states as DeviceRow.State spells them.
const (
	StateOnline       = "online"
	StateOffline      = "offline"
	StateReconnecting = "reconnecting"
)

// DeviceRow is one device of a run.
type DeviceRow struct {
	ID, ClientID string
	State        string
	Sent         uint64
	LastError    string
}
