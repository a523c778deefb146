// Package sim is the contract between a simulated device's behaviour and
// the runtime that connects it: engine/sim/device compiles scenario files
// into Behaviours (what a device publishes and how it answers, no I/O),
// and engine/sim/fleet runs them as real MQTT clients on one scheduler.
// Keeping the behaviour free of I/O is what lets a preview show the next
// payloads of device 0 without connecting, and tests check seeded values
// without a broker.
package sim

import (
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// Behaviour is one device's behaviour. Its methods are called from the
// runtime's goroutines (the scheduler and the connection's receive path),
// so an implementation guards its own state.
type Behaviour interface {
	// Identity is the device's ID (for people and topics) and MQTT client ID.
	Identity() (id, clientID string)
	// Connect says how the device connects: its will, keep-alive, session.
	Connect() Connect
	// Online is what the device publishes after each (re)connect: its
	// retained status, birth message, Sparkplug births.
	Online(now time.Time) []message.Message
	// Offline is what it publishes before a graceful disconnect (a will
	// is not fired then).
	Offline(now time.Time) []message.Message
	// Subscriptions are the command filters its handlers listen on.
	Subscriptions() []Subscription
	// Streams are the device's periodic messages, indexed as Next takes them.
	Streams() []Stream
	// Next is stream i's next message at now; false when the stream is
	// switched off (the runtime keeps its schedule and asks again).
	Next(i int, now time.Time) (message.Message, bool)
	// Handle runs the handlers matching a received command and returns
	// what the runtime must do, in order.
	Handle(cmd message.Message, now time.Time) []Effect
}

// Connect is how a device connects.
type Connect struct {
	Will          *message.Message
	KeepAlive     time.Duration
	CleanStart    bool
	SessionExpiry time.Duration
	// Reconnect backoff: from ReconnectMin doubling to ReconnectMax.
	ReconnectMin, ReconnectMax time.Duration
	// Chaos: mean time between random disconnects (0: never), how long the
	// device then stays away, and the share of scheduled messages dropped.
	MTBF, Downtime time.Duration
	DropPercent    float64
}

// Subscription is one command filter.
type Subscription struct {
	Filter string
	QoS    byte
}

// Stream is one periodic message's timing.
type Stream struct {
	Name   string
	Every  time.Duration
	Jitter time.Duration
}

// Effect is one step the runtime carries out for a handler, in order:
// exactly one field is set.
type Effect struct {
	Publish *message.Message
	// Delay waits before the next effect (without blocking other devices).
	Delay time.Duration
	// Offline drops the connection without DISCONNECT (so the will fires)
	// and reconnects after this long.
	Offline time.Duration
}
