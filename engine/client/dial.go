package client

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/client/transport"
)

// dial opens the byte stream MQTT runs over for t: TCP, TLS, or a
// WebSocket (plain or TLS) with the "mqtt" subprotocol. The conn it returns
// remembers its first I/O error: with TLS 1.3 a broker refuses a client
// certificate only after the handshake, so the reason (an alert such as
// "certificate required") reaches the MQTT library as a failed read that
// it may not pass on.
func dial(ctx context.Context, t transport.Target, tlsConf *tls.Config, timeout time.Duration) (*watchConn, error) {
	var hs *handshake
	if tlsConf != nil {
		tlsConf, hs = watchHandshake(tlsConf)
	}
	c, err := transport.Dial(ctx, t, tlsConf, timeout)
	if err != nil {
		return nil, err
	}
	return &watchConn{Conn: c, hs: hs}, nil
}

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
