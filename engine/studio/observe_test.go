package studio

import (
	"sync"
	"testing"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

type seenTopics struct {
	mu     sync.Mutex
	topics []string
}

func (s *seenTopics) Ingest(m message.Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.topics = append(s.topics, m.Topic)
	return true
}

func (s *seenTopics) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.topics...)
}

// A fleet run headless with --no-capture still counts what the broker
// delivered: Observe taps the broker even when nothing else does, and
// stops when told.
func TestObserveTapsTheBrokerWithoutCaptureOrModel(t *testing.T) {
	cfg := testConfig(t.TempDir(), false)
	cfg.Topics, cfg.Connections, cfg.Observable = false, false, true
	s, _ := openStarted(t, cfg)
	seen := &seenTopics{}
	stop, ok := s.Observe(seen)
	if !ok {
		t.Fatal("Observe refused on an Observable engine")
	}
	if err := s.Broker.Publish("devices/a/temp", []byte("21"), false, 0); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the observer sees devices/a/temp", func() bool { return len(seen.list()) == 1 })
	stop()
	later := &seenTopics{}
	stopLater, _ := s.Observe(later)
	defer stopLater()
	if err := s.Broker.Publish("devices/b/temp", []byte("22"), false, 0); err != nil {
		t.Fatal(err)
	}
	// Once an observer added after the stop has the message, the stopped
	// one would have had it too.
	testkit.Eventually(t, "the later observer sees devices/b/temp", func() bool { return len(later.list()) == 1 })
	if got := seen.list(); len(got) != 1 {
		t.Fatalf("observer saw %v after it stopped observing", got)
	}
}

func TestObserveNeedsObservable(t *testing.T) {
	s, _ := openStarted(t, testConfig(t.TempDir(), false))
	if _, ok := s.Observe(&seenTopics{}); ok {
		t.Fatal("Observe accepted a sink on an engine opened without Observable: it would never see a message")
	}
}
