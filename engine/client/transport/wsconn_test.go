package transport

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const testTimeout = 10 * time.Second

// wsPair connects a WSConn (the listening side, as the broker uses it) to
// a plain gorilla peer that plays the other end byte by byte.
func wsPair(t *testing.T) (*WSConn, *websocket.Conn) {
	t.Helper()
	conns := make(chan *websocket.Conn, 1)
	done := make(chan struct{})
	up := websocket.Upgrader{Subprotocols: []string{"mqtt"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conns <- c
		<-done // the handler owns nothing after this; the test closes c
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	d := websocket.Dialer{Subprotocols: []string{"mqtt"}, HandshakeTimeout: testTimeout}
	peer, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/mqtt", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	select {
	case c := <-conns:
		ws := NewWSConn(c)
		t.Cleanup(func() { ws.Close() })
		return ws, peer
	case <-time.After(testTimeout):
		t.Fatal("no upgrade")
		return nil, nil
	}
}

func send(t *testing.T, peer *websocket.Conn, op int, data string) {
	t.Helper()
	if err := peer.WriteMessage(op, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

// readN reads exactly n bytes in reads of at most chunk bytes.
func readN(t *testing.T, ws *WSConn, n, chunk int) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(testTimeout))
	var out bytes.Buffer
	buf := make([]byte, chunk)
	for out.Len() < n {
		k, err := ws.Read(buf[:min(chunk, n-out.Len())])
		if err != nil {
			t.Fatalf("read after %q: %v", out.String(), err)
		}
		out.Write(buf[:k])
	}
	return out.String()
}

func TestWSConn(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, ws *WSConn, peer *websocket.Conn)
	}{
		{"reads run across messages in small pieces", func(t *testing.T, ws *WSConn, peer *websocket.Conn) {
			// An MQTT packet may span messages, and one message may hold
			// the end of one packet and the start of the next.
			for _, m := range []string{"ab", "", "cdefg", "h"} {
				send(t, peer, websocket.BinaryMessage, m)
			}
			if got := readN(t, ws, 8, 3); got != "abcdefgh" {
				t.Fatalf("read %q; want abcdefgh", got)
			}
		}},
		{"a read never returns bytes of two messages at once", func(t *testing.T, ws *WSConn, peer *websocket.Conn) {
			send(t, peer, websocket.BinaryMessage, "ab")
			send(t, peer, websocket.BinaryMessage, "cd")
			buf := make([]byte, 10)
			n, err := ws.Read(buf)
			if err != nil || string(buf[:n]) != "ab" {
				t.Fatalf("Read = %q, %v; want ab", buf[:n], err)
			}
		}},
		{"a text message fails the stream for good", func(t *testing.T, ws *WSConn, peer *websocket.Conn) {
			send(t, peer, websocket.TextMessage, "hello")
			send(t, peer, websocket.BinaryMessage, "after")
			buf := make([]byte, 10)
			for i := range 2 { // the binary message after it must not be read as the stream's next bytes
				if n, err := ws.Read(buf); !errors.Is(err, errTextMessage) {
					t.Fatalf("read %d = %q, %v; want the text-message error", i, buf[:n], err)
				}
			}
		}},
		{"each write is one binary message, also when writes race", func(t *testing.T, ws *WSConn, peer *websocket.Conn) {
			const writers, each = 4, 25
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					msg := bytes.Repeat([]byte{byte('a' + w)}, 1000)
					for range each {
						if n, err := ws.Write(msg); err != nil || n != len(msg) {
							t.Errorf("Write = %d, %v", n, err)
							return
						}
					}
				}()
			}
			_ = peer.SetReadDeadline(time.Now().Add(testTimeout))
			for i := range writers * each {
				op, m, err := peer.ReadMessage()
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if op != websocket.BinaryMessage || len(m) != 1000 || len(bytes.Trim(m, string(m[:1]))) != 0 {
					t.Fatalf("message %d: type %d, %d bytes, mixed %v", i, op, len(m), len(bytes.Trim(m, string(m[:1]))) != 0)
				}
			}
			wg.Wait()
		}},
		{"pings are answered while reading", func(t *testing.T, ws *WSConn, peer *websocket.Conn) {
			ponged := make(chan struct{})
			peer.SetPongHandler(func(string) error { close(ponged); return nil })
			if err := peer.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(testTimeout)); err != nil {
				t.Fatal(err)
			}
			send(t, peer, websocket.BinaryMessage, "x")
			if got := readN(t, ws, 1, 1); got != "x" {
				t.Fatalf("read %q after a ping; want x", got)
			}
			go func() { _, _, _ = peer.NextReader() }() // the pong handler runs in the peer's reads
			select {
			case <-ponged:
			case <-time.After(testTimeout):
				t.Fatal("no pong")
			}
		}},
		{"the peer's close ends reads for good without a panic", func(t *testing.T, ws *WSConn, peer *websocket.Conn) {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
			if err := peer.WriteControl(websocket.CloseMessage, msg, time.Now().Add(testTimeout)); err != nil {
				t.Fatal(err)
			}
			// MQTT libraries may read again after an error; gorilla panics
			// on the 1000th read of a failed connection.
			for i := range 1100 {
				var ce *websocket.CloseError
				if _, err := ws.Read(make([]byte, 4)); !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
					t.Fatalf("read %d: %v; want the normal close", i, err)
				}
			}
		}},
		{"close ends the conn on both sides", func(t *testing.T, ws *WSConn, peer *websocket.Conn) {
			if err := ws.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := ws.Write([]byte("x")); err == nil {
				t.Error("Write after Close succeeded")
			}
			if _, err := ws.Read(make([]byte, 1)); err == nil {
				t.Error("Read after Close succeeded")
			}
			_ = peer.SetReadDeadline(time.Now().Add(testTimeout))
			if _, _, err := peer.ReadMessage(); err == nil || isTimeout(err) {
				t.Errorf("peer read after Close: %v; want the connection ended", err)
			}
		}},
		{"a read deadline times out a waiting read", func(t *testing.T, ws *WSConn, _ *websocket.Conn) {
			_ = ws.SetDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := ws.Read(make([]byte, 1)); !isTimeout(err) {
				t.Fatalf("Read = %v; want a timeout", err)
			}
		}},
		{"a past write deadline fails the next write", func(t *testing.T, ws *WSConn, _ *websocket.Conn) {
			_ = ws.SetWriteDeadline(time.Now().Add(-time.Second))
			if _, err := ws.Write([]byte("x")); !isTimeout(err) {
				t.Fatalf("Write = %v; want a timeout", err)
			}
		}},
		{"a write deadline set while a write is blocked frees it", func(t *testing.T, ws *WSConn, _ *websocket.Conn) {
			// The peer reads nothing: once the socket buffers are full the
			// write blocks, as mochi's does for a subscriber that stopped
			// reading, until the broker bounds it from another goroutine.
			done := make(chan error, 1)
			go func() {
				msg := make([]byte, 256<<10)
				for range 4096 { // at most 1 GB
					if _, err := ws.Write(msg); err != nil {
						done <- err
						return
					}
				}
				done <- errors.New("1 GB written to a peer that reads nothing")
			}()
			select {
			case err := <-done:
				t.Fatalf("write ended before the deadline: %v", err)
			case <-time.After(300 * time.Millisecond):
			}
			_ = ws.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			select {
			case err := <-done:
				if !isTimeout(err) {
					t.Fatalf("Write = %v; want a timeout", err)
				}
			case <-time.After(testTimeout):
				t.Fatal("the blocked write ignored the deadline")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, peer := wsPair(t)
			tc.run(t, ws, peer)
		})
	}
}

// A WSConn is what mochi and the MQTT libraries are given.
var _ net.Conn = (*WSConn)(nil)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
