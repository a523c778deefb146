package shell

import (
	"context"
	"sync"
)

// Actions runs the goroutines a panel's buttons start (calls that wait on
// the network or the disk, so never on the UI goroutine) until the panel's
// Serve ends and calls Stop. It owns their context, so that a panel keeps
// no context of its caller's: Stop cancels it and waits for them. The
// zero value is ready to use.
type Actions struct {
	mu      sync.Mutex
	ctx     context.Context // made by the first Go
	cancel  context.CancelFunc
	stopped bool
	wg      sync.WaitGroup
}

// Go starts fn on a goroutine with a context that ends at Stop. It
// reports false, starting nothing, once Stop was called.
func (a *Actions) Go(fn func(ctx context.Context)) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return false
	}
	if a.ctx == nil {
		a.ctx, a.cancel = context.WithCancel(context.Background())
	}
	ctx := a.ctx
	a.wg.Go(func() { fn(ctx) })
	return true
}

// Stop cancels the running actions, refuses new ones and waits for the
// running ones to return.
func (a *Actions) Stop() {
	a.mu.Lock()
	a.stopped = true
	if a.cancel != nil {
		a.cancel()
	}
	a.mu.Unlock()
	a.wg.Wait()
}
