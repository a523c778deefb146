package replay

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsConn presents a WebSocket as the byte stream paho reads and writes:
// each Write is one binary message, and reads run across message
// boundaries, since MQTT packets may span or share messages.
type wsConn struct {
	c   *websocket.Conn
	r   io.Reader // the message being read
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
