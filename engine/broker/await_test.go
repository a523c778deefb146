package broker

import (
	"context"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// AwaitGone waits while any of the named clients is connected and
// returns once each has disconnected; others do not matter.
func TestAwaitGoneWaitsForTheNamedClients(t *testing.T) {
	b := startBroker(t, nil)
	addr := listenerAddr(t, b, "mqtt")
	dev := mustDialV5(t, addr, "dev-1")
	mustDialV5(t, addr, "bystander")

	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if b.AwaitGone(short, []string{"dev-1", "dev-2"}) {
		t.Fatal("AwaitGone returned true while dev-1 was connected")
	}
	if err := dev.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if !b.AwaitGone(ctx, []string{"dev-1", "dev-2"}) {
		t.Fatal("AwaitGone did not see dev-1's DISCONNECT within 5 s")
	}
}
