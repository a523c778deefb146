// Package brokertest starts the embedded broker for tests, the way
// net/http/httptest starts an HTTP server: on a free loopback port, with
// its state in memory and its log silent, stopped when the test ends. Only
// tests import it.
//
// The broker's own internal tests cannot import it (it imports the
// broker); they keep one local starter of the same shape.
package brokertest

import (
	"testing"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// Server is a running broker and the address of its MQTT listener.
type Server struct {
	*broker.Broker
	// Addr is the MQTT listener's HOST:PORT.
	Addr string
}

// Start runs a broker whose config is the default for tests (an MQTT
// listener on 127.0.0.1:0, no persistence, a data dir in t.TempDir(),
// testkit.Logger) as changed by mutate, in order. It stops when the test
// ends; a test that stops it earlier may, Stop is idempotent. A
// mutation that sets no MQTT listener leaves Addr empty.
func Start(t testing.TB, mutate ...func(*broker.Config)) *Server {
	t.Helper()
	cfg := broker.Config{
		MQTTAddr:      "127.0.0.1:0",
		DataDir:       t.TempDir(),
		NoPersistence: true,
		Logger:        testkit.Logger(),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	b, err := broker.New(cfg)
	if err != nil {
		t.Fatalf("brokertest: new broker: %v", err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("brokertest: start broker: %v", err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	s := &Server{Broker: b}
	if cfg.MQTTAddr != "" {
		s.Addr = s.Listener(t, "mqtt")
	}
	return s
}

// Listener is the HOST:PORT of the listener named name ("mqtt", "ws",
// "tls" as broker.State lists them); the test fails if there is none.
func (s *Server) Listener(t testing.TB, name string) string {
	t.Helper()
	st := s.State()
	for _, l := range st.Listeners {
		if l.Name == name {
			return l.Address
		}
	}
	t.Fatalf("brokertest: no %s listener in %+v", name, st.Listeners)
	return ""
}
