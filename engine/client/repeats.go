package client

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"github.com/iotstudio/iotstudio/engine/message"
)

// RepeatFilter is a Sink in front of what records a connection's traffic
// (the capture, the topic model). A broker sends a topic's retained
// message again each time a subscription is made, so every reconnect of a
// connection subscribed to # would record the whole retained set again,
// though nobody published it. RepeatFilter drops a retained delivery whose
// content equals the last message this connection handed on for the topic
// (the last retained delivery, or the last live message: one published
// with retain reaches existing subscribers without the flag). What is new
// or changed passes. Sinks that show a subscription's answer as it comes
// (the Subscribe panel) belong beside it, not behind it.
type RepeatFilter struct {
	next message.Sink
	seed maphash.Seed

	mu   sync.Mutex
	last map[repeatKey]lastSeen
}

type repeatKey struct{ source, topic string }

type lastSeen struct{ retained, live uint64 }

// repeatTopicsMax bounds the memory: beyond this many topics, new ones
// are not remembered and their repeats pass (recorded twice, as before).
const repeatTopicsMax = 200_000

// NewRepeatFilter hands what passes to next.
func NewRepeatFilter(next message.Sink) *RepeatFilter {
	return &RepeatFilter{next: next, seed: maphash.MakeSeed(), last: map[repeatKey]lastSeen{}}
}

// Ingest implements message.Sink; a dropped repeat counts as taken.
func (f *RepeatFilter) Ingest(m message.Message) bool {
	key, sum := repeatKey{m.Source, m.Topic}, f.sum(m)
	f.mu.Lock()
	seen, known := f.last[key]
	if known && m.Retain && (sum == seen.retained || sum == seen.live) {
		f.mu.Unlock()
		return true
	}
	if known || len(f.last) < repeatTopicsMax {
		if m.Retain {
			seen.retained = sum
		} else {
			seen.live = sum
		}
		f.last[key] = seen
	}
	f.mu.Unlock()
	return f.next.Ingest(m)
}

// sum fingerprints what a subscriber receives of m besides its flags.
func (f *RepeatFilter) sum(m message.Message) uint64 {
	var h maphash.Hash
	h.SetSeed(f.seed)
	field := func(b []byte) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field(m.Payload)
	field([]byte(m.ContentType))
	field([]byte(m.ResponseTopic))
	field(m.CorrelationData)
	if m.PayloadFormat != nil {
		field([]byte{*m.PayloadFormat})
	}
	for _, u := range m.UserProps {
		field([]byte(u.Key))
		field([]byte(u.Value))
	}
	return h.Sum64()
}
