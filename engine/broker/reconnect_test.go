package broker

import (
	"fmt"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// A client dropped by the broker and back at once with the same client ID
// (a clean session), or a second connection taking its ID over, keeps
// the subscription it makes on its new connection: the old connection's teardown must not remove it, or the
// client is connected, was granted its subscription, and receives
// nothing.
func TestReconnectAtOnceKeepsTheNewSubscription(t *testing.T) {
	b := startBroker(t, nil)
	addr := listenerAddr(t, b, "mqtt")
	pub := mustDialV5(t, addr, "publisher")
	const rounds = 200
	lost := 0
	for i := range rounds {
		id := fmt.Sprintf("dev-%d", i%3)
		first := mustDialV5(t, addr, id)
		first.sub(t, "r/"+id, 0)
		if i%2 == 0 { // kicked; else taken over while it is still open
			if err := b.Disconnect(id); err != nil {
				t.Fatal(err)
			}
		}
		again := mustDialV5(t, addr, id)
		again.sub(t, "r/"+id, 0)
		time.Sleep(5 * time.Millisecond) // the old connection's teardown, if it is late
		pub.pub(t, "r/"+id, fmt.Sprint(i), 0, false)
		select {
		case <-again.msgs:
		case <-time.After(2 * time.Second):
			lost++
		}
		_ = again.Disconnect(&paho.Disconnect{})
	}
	if lost > 0 {
		t.Fatalf("in %d of %d quick reconnects the new connection's subscription received nothing", lost, rounds)
	}
}
