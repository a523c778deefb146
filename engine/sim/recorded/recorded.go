// Package recorded feeds replay fields: it reads a topic's values from the
// capture (the window's store, or the one serve holds, through
// capture.Querier), oldest first and bounded, so a device can play back
// what a real one sent.
package recorded

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/sim/device"
)

// MaxValues bounds what one replay field holds in memory.
const MaxValues = 10_000

// queryTimeout bounds reading one topic's values at compile time.
const queryTimeout = 30 * time.Second

// Replay returns the function device.Options.Replay takes: the oldest
// MaxValues payloads captured on topic (a topic name, not a filter), as
// device.ReplayValues reads them.
// Each topic and path is read once, however many devices replay it.
func Replay(q capture.Querier) func(topic, path string) ([]any, error) {
	type key struct{ topic, path string }
	type result struct {
		values []any
		err    error
	}
	var mu sync.Mutex
	read := map[key]result{}
	return func(topic, path string) ([]any, error) {
		mu.Lock()
		defer mu.Unlock()
		k := key{topic, path}
		if r, ok := read[k]; ok {
			return r.values, r.err
		}
		values, err := values(q, topic, path)
		read[k] = result{values, err}
		return values, err
	}
}

func values(q capture.Querier, topic, path string) ([]any, error) {
	{
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		var payloads [][]byte
		query := capture.Query{Filter: topic, Limit: 1000}
		for len(payloads) < MaxValues {
			recs, next, err := q.Query(ctx, query)
			if err != nil {
				return nil, fmt.Errorf("replay %s from the capture: %w", topic, err)
			}
			for _, r := range recs {
				payloads = append(payloads, r.Payload)
			}
			if next == "" {
				break
			}
			query.Cursor = next
		}
		if len(payloads) == 0 {
			return nil, fmt.Errorf("replay %s: the capture holds no message on that topic; record some first, or pick another topic", topic)
		}
		return device.ReplayValues(payloads[:min(len(payloads), MaxValues)], path)
	}
}
