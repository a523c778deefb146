package uitest

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Serve runs a panel's Serve(ctx) error on its own goroutine, like
// testkit.Serve, for panels whose updates go through q: stop cancels its
// context and applies queued updates until Serve returns (a tick blocked
// on the queue would otherwise never end), then returns Serve's error.
// It fails the test if Serve outlives Timeout; the test's cleanup stops
// it too.
func (q Queue) Serve(t testing.TB, serve func(context.Context) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			deadline := time.After(Timeout)
			for {
				select {
				case fn := <-q:
					fn()
					continue
				case err = <-done:
				case <-deadline:
					t.Error("Serve still running after its context was cancelled")
				}
				return
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}
