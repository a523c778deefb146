package client

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"sync"
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

// watchConn records the first read or write error of its conn, and the
// first bytes the broker sent: whether they were an MQTT CONNACK tells a
// port that speaks something else from a broker that hung up.
type watchConn struct {
	net.Conn
	hs    *handshake // nil without TLS
	first atomic.Pointer[error]

	headFull atomic.Bool // head holds headLen bytes; no more locking
	mu       sync.Mutex
	head     []byte
}

// headLen covers a CONNACK's fixed header and flags, or "HTTP/".
const headLen = 5

func (w *watchConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	w.note(err)
	if n > 0 && !w.headFull.Load() {
		w.mu.Lock()
		w.head = append(w.head, p[:min(n, headLen-len(w.head))]...)
		w.headFull.Store(len(w.head) == headLen)
		w.mu.Unlock()
	}
	return n, err
}

// received returns the first bytes read (headLen at most).
func (w *watchConn) received() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.head)
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
