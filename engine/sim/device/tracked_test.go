package device

import (
	"strings"
	"testing"
	"time"
)

// A device's detail lists its last messages oldest first, at most
// KeptMessages of them, and its state as its handlers left it.
func TestTrackedKeepsEachDevicesLastMessagesInOrder(t *testing.T) {
	sc := compile(t, fleetOf(thermostat(), 2, 1), Options{Protocol: 5})
	tr := Track(sc.Fleets[0])
	b := tr.Device(1)
	id, _ := b.Identity()
	d := b.(*trackedDevice)
	for k := range 3 {
		d.Next(0, d.made.Add(time.Duration(k)*time.Second))
	}
	if _, got, _ := tr.Detail(id); len(got) != 3 || got[0].At != 0 || got[2].At != 2*time.Second {
		t.Fatalf("after 3: %+v", got)
	}
	for k := 3; k < 11; k++ {
		d.Next(0, d.made.Add(time.Duration(k)*time.Second))
	}
	state, got, ok := tr.Detail(id)
	if !ok || len(got) != KeptMessages || got[0].At != 3*time.Second || got[KeptMessages-1].At != 10*time.Second ||
		!strings.Contains(string(got[0].Payload), `"seq":3`) {
		t.Fatalf("after 11: %d kept, first at %s (%s), last at %s", len(got), got[0].At, got[0].Payload, got[len(got)-1].At)
	}
	if state["setpoint"] != 20.0 {
		t.Fatalf("state %v; want the initial setpoint 20", state)
	}
	if !tr.Has(id) || tr.Has("nobody") {
		t.Fatal("Has does not tell the fleet's devices from others")
	}
	if _, _, ok := tr.Detail("nobody"); ok {
		t.Fatal("Detail of an unknown device says ok")
	}
}
