package broker

import (
	"testing"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A bridge tells what it published from what clients (and the window's
// own inline client) did by the client ID the tap reports, and its
// subscribers get the message with its properties.
func TestPublishFromCarriesItsClientIDAndProperties(t *testing.T) {
	rec := &recorded{}
	b := startBroker(t, func(c *Config) { c.Recorder = rec })
	sub := mustDialV5(t, listenerAddr(t, b, "mqtt"), "sub")
	sub.sub(t, "plant/#", 1)
	if err := b.Publish("plant/window", []byte("w"), false, 0); err != nil {
		t.Fatal(err)
	}
	err := b.PublishFrom("iotstudio-bridge/site1", message.Message{Topic: "plant/cmd", Payload: []byte("open"), QoS: 1,
		ContentType: "text/plain", UserProps: []message.UserProp{{Key: "from", Value: "site1"}}})
	if err != nil {
		t.Fatal(err)
	}
	recs := rec.wait(t, 2)
	if recs[0].ClientID == "iotstudio-bridge/site1" || recs[1].ClientID != "iotstudio-bridge/site1" {
		t.Fatalf("tap client IDs %q and %q; want the bridge's only on its own message", recs[0].ClientID, recs[1].ClientID)
	}
	sub.next(t) // the window's
	got := sub.next(t)
	if got.Topic != "plant/cmd" || string(got.Payload) != "open" || got.QoS != 1 || got.Properties == nil ||
		got.Properties.ContentType != "text/plain" || got.Properties.User.Get("from") != "site1" {
		t.Fatalf("subscriber got %+v", got)
	}
}
