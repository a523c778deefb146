package subscribe

import (
	"context"
	"time"

	"github.com/iotstudio/iotstudio/ui/shell"
)

// actionTimeout bounds a subscribe or unsubscribe: the connection waits
// for the broker's answer within its own timeout, this is the backstop.
const actionTimeout = 30 * time.Second

// actions runs the calls the panel's buttons start (SUBSCRIBE and
// UNSUBSCRIBE wait for the broker, so never on the UI goroutine) until
// Serve ends and stops them.
type actions struct{ shell.Actions }

// run starts fn in a goroutine with a context that ends with the panel or
// after actionTimeout. It reports false, starting nothing, once the panel
// is stopping.
func (a *actions) run(fn func(ctx context.Context)) bool {
	return a.Go(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, actionTimeout)
		defer cancel()
		fn(ctx)
	})
}
