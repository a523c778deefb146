package testkit

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// MQTT311Only fronts an MQTT broker as one that speaks MQTT 3.1.1 only
// does: it refuses an MQTT 5 CONNECT without a CONNACK and passes every
// other connection through.
type MQTT311Only struct {
	Addr   string       // HOST:PORT to connect to
	V5Seen atomic.Int32 // MQTT 5 CONNECTs it refused

	refusal V5Refusal
	mu      sync.Mutex
	clients []net.Conn
}

// V5Refusal is how an MQTT 3.1.1-only broker answers an MQTT 5 CONNECT.
type V5Refusal int

const (
	HangUp     V5Refusal = iota // close the connection (RabbitMQ before 3.13)
	Ignore                      // say nothing and keep it open (a broker that never answers)
	Connack311                  // a 3.1.1 CONNACK refusing the protocol version, then close (ActiveMQ Classic)
)

// StartMQTT311Only listens on a free loopback port in front of backend
// (HOST:PORT) until the test ends, refusing MQTT 5 as refusal says.
func StartMQTT311Only(t testing.TB, backend string, refusal V5Refusal) *MQTT311Only {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &MQTT311Only{Addr: l.Addr().String(), refusal: refusal}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); f.Cut(); wg.Wait() })
	wg.Go(func() {
		for {
			front, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.clients = append(f.clients, front)
			f.mu.Unlock()
			wg.Go(func() {
				defer front.Close()
				f.serve(front, backend)
			})
		}
	})
	return f
}

// serve reads the CONNECT up to its protocol level (fixed header,
// remaining length, 00 04 "MQTT", level) and decides.
func (f *MQTT311Only) serve(front net.Conn, backend string) {
	head := make([]byte, 0, 12)
	b := make([]byte, 1)
	read := func() bool {
		if _, err := io.ReadFull(front, b); err != nil {
			return false
		}
		head = append(head, b[0])
		return true
	}
	if !read() {
		return
	}
	for { // remaining length: 1 to 4 bytes
		if !read() {
			return
		}
		if b[0]&0x80 == 0 {
			break
		}
	}
	for range 7 {
		if !read() {
			return
		}
	}
	if head[len(head)-1] >= 5 {
		f.V5Seen.Add(1)
		switch f.refusal {
		case Ignore: // until the client gives up or Cut
			_, _ = io.Copy(io.Discard, front)
		case Connack311:
			_, _ = front.Write([]byte{0x20, 0x02, 0x00, 0x01})
		}
		return
	}
	back, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer back.Close()
	if _, err := back.Write(head); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(back, front); done <- struct{}{} }()
	go func() { _, _ = io.Copy(front, back); done <- struct{}{} }()
	<-done
	front.Close()
	back.Close()
	<-done
}

// Cut drops every client connection, as a broker restart would.
func (f *MQTT311Only) Cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.clients {
		c.Close()
	}
	f.clients = nil
}
