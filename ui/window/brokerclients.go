package window

import (
	"net"
	"net/url"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/ui/localname"
)

// ownConnections names the app's own connections among the embedded
// broker's clients, by client ID, for the Broker panel's table (where they
// would otherwise be anonymous iotstudio-… IDs): the Local broker
// connection, and any other one pointed at one of the broker's listeners.
func ownConnections(conns *client.Manager, b *broker.Broker) func() map[string]string {
	return func() map[string]string {
		ls := b.State().Listeners
		var out map[string]string
		for _, st := range conns.Snapshot() {
			if st.ClientID == "" || !reachesListener(st.URL, ls) {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			out[st.ClientID] = localname.Label(st.Name)
		}
		return out
	}
}

// reachesListener reports whether a connection's URL is one of the
// broker's listeners on this machine: a loopback host (or the listener's
// own) and the listener's port.
func reachesListener(rawURL string, ls []broker.Listener) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host, port := u.Hostname(), u.Port()
	ip := net.ParseIP(host)
	loopback := host == "localhost" || ip != nil && ip.IsLoopback()
	for _, l := range ls {
		lhost, lport, err := net.SplitHostPort(l.Address)
		if err == nil && lport == port && (loopback || lhost == host) {
			return true
		}
	}
	return false
}
