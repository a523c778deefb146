package broker

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsConn presents a WebSocket as the byte stream mochi reads MQTT from; MQTT
// packets may span or share binary frames, so frames are read as a stream.
type wsConn struct {
	net.Conn
	c *websocket.Conn
	r io.Reader
	// gorilla allows one writer at a time; MQTT clients write from several
	// goroutines (pings, acks, publishes).
	wmu sync.Mutex
}

var errTextFrame = errors.New("websocket: MQTT needs binary frames, got a text frame")

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

func (ws *wsConn) Write(p []byte) (int, error) {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	if err := ws.c.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (ws *wsConn) Close() error { return ws.c.Close() }

// SetWriteDeadline goes to gorilla, which otherwise resets the socket's write
// deadline on every frame it writes.
func (ws *wsConn) SetWriteDeadline(t time.Time) error { return ws.c.SetWriteDeadline(t) }
