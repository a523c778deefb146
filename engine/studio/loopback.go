package studio

import (
	"net"
	"strings"

	"github.com/iotstudio/iotstudio/engine/broker"
)

// LoopbackURL is the MQTT URL at which this process reaches the running
// broker: its MQTT (else WebSocket) listener, with an any-address host
// replaced by loopback; "" when the broker does not run.
func LoopbackURL(st broker.State) string {
	if st.Status != broker.Running {
		return ""
	}
	for _, name := range []string{"mqtt", "ws"} {
		for _, l := range st.Listeners {
			if l.Name != name {
				continue
			}
			host, port, err := net.SplitHostPort(l.Address)
			if err != nil {
				continue
			}
			if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
				host = "127.0.0.1"
				if ip != nil && ip.To4() == nil {
					host = "::1"
				}
			}
			if name == "ws" {
				return "ws://" + net.JoinHostPort(host, port) + broker.WSPath
			}
			return "mqtt://" + net.JoinHostPort(host, port)
		}
	}
	return ""
}

// LocalBrokerAddr is the embedded broker's MQTT listener as a loopback
// HOST:PORT, or "" when it is not running or has no MQTT listener.
func LocalBrokerAddr(st broker.State) string {
	u := LoopbackURL(st)
	if !strings.HasPrefix(u, "mqtt://") {
		return ""
	}
	return strings.TrimPrefix(u, "mqtt://")
}
