package transport

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// WSConn presents a WebSocket as the byte stream MQTT is read from and
// written to, on either side (the broker's listener, the clients' dialers):
// each Write is one binary message, and reads run across message
// boundaries, since MQTT packets may span or share messages.
type WSConn struct {
	c *websocket.Conn

	r       io.Reader // the message being read
	readErr error     // sticky: gorilla panics after many reads on a failed conn

	// gorilla allows one writer at a time; MQTT libraries write from
	// several goroutines (pings, acks, publishes).
	wmu           sync.Mutex
	writeDeadline atomic.Pointer[time.Time]
}

// NewWSConn wraps an upgraded or dialled WebSocket. Closing the WSConn
// closes c.
func NewWSConn(c *websocket.Conn) *WSConn { return &WSConn{c: c} }

// errTextMessage: MQTT over WebSocket is binary only (MQTT 5 §6.0.0), and
// a text message means the peer is not speaking MQTT.
var errTextMessage = errors.New("websocket: MQTT needs binary messages, got a text message")

// Read is not safe for concurrent use, like any stream read. After an
// error every later Read returns the same error: the stream position is
// lost, and gorilla panics on repeated reads of a failed connection.
func (ws *WSConn) Read(p []byte) (int, error) {
	if ws.readErr != nil {
		return 0, ws.readErr
	}
	for {
		if ws.r == nil {
			op, r, err := ws.c.NextReader()
			if err != nil {
				ws.readErr = err
				return 0, err
			}
			if op != websocket.BinaryMessage {
				ws.readErr = errTextMessage
				return 0, errTextMessage
			}
			ws.r = r
		}
		n, err := ws.r.Read(p)
		if errors.Is(err, io.EOF) {
			ws.r = nil
			if n == 0 {
				continue // an empty message carries no bytes
			}
			return n, nil
		}
		if err != nil {
			ws.readErr = err
		}
		return n, err
	}
}

// Write sends p as one binary message. It is safe for concurrent use.
func (ws *WSConn) Write(p []byte) (int, error) {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	// gorilla sets the socket's write deadline to its own before every
	// frame; give it ours here, under the write lock, since its setter is
	// not safe to call while a frame is being written.
	var d time.Time
	if t := ws.writeDeadline.Load(); t != nil {
		d = *t
	}
	_ = ws.c.SetWriteDeadline(d)
	if err := ws.c.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the network connection without a WebSocket close
// handshake: MQTT's DISCONNECT has said goodbye already, or the peer is
// being dropped.
func (ws *WSConn) Close() error { return ws.c.Close() }

func (ws *WSConn) LocalAddr() net.Addr  { return ws.c.LocalAddr() }
func (ws *WSConn) RemoteAddr() net.Addr { return ws.c.RemoteAddr() }

func (ws *WSConn) SetReadDeadline(t time.Time) error { return ws.c.SetReadDeadline(t) }

// SetWriteDeadline bounds the frames written from now on and also a frame
// blocked right now (a peer that stopped reading), which gorilla's own
// deadline, applied only when a frame starts, would not reach. It may be
// called while another goroutine writes. (A frame whose write starts at
// the very moment of the call may still get the old deadline, as gorilla
// sets the socket's deadline itself when a frame starts; the frames after
// it get the new one.)
func (ws *WSConn) SetWriteDeadline(t time.Time) error {
	ws.writeDeadline.Store(&t)
	return ws.c.UnderlyingConn().SetWriteDeadline(t)
}

func (ws *WSConn) SetDeadline(t time.Time) error {
	return errors.Join(ws.SetReadDeadline(t), ws.SetWriteDeadline(t))
}
