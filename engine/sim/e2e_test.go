package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/builtin"
	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// recorder is the broker's tap: every message it accepted, in order.
type recorder struct {
	mu   sync.Mutex
	msgs []message.Message
}

func (r *recorder) Ingest(m message.Message) bool {
	m.Payload = append([]byte(nil), m.Payload...)
	m.CorrelationData = append([]byte(nil), m.CorrelationData...)
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	return true
}

func (r *recorder) find(f func(message.Message) bool) []message.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []message.Message
	for _, m := range r.msgs {
		if f(m) {
			out = append(out, m)
		}
	}
	return out
}

func (r *recorder) last(topic string) (message.Message, bool) {
	all := r.find(func(m message.Message) bool { return m.Topic == topic })
	if len(all) == 0 {
		return message.Message{}, false
	}
	return all[len(all)-1], true
}

// thermostats compiles the built-in thermostat profile as a fleet of n.
func thermostats(t *testing.T, n int) *device.Fleet {
	t.Helper()
	e, err := builtin.Lookup("thermostat")
	if err != nil {
		t.Fatal(err)
	}
	s, err := builtin.Compile("builtin:thermostat", e.YAML, device.Options{Protocol: 5})
	if err != nil {
		t.Fatal(err)
	}
	return s.Fleets[0].WithCount(n)
}

// commander is an MQTT 5 client sending a command with a response topic
// and correlation data, as a backend would.
func commander(t *testing.T, addr string) *paho.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "backend", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return c
}

// A thermostat, run as a real client of the embedded broker, obeys a
// setpoint command end to end: it answers on the command's response topic
// with its correlation data, its next telemetry carries the new setpoint,
// killing another device makes the broker publish that device's will, and
// a graceful stop leaves every device's retained status "offline".
func TestThermostatFleetThroughTheBroker(t *testing.T) {
	rec := &recorder{}
	srv := brokertest.Start(t, func(c *broker.Config) { c.Recorder = rec })
	runner := fleet.New(thermostats(t, 3).Source(), fleet.Target{URL: "mqtt://" + srv.Addr, Protocol: 5}, fleet.Options{Seed: 1, Logger: testkit.Logger()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	testkit.Eventually(t, "3 thermostats online", func() bool { return runner.Stats().Connected == 3 })
	testkit.Eventually(t, "thermostat-0's first telemetry", func() bool {
		_, ok := rec.last("home/thermostat-0/thermostat")
		return ok
	})

	backend := commander(t, srv.Addr)
	pctx, pcancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer pcancel()
	if _, err := backend.Publish(pctx, &paho.Publish{
		Topic: "home/thermostat-0/thermostat/set", QoS: 1, Payload: []byte(`{"setpoint": 24.5}`),
		Properties: &paho.PublishProperties{ResponseTopic: "backend/replies/42", CorrelationData: []byte("req-42")},
	}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the reply on the response topic", func() bool {
		_, ok := rec.last("backend/replies/42")
		return ok
	})
	reply, _ := rec.last("backend/replies/42")
	if reply.ClientID != "thermostat-0" || string(reply.CorrelationData) != "req-42" || !strings.Contains(string(reply.Payload), `"setpoint":24.5`) {
		t.Fatalf("reply from %s, correlation %q, payload %s; want thermostat-0, req-42 and the new setpoint", reply.ClientID, reply.CorrelationData, reply.Payload)
	}
	commandedAt := time.Now()
	testkit.Eventually(t, "telemetry after the command shows setpoint 24.5", func() bool {
		m, ok := rec.last("home/thermostat-0/thermostat")
		if !ok || m.Time.Before(commandedAt) {
			return false
		}
		var v struct{ Setpoint float64 }
		return json.Unmarshal(m.Payload, &v) == nil && v.Setpoint == 24.5
	})

	if err := runner.Kill("thermostat-1"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "thermostat-1's will (offline) published by the broker", func() bool {
		m, ok := rec.last("home/thermostat-1/status")
		return ok && string(m.Payload) == "offline"
	})
	testkit.Eventually(t, "thermostat-1 back online after its back-off", func() bool {
		m, ok := rec.last("home/thermostat-1/status")
		return ok && string(m.Payload) == "online"
	})

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	done <- nil // for the deferred wait
	// The broker acknowledged each offline before Run returned; the tap
	// hands messages to the recorder on its own goroutine, a moment later.
	for _, id := range []string{"thermostat-0", "thermostat-1", "thermostat-2"} {
		testkit.WithinErr(t, testkit.Timeout, id+"'s retained offline after a graceful stop", func() error {
			m, ok := rec.last("home/" + id + "/status")
			if !ok || string(m.Payload) != "offline" || !m.Retain {
				return fmt.Errorf("last status %q (retain %v)", m.Payload, m.Retain)
			}
			return nil
		})
	}
}
