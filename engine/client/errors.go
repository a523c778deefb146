package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/eclipse/paho.golang/autopaho"
	mqtt3packets "github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/iotstudio/iotstudio/engine/client/transport"
)

// ErrorKind sorts connection failures by what a person can do about them.
type ErrorKind int

const (
	ErrOther ErrorKind = iota
	ErrDNS
	ErrRefused
	ErrTimeout
	ErrTLSUnknownAuthority
	ErrTLSNameMismatch
	ErrTLSExpired
	ErrTLSNotTLS
	ErrClientCertRequired
	ErrClientCertRejected
	ErrBadCredentials
	ErrNotAuthorized
	ErrClientIDRejected
	ErrServerUnavailable
	ErrBadProtocol
	ErrConnectionLost
	ErrWebSocket
	ErrNotMQTT   // the port answered with something that is not MQTT
	ErrNoConnack // the network connection was made, the CONNECT went unanswered
)

// ConnError is a failure to connect (or a lost connection) in words a
// person can act on: Error says what failed, where, and what to do.
type ConnError struct {
	Kind ErrorKind
	URL  string // where (never holds credentials)
	Msg  string
	Err  error
}

func (e *ConnError) Error() string { return e.URL + ": " + e.Msg }
func (e *ConnError) Unwrap() error { return e.Err }

// explain turns what a connection attempt returned into a ConnError. wc,
// when not nil, is the attempt's network connection: its first I/O error
// often names a TLS alert the MQTT library dropped, and its handshake
// says whether the broker asked for a client certificate. user is the
// profile's user name, for advice.
func explain(url string, err error, wc *watchConn, user string) *ConnError {
	var ce *ConnError
	if errors.As(err, &ce) {
		c := *ce
		c.URL = url
		return &c
	}
	e := classify(err, user)
	if wc != nil && e.Kind != ErrNotMQTT {
		if e2 := notMQTT(wc.received()); e2 != nil {
			e = e2
		}
	}
	vague := e.Kind == ErrOther || e.Kind == ErrConnectionLost
	if vague && wc != nil {
		if ioErr := wc.ioErr(); ioErr != nil {
			if e2 := classify(ioErr, user); e2.Kind != ErrOther && e2.Kind != ErrConnectionLost {
				e, vague = e2, false
			}
		}
	}
	// With TLS 1.3 a broker judges the client certificate after the
	// handshake has finished on the client's side and then hangs up; the
	// alert saying why is often lost with the reset. The handshake still
	// tells whether a certificate was asked for and whether one was sent.
	if vague && wc != nil && wc.hs != nil && wc.hs.requested.Load() {
		if wc.hs.sent.Load() {
			e = &ConnError{Kind: ErrClientCertRejected, Msg: "the broker asked for a client certificate and closed the connection after getting this one: it likely rejected the client certificate; use one signed by a CA the broker trusts, not expired"}
		} else {
			e = &ConnError{Kind: ErrClientCertRequired, Msg: "the broker requires a client certificate; set the connection's client certificate and key"}
		}
	}
	e.URL = url
	e.Err = err
	return e
}

// notMQTT words what a broker sent first when it is no MQTT packet a
// client can receive before its CONNACK, or returns nil.
func notMQTT(head []byte) *ConnError {
	if len(head) == 0 || head[0] == 0x20 || head[0] == 0xF0 { // CONNACK, AUTH
		return nil
	}
	what := "bytes that are not MQTT"
	if strings.HasPrefix(string(head), "HTTP") {
		what = "HTTP (for MQTT over WebSocket use a ws:// or wss:// URL with the broker's path, often /mqtt)"
	}
	return &ConnError{Kind: ErrNotMQTT, Msg: "this port does not speak MQTT: it answered with " + what + "; check the port number and the URL's scheme"}
}

// libraryPacketErrs are how the MQTT libraries say the peer sent a packet
// no MQTT broker sends there.
var libraryPacketErrs = []string{"unknown packet type", "unsupported packet type", "received unexpected packet", "malformed packet"}

