package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/iotstudio/iotstudio/engine/replay"
)

// dial opens the byte stream MQTT runs over for t: TCP, TLS, or a
// WebSocket (plain or TLS) with the "mqtt" subprotocol. The conn it returns
// remembers its first I/O error: with TLS 1.3 a broker refuses a client
// certificate only after the handshake, so the reason (an alert such as
// "certificate required") reaches the MQTT library as a failed read that
// it may not pass on.
func dial(ctx context.Context, t replay.Target, tlsConf *tls.Config, timeout time.Duration) (*watchConn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	var c net.Conn
	var err error
	var hs *handshake
	if tlsConf != nil {
		tlsConf, hs = watchHandshake(tlsConf)
	}
	switch t.Scheme {
	case "mqtt":
		c, err = d.DialContext(ctx, "tcp", t.Addr)
	case "mqtts":
		td := tls.Dialer{NetDialer: &d, Config: tlsConf}
		c, err = td.DialContext(ctx, "tcp", t.Addr)
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			err = fmt.Errorf("%w: %w", errHandshakeClosed, err)
		}
	default:
		wd := websocket.Dialer{
			NetDialContext:   d.DialContext,
			TLSClientConfig:  tlsConf,
			HandshakeTimeout: timeout,
			Subprotocols:     []string{"mqtt"},
		}
		var ws *websocket.Conn
		var resp *httpStatus
		ws, resp, err = dialWS(ctx, &wd, t)
		if err == nil {
			c = &wsConn{c: ws}
		} else if resp != nil {
			err = &wsHandshakeError{status: resp.status}
		}
	}
	if err != nil {
		return nil, err
	}
	return &watchConn{Conn: c, hs: hs}, nil
}

// errHandshakeClosed: the server hung up during the TLS handshake, as a
// plain MQTT port does when it reads a TLS ClientHello.
var errHandshakeClosed = errors.New("connection closed during the TLS handshake")

// handshake records whether the broker asked for a client certificate and
// whether one was sent.
type handshake struct {
	requested, sent atomic.Bool
}

// watchHandshake returns a copy of conf that records into a new handshake.
func watchHandshake(conf *tls.Config) (*tls.Config, *handshake) {
	conf = conf.Clone()
	hs := &handshake{}
	certs := conf.Certificates
	conf.Certificates = nil
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		hs.requested.Store(true)
		if len(certs) == 0 {
			return &tls.Certificate{}, nil // none: the broker decides
		}
		hs.sent.Store(true)
		return &certs[0], nil
	}
	return conf, hs
}

type httpStatus struct{ status string }

func dialWS(ctx context.Context, wd *websocket.Dialer, t replay.Target) (*websocket.Conn, *httpStatus, error) {
	ws, resp, err := wd.DialContext(ctx, t.Scheme+"://"+t.Addr+t.Path, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil && errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
		return nil, &httpStatus{status: resp.Status}, err
	}
	return ws, nil, err
}

type wsHandshakeError struct{ status string }

func (e *wsHandshakeError) Error() string { return "WebSocket upgrade refused: HTTP " + e.status }

// watchConn records the first read or write error of its conn.
type watchConn struct {
	net.Conn
	hs    *handshake // nil without TLS
	first atomic.Pointer[error]
}

func (w *watchConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	w.note(err)
	return n, err
}

func (w *watchConn) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	w.note(err)
	return n, err
}

func (w *watchConn) note(err error) {
	if err != nil && !errors.Is(err, net.ErrClosed) {
		w.first.CompareAndSwap(nil, &err)
	}
}

// ioErr is the first I/O error seen, or nil.
func (w *watchConn) ioErr() error {
	if p := w.first.Load(); p != nil {
		return *p
	}
	return nil
}

// wsConn presents a WebSocket as the byte stream MQTT libraries read and
// write: each Write is one binary message; reads run across message
// boundaries, since MQTT packets may span or share messages.
type wsConn struct {
	c   *websocket.Conn
	r   io.Reader
	wmu sync.Mutex
}

var errTextFrame = errors.New("websocket: MQTT needs binary messages, got a text message")

func (ws *wsConn) Read(p []byte) (int, error) {
	for {
		if ws.r == nil {
			op, r, err := ws.c.NextReader()
			if err != nil {
				return 0, err
			}
			if op != websocket.BinaryMessage {
				return 0, errTextFrame
			}
			ws.r = r
		}
		n, err := ws.r.Read(p)
		if errors.Is(err, io.EOF) {
			ws.r = nil
			if n == 0 {
				continue
			}
			return n, nil
		}
		return n, err
	}
}

// Write is safe for concurrent use (gorilla allows one writer at a time).
func (ws *wsConn) Write(p []byte) (int, error) {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	if err := ws.c.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (ws *wsConn) Close() error                       { return ws.c.Close() }
func (ws *wsConn) LocalAddr() net.Addr                { return ws.c.LocalAddr() }
func (ws *wsConn) RemoteAddr() net.Addr               { return ws.c.RemoteAddr() }
func (ws *wsConn) SetReadDeadline(t time.Time) error  { return ws.c.SetReadDeadline(t) }
func (ws *wsConn) SetWriteDeadline(t time.Time) error { return ws.c.SetWriteDeadline(t) }
func (ws *wsConn) SetDeadline(t time.Time) error {
	return errors.Join(ws.c.SetReadDeadline(t), ws.c.SetWriteDeadline(t))
}
