package client

import (
	"crypto/tls"
	"time"

	"github.com/iotstudio/iotstudio/engine/client/transport"
)

// The functions below let a client that is not a Connection (the device
// simulator, engine/sim/fleet, which runs thousands of lean clients)
// connect with a saved profile's settings and word its failures the way a
// Connection does, without copying this package's TLS and error code.

// TLSConfig is the TLS configuration p connects with: nil for mqtt:// and
// ws:// URLs.
func (p Profile) TLSConfig(creds Credentials) (*tls.Config, error) {
	t, err := transport.ParseURL(p.URL)
	if err != nil {
		return nil, err
	}
	if !t.TLS() {
		return nil, nil
	}
	return tlsConfig(p, t.Addr, creds)
}

// Password is the password p sends at a connect made at now (a fresh SAS
// token for Azure IoT Hub) and whether it sends one at all.
func (p Profile) Password(creds Credentials, now time.Time) (string, bool, error) {
	return password(p, creds, now)
}

// Explain words a failed connect to url (or a lost link) for people: the
// errors of transport.Dial, paho.golang's autopaho.ConnackError and
// paho.mqtt.golang's CONNACK errors. user is the user name sent, for advice.
func Explain(url string, err error, user string) *ConnError {
	return explain(url, err, nil, user)
}
