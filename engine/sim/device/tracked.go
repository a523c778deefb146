package device

import (
	"sync"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
)

// KeptMessages is how many of a device's last messages Tracked keeps.
const KeptMessages = 8

// Tracked is a fleet's Source that keeps each device it hands the runtime,
// so a person can look at one device's state and last messages while the
// fleet runs (the Devices panel's detail, `simulate run --control`).
type Tracked struct {
	Source
	fleet *Fleet

	mu      sync.Mutex
	devices map[string]*trackedDevice
}

// Track wraps f's devices.
func Track(f *Fleet) *Tracked {
	return &Tracked{Source: f.Source(), fleet: f, devices: map[string]*trackedDevice{}}
}

// Device makes device i and keeps it.
func (t *Tracked) Device(i int) sim.Behaviour {
	d := &trackedDevice{Device: t.fleet.NewDevice(i), made: time.Now()}
	id, _ := d.Identity()
	t.mu.Lock()
	t.devices[id] = d
	t.mu.Unlock()
	return d
}

// Has says whether device id is one of this fleet's.
func (t *Tracked) Has(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.devices[id]
	return ok
}

// SentMessage is one message a device's streams produced; At is its
// offset from the device's creation.
type SentMessage struct {
	Topic   string
	Payload []byte
	At      time.Duration
}

// Detail is device id's state and its last messages, oldest first; ok is
// false for a device this fleet does not have.
func (t *Tracked) Detail(id string) (state map[string]any, last []SentMessage, ok bool) {
	t.mu.Lock()
	d := t.devices[id]
	t.mu.Unlock()
	if d == nil {
		return nil, nil, false
	}
	return d.State(), d.lastSent(), true
}

// trackedDevice records the last messages its streams produced. It keeps
// them as sent (Next runs for every message of the fleet) and copies them
// out only when someone asks for one device's detail.
type trackedDevice struct {
	*Device
	made time.Time

	mu   sync.Mutex
	last [KeptMessages]sentAt // a ring; next is where the next one goes
	next int
	n    int
}

type sentAt struct {
	topic   string
	payload []byte // the device's own, never changed after Next
	at      time.Time
}

func (d *trackedDevice) Next(i int, now time.Time) (message.Message, bool) {
	m, ok := d.Device.Next(i, now)
	if ok {
		d.mu.Lock()
		d.last[d.next] = sentAt{m.Topic, m.Payload, now}
		d.next = (d.next + 1) % KeptMessages
		d.n = min(d.n+1, KeptMessages)
		d.mu.Unlock()
	}
	return m, ok
}

func (d *trackedDevice) lastSent() []SentMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]SentMessage, 0, d.n)
	for k := range d.n {
		m := d.last[(d.next-d.n+k+KeptMessages)%KeptMessages]
		out = append(out, SentMessage{Topic: m.topic, Payload: m.payload, At: m.at.Sub(d.made)})
	}
	return out
}
