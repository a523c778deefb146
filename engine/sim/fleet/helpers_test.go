package fleet

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// counter is a test device: a retained status topic with a will, a stream
// whose payload counts up, and a command handler that replies (to the MQTT
// 5 response topic with its correlation data, else to test/ID/reply),
// and on "nap" goes offline, on "later" replies after a delay.
type counter struct {
	id    string
	every time.Duration
	conf  sim.Connect

	mu sync.Mutex
	n  int
}

func (c *counter) Identity() (string, string) { return c.id, "sim-" + c.id }
func (c *counter) Connect() sim.Connect {
	conf := c.conf
	conf.CleanStart = true
	conf.Will = &message.Message{Topic: "status/" + c.id, Payload: []byte("lost"), QoS: 1, Retain: true}
	return conf
}
func (c *counter) Online(time.Time) []message.Message {
	return []message.Message{{Topic: "status/" + c.id, Payload: []byte("online"), QoS: 1, Retain: true}}
}
func (c *counter) Offline(time.Time) []message.Message {
	return []message.Message{{Topic: "status/" + c.id, Payload: []byte("offline"), QoS: 1, Retain: true}}
}
func (c *counter) Subscriptions() []sim.Subscription {
	return []sim.Subscription{{Filter: "test/" + c.id + "/cmd", QoS: 1}}
}
func (c *counter) Streams() []sim.Stream {
	return []sim.Stream{{Name: "count", Every: c.every}}
}
func (c *counter) Next(_ int, _ time.Time) (message.Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return message.Message{Topic: "data/" + c.id, Payload: []byte(strconv.Itoa(c.n))}, true
}
func (c *counter) Handle(cmd message.Message, _ time.Time) []sim.Effect {
	reply := &message.Message{Topic: "test/" + c.id + "/reply", Payload: []byte("ok:" + string(cmd.Payload))}
	if cmd.ResponseTopic != "" {
		reply.Topic, reply.CorrelationData = cmd.ResponseTopic, cmd.CorrelationData
	}
	switch string(cmd.Payload) {
	case "nap":
		return []sim.Effect{{Publish: reply}, {Offline: 200 * time.Millisecond}}
	case "later":
		return []sim.Effect{{Delay: 100 * time.Millisecond}, {Publish: reply}}
	}
	return []sim.Effect{{Publish: reply}}
}

// fleetOf is a Devices of n counters.
type fleetOf struct {
	n     int
	every time.Duration
	conf  sim.Connect
	ramp  scenario.Ramp
}

func (f fleetOf) Name() string        { return "test" }
func (f fleetOf) Len() int            { return f.n }
func (f fleetOf) Ramp() scenario.Ramp { return f.ramp }
func (f fleetOf) Device(i int) sim.Behaviour {
	return &counter{id: fmt.Sprintf("dev%03d", i), every: f.every, conf: f.conf}
}

// tap records what the broker accepted and feeds it to a runner's Ingest.
type tap struct {
	mu     sync.Mutex
	msgs   []message.Message
	runner atomic.Pointer[Runner]
}

func (t *tap) Ingest(m message.Message) bool {
	m.Payload = append([]byte(nil), m.Payload...)
	t.mu.Lock()
	t.msgs = append(t.msgs, m)
	t.mu.Unlock()
	if r := t.runner.Load(); r != nil {
		r.Ingest(m)
	}
	return true
}

func (t *tap) matching(f func(message.Message) bool) []message.Message {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []message.Message
	for _, m := range t.msgs {
		if f(m) {
			out = append(out, m)
		}
	}
	return out
}

// startBroker runs the embedded broker with a tap.
func startBroker(t testing.TB, mutate ...func(*broker.Config)) (*brokertest.Server, *tap) {
	tp := &tap{}
	srv := brokertest.Start(t, append([]func(*broker.Config){func(c *broker.Config) { c.Recorder = tp }}, mutate...)...)
	return srv, tp
}

// running is a Runner run by a test until stop (or the test's end).
type running struct {
	*Runner
	stop func() error
}

func run(t *testing.T, src Devices, target Target, opt Options) running {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = testkit.Logger()
	}
	r := New(src, target, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(testkit.Timeout):
				err = fmt.Errorf("Run did not return within %s of its context's end", testkit.Timeout)
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return running{Runner: r, stop: stop}
}

// watcher is an independent MQTT 3.1.1 subscriber.
type watcher struct {
	mu   sync.Mutex
	msgs []message.Message
	cl   mqtt.Client
}

func watch(t *testing.T, addr, filter string) *watcher {
	t.Helper()
	w := &watcher{}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("watcher-" + strconv.FormatInt(time.Now().UnixNano(), 36)).
		SetCleanSession(true).SetAutoReconnect(false)
	o.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
		w.mu.Lock()
		w.msgs = append(w.msgs, message.Message{Topic: m.Topic(), Payload: m.Payload(), Retain: m.Retained()})
		w.mu.Unlock()
	})
	w.cl = mqtt.NewClient(o)
	if tok := w.cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher connect to %s: %v", addr, tok.Error())
	}
	if tok := w.cl.Subscribe(filter, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher subscribe %s: %v", filter, tok.Error())
	}
	t.Cleanup(func() { w.cl.Disconnect(50) })
	return w
}

// saw reports whether the watcher got payload on topic.
func (w *watcher) saw(topic, payload string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.msgs {
		if m.Topic == topic && string(m.Payload) == payload {
			return true
		}
	}
	return false
}

func (w *watcher) count(topic, payload string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, m := range w.msgs {
		if m.Topic == topic && string(m.Payload) == payload {
			n++
		}
	}
	return n
}
