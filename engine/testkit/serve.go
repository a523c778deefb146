package testkit

import (
	"context"
	"sync"
	"testing"
)

// Serve runs a service shaped Serve(ctx) error on its own goroutine until
// stop is called or the test ends; stop cancels its context, waits for it
// to return and returns its error (the same error on every call).
func Serve(t testing.TB, serve func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}
