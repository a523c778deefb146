package broker

import (
	"context"
	"time"
)

// AwaitGone waits until none of the clients with the given IDs is
// connected, polling, and reports whether that happened before ctx ended.
// A fleet of devices that stopped gracefully has sent its DISCONNECTs,
// but a broker stopped before reading them closes those connections as
// lost and publishes the devices' wills: a second "offline" after the
// graceful one, which a graceful stop promises not to cause. Whoever
// stops both waits here in between.
func (b *Broker) AwaitGone(ctx context.Context, clientIDs []string) bool {
	pending := clientIDs
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		srv := b.server()
		if srv == nil {
			return true // stopped: no one is connected
		}
		still := pending[:0:0]
		for _, id := range pending {
			if cl, ok := srv.Clients.Get(id); ok && !cl.Closed() {
				still = append(still, id)
			}
		}
		if pending = still; len(pending) == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}
