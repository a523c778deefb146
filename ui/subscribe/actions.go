package subscribe

import (
	"context"
	"sync"
	"time"
)

// actionTimeout bounds a subscribe or unsubscribe: the connection waits
// for the broker's answer within its own timeout, this is the backstop.
const actionTimeout = 30 * time.Second

// actions runs the calls the panel's buttons start (SUBSCRIBE and
// UNSUBSCRIBE wait for the broker, so never on the UI goroutine) under
// the panel's lifetime, and lets Wait wait for them.
type actions struct {
	mu      sync.Mutex
	life    context.Context // Run's context; nil before Run
	stopped bool
	wg      sync.WaitGroup
}

func (a *actions) start(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.life = ctx
}

// run starts fn in a goroutine with a context that ends with the panel or
// after actionTimeout. It reports false, starting nothing, once the panel
// is stopping.
func (a *actions) run(fn func(ctx context.Context)) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	life := a.life
	if life == nil {
		life = context.Background()
	}
	if a.stopped || life.Err() != nil {
		return false
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(life, actionTimeout)
		defer cancel()
		fn(ctx)
	}()
	return true
}

func (a *actions) wait() {
	a.mu.Lock()
	a.stopped = true
	a.mu.Unlock()
	a.wg.Wait()
}
