package window

import (
	"errors"
	"testing"

	"github.com/iotstudio/iotstudio/engine/broker"
)

// The first screen names the address a client on this machine dials, and
// why the broker does not run when it failed.
func TestWelcomeInfoFromTheBrokersState(t *testing.T) {
	for _, tc := range []struct {
		name            string
		st              broker.State
		running         bool
		mqtt, ws, probl string
	}{
		{"loopback", broker.State{Status: broker.Running, Listeners: []broker.Listener{
			{Name: "mqtt", Address: "127.0.0.1:1883"}, {Name: "ws", Address: "127.0.0.1:8083", URL: "ws://127.0.0.1:8083/mqtt"}}},
			true, "127.0.0.1:1883", "ws://127.0.0.1:8083/mqtt", ""},
		{"every interface", broker.State{Status: broker.Running, Listeners: []broker.Listener{{Name: "mqtt", Address: "0.0.0.0:1884"}}},
			true, "127.0.0.1:1884", "", ""},
		{"failed", broker.State{Status: broker.Stopped, Err: errors.New("Port 1883 is already in use by another program.")},
			false, "", "", "Port 1883 is already in use by another program."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := welcomeInfo(tc.st, "/data")
			if got.Running != tc.running || got.MQTT != tc.mqtt || got.WS != tc.ws || got.Problem != tc.probl || got.DataDir != "/data" {
				t.Fatalf("%+v", got)
			}
		})
	}
}