func classify(err error, user string) *ConnError {
	var (
		dnsErr   *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		opErr    *net.OpError
		wsErr    *transport.HandshakeError
		netErr   net.Error
		connack5 *autopaho.ConnackError
	)
	k := func(kind ErrorKind, format string, a ...any) *ConnError {
		return &ConnError{Kind: kind, Msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case errors.As(err, &connack5):
		return connackError(connack5.ReasonCode, connack5.Reason, user)
	case errors.Is(err, mqtt3packets.ErrorRefusedBadUsernameOrPassword):
		return connackError(0x04, "", user)
	case errors.Is(err, mqtt3packets.ErrorRefusedNotAuthorised):
		return connackError(0x05, "", user)
	case errors.Is(err, mqtt3packets.ErrorRefusedIDRejected):
		return connackError(0x02, "", user)
	case errors.Is(err, mqtt3packets.ErrorRefusedServerUnavailable):
		return connackError(0x03, "", user)
	case errors.Is(err, mqtt3packets.ErrorRefusedBadProtocolVersion):
		return connackError(0x01, "", user)
	case errors.As(err, &dnsErr):
		return k(ErrDNS, "cannot find the host %q (%s); check the spelling of the host in the URL and your network", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return k(ErrRefused, "connection refused: nothing listens on that host and port; check the port and that the broker is running")
	case errors.As(err, &unknown):
		return k(ErrTLSUnknownAuthority, "the broker's TLS certificate (for %s) is signed by an authority this machine does not trust; set the connection's CA file to the CA certificate that signed it", certName(unknown.Cert))
	case errors.As(err, &hostErr):
		return k(ErrTLSNameMismatch, "the broker's TLS certificate is not valid for %q (it names %s); connect with a name the certificate lists, or set the TLS server name", hostErr.Host, certNames(hostErr.Certificate))
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return k(ErrTLSExpired, "the broker's TLS certificate (for %s) has expired or is not valid yet (valid %s to %s); renew it on the broker, or check this computer's clock",
			certName(invalid.Cert), invalid.Cert.NotBefore.UTC().Format("2006-01-02"), invalid.Cert.NotAfter.UTC().Format("2006-01-02"))
	case errors.As(err, &invalid):
		return k(ErrTLSUnknownAuthority, "the broker's TLS certificate is not valid: %v", invalid)
	case errors.As(err, &recErr), errors.Is(err, transport.ErrHandshakeClosed):
		return k(ErrTLSNotTLS, "the broker did not answer with TLS (it closed the connection during the TLS handshake); is this a plain mqtt:// or ws:// port?")
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		// A TLS alert from the broker. Go keeps the alert type private;
		// its text is the alert's name from RFC 8446.
		alert := strings.TrimPrefix(opErr.Err.Error(), "tls: ")
		switch alert {
		case "certificate required":
			return k(ErrClientCertRequired, "the broker requires a client certificate; set the connection's client certificate and key")
		case "bad certificate", "unknown certificate authority", "certificate unknown", "unsupported certificate", "certificate expired", "certificate revoked", "access denied":
			return k(ErrClientCertRejected, "the broker rejected the client certificate (TLS alert: %s); use a certificate signed by a CA the broker trusts, not expired", alert)
		case "no application protocol":
			return k(ErrOther, "the broker accepts none of the ALPN protocols this connection offered; set the ones it expects in the connection's TLS settings (AWS IoT Core on port 443: %s)", AWSALPN)
		}
		// Brokers behind a load balancer that routes by ALPN (AWS IoT Core
		// on 443) end the handshake with a generic alert when none is sent.
		return k(ErrOther, "the broker ended the TLS handshake (TLS alert: %s); if it expects an ALPN protocol (AWS IoT Core on port 443: %s), set it in the connection's TLS settings", alert, AWSALPN)
	case errors.As(err, &wsErr):
		return k(ErrWebSocket, "%v; check the URL's path (often /mqtt)", wsErr)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return k(ErrTimeout, "no answer in time; check the host, the port and any firewall in between")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed), errors.Is(err, syscall.EPIPE):
		return k(ErrConnectionLost, "the broker closed the connection; if this repeats, check that the port speaks MQTT (with TLS for mqtts://) and the broker's log")
	}
	for _, s := range libraryPacketErrs {
		if strings.Contains(err.Error(), s) {
			return notMQTT([]byte{0})
		}
	}
	return k(ErrOther, "%v", withoutURL(err))
}

// withoutURL drops autopaho's "failed to connect to URL: " from err: the
// ConnError names the URL already.
func withoutURL(err error) error {
	if inner := errors.Unwrap(err); inner != nil && strings.HasPrefix(err.Error(), "failed to connect to ") {
		return inner
	}
	return err
}

// connackError words a CONNACK refusal. MQTT 5 reason codes (0x80 and up)
// and MQTT 3.1.1 return codes (1 to 5) map to the same advice.
func connackError(code byte, reason, user string) *ConnError {
	why := ""
	if reason != "" {
		why = " (the broker says: " + reason + ")"
	}
	k := func(kind ErrorKind, format string, a ...any) *ConnError {
		return &ConnError{Kind: kind, Msg: fmt.Sprintf(format, a...) + why}
	}
	switch code {
	case 0x86, 0x04:
		if user == "" {
			return k(ErrBadCredentials, "the broker refused the connection: it wants a user name and password; enter them in the connection")
		}
		return k(ErrBadCredentials, "the broker refused user %q: bad user name or password; check both", user)
	case 0x87, 0x05:
		if user == "" {
			return k(ErrNotAuthorized, "the broker refused the connection: not authorized; it may want a user name and password or a client certificate")
		}
		// mosquitto, among others, answers a wrong password this way too.
		return k(ErrNotAuthorized, "the broker refused the connection: user %q is not authorized to connect; check the user name and password", user)
	case 0x85, 0x02:
		return k(ErrClientIDRejected, "the broker rejected the client ID; leave the client ID empty for a generated one, or use one the broker allows")
	case 0x88, 0x89, 0x03, 0x97, 0x9F:
		return k(ErrServerUnavailable, "the broker is unavailable or busy; IoT Studio keeps retrying")
	case 0x84, 0x01:
		return k(ErrBadProtocol, "the broker does not accept this MQTT version; switch the connection to the other protocol (MQTT 5 or 3.1.1)")
	case 0x8C:
		return k(ErrBadCredentials, "the broker refused the authentication method")
	case 0x8A:
		return k(ErrNotAuthorized, "the broker has banned this client")
	case 0x9D, 0x9C:
		return k(ErrServerUnavailable, "the broker sends clients to another server; connect to that server instead")
	}
	return k(ErrOther, "the broker refused the connection (reason code 0x%02x)", code)
}

func certName(c *x509.Certificate) string {
	if c == nil {
		return "an unknown name"
	}
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return certNames(c)
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "no names"
	}
	var names []string
	for _, n := range c.DNSNames {
		names = append(names, fmt.Sprintf("%q", n))
	}
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no host names"
	}
	return strings.Join(names, ", ")
}
