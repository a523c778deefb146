package publish

import (
	"testing"

	"github.com/iotstudio/iotstudio/engine/client"
)

// The connection's state reads as in the Subscribe panel: "Connected",
// not "connected".
func TestConnectionStateIsCapitalised(t *testing.T) {
	for st, want := range map[client.State]string{
		client.StateConnected:    "Connected · MQTT 5",
		client.StateReconnecting: "Reconnecting · MQTT 5",
		client.StateDisconnected: "Disconnected · MQTT 5",
	} {
		if got := connStateText(client.Status{State: st, Protocol: client.MQTT5}); got != want {
			t.Errorf("%v reads %q, want %q", st, got, want)
		}
	}
}
