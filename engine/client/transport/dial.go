package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Dial opens the byte stream MQTT runs over for t: TCP, TLS, or a
// WebSocket (plain or TLS) with the "mqtt" subprotocol, within timeout.
// tlsConf is used for mqtts:// and wss://. Its errors are the network's,
// plus ErrHandshakeClosed and *HandshakeError, for callers to word.
func Dial(ctx context.Context, t Target, tlsConf *tls.Config, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	switch t.Scheme {
	case "mqtt":
		return d.DialContext(ctx, "tcp", t.Addr)
	case "mqtts":
		td := tls.Dialer{NetDialer: &d, Config: tlsConf}
		c, err := td.DialContext(ctx, "tcp", t.Addr) // tls.Conn's deadlines are its socket's
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return nil, fmt.Errorf("%w: %w", ErrHandshakeClosed, err)
		}
		if err != nil {
			return nil, err // not a nil *tls.Conn in an interface
		}
		return c, nil
	}
	wd := websocket.Dialer{
		NetDialContext:   d.DialContext,
		TLSClientConfig:  tlsConf,
		HandshakeTimeout: timeout,
		Subprotocols:     []string{"mqtt"},
	}
	ws, resp, err := wd.DialContext(ctx, t.String(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			return nil, &HandshakeError{Status: resp.Status}
		}
		return nil, err
	}
	return NewWSConn(ws), nil
}

// ErrHandshakeClosed: the server hung up during the TLS handshake, as a
// plain MQTT port does when it reads a TLS ClientHello.
var ErrHandshakeClosed = errors.New("connection closed during the TLS handshake")

// HandshakeError is a WebSocket upgrade the server answered with an HTTP
// status other than 101, often because of a wrong path.
type HandshakeError struct{ Status string }

func (e *HandshakeError) Error() string { return "WebSocket upgrade refused: HTTP " + e.Status }
