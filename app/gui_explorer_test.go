package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// The wiring of runGUI, without the window loop: the broker feeds both
// the capture and the topic model, the Explorer is the first panel, and
// everything stops in the app's shutdown order.
func TestGUIFeedsCaptureAndTopicsAndShowsTheExplorerFirst(t *testing.T) {
	for _, withCapture := range []bool{true, false} {
		t.Run(map[bool]string{true: "capture", false: "no capture"}[withCapture], func(t *testing.T) {
			a := test.NewTempApp(t)
			log := slog.New(slog.DiscardHandler)
			var capt *guiCapture
			if withCapture {
				var err error
				if capt, err = newGUICapture(filepath.Join(t.TempDir(), "capture"), log); err != nil {
					t.Fatal(err)
				}
			}
			tops := newGUITopics(log)
			b := brokertest.Start(t, func(c *broker.Config) { c.Recorder, c.Logger = tops.recorder(capt), log }).Broker
			w := shell.NewMainWindow(a)
			t.Cleanup(w.Close)
			ctx, cancel := context.WithCancel(context.Background())
			tops.show(ctx, w, b)
			if tabs := w.Content().(*container.AppTabs); len(tabs.Items) != 1 || tabs.Items[0].Text != "Explorer" {
				t.Fatalf("tabs after show: %d, first %q", len(tabs.Items), tabs.Items[0].Text)
			}

			if err := b.Publish("plant/line1/speed", []byte("12.5"), true, 0); err != nil {
				t.Fatal(err)
			}
			sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer scancel()
			if err := tops.model.Sync(sctx); err != nil {
				t.Fatal(err)
			}
			if id, ok := tops.model.Lookup(broker.SourceBroker, "plant/line1/speed"); !ok {
				t.Error("the topic model did not get the broker's message")
			} else if d, _ := tops.model.Node(id); string(d.Last.Payload) != "12.5" || !d.Retained {
				t.Errorf("the model holds %q (retained %v)", d.Last.Payload, d.Retained)
			}

			cancel()
			tops.wait()
			if err := b.Stop(); err != nil {
				t.Error(err)
			}
			tops.close()
			if capt == nil {
				return
			}
			st, err := capt.rec.store.Load().Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Ingested != 1 {
				t.Errorf("the capture ingested %d records, want the 1 message", st.Ingested)
			}
			capt.close()
		})
	}
}

// Retained messages the broker restores from its data dir were published
// in an earlier run, which the tap never saw: the tree shows them anyway,
// as retained.
func TestTreeShowsRetainedMessagesFromAnEarlierRun(t *testing.T) {
	a := test.NewTempApp(t)
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	cfg := broker.Config{MQTTAddr: "127.0.0.1:0", DataDir: dir, Logger: log, Sessions: sessionsIn(dir, log)}
	first, err := broker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if err := first.Publish("plant/line1/speed", []byte("12.5"), true, 1); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	tops := newGUITopics(log)
	cfg.Recorder = tops.recorder(nil)
	second, err := broker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	w := shell.NewMainWindow(a)
	t.Cleanup(w.Close)
	ctx, cancel := context.WithCancel(context.Background())
	tops.show(ctx, w, second)

	waitRetained := func(when string) {
		t.Helper()
		var id topics.NodeID
		testkit.Eventually(t, when+": the retained message of the earlier run in the tree", func() bool {
			var ok bool
			id, ok = tops.model.Lookup(broker.SourceBroker, "plant/line1/speed")
			return ok
		})
		if d, _ := tops.model.Node(id); string(d.Last.Payload) != "12.5" || !d.Retained {
			t.Fatalf("%s: the tree holds %q (retained %v), want the retained 12.5", when, d.Last.Payload, d.Retained)
		}
	}
	waitRetained("after start")

	cancel()
	tops.wait()
	if err := second.Stop(); err != nil {
		t.Error(err)
	}
	tops.close()
}

// fakeRetained is a broker whose state and retained messages a test sets.
type fakeRetained struct {
	mu    sync.Mutex
	state broker.State
	recs  []message.Message
	reads int
}

func (f *fakeRetained) State() broker.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *fakeRetained) RetainedMessages() []message.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.recs
}

func (f *fakeRetained) set(st broker.Status, since time.Time, topics ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = broker.State{Status: st, Since: since}
	f.recs = nil
	for _, tp := range topics {
		f.recs = append(f.recs, message.Message{Source: broker.SourceBroker, Topic: tp, Payload: []byte("1"), Retain: true})
	}
}

func (f *fakeRetained) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// The retained messages are read once per broker start, including a
// restart from the Broker panel, and never while it is stopped.
func TestFollowRetainedReadsOncePerStart(t *testing.T) {
	m := topics.New(topics.Options{})
	b := &fakeRetained{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		followRetained(ctx, b, m, time.Millisecond)
	}()
	defer func() {
		cancel()
		<-done
	}()
	has := func(topic string) func() bool {
		return func() bool { _, ok := m.Lookup(broker.SourceBroker, topic); return ok }
	}
	start := time.Now()
	b.set(broker.Running, start, "a/1")
	testkit.Eventually(t, "the first start's retained messages", has("a/1"))
	b.set(broker.Stopped, start.Add(time.Second), "stopped/1")
	b.set(broker.Running, start.Add(2*time.Second), "a/1", "b/2")
	testkit.Eventually(t, "the restart's retained messages", has("b/2"))
	if n := b.readCount(); n != 2 {
		t.Errorf("retained messages read %d times for 2 starts", n)
	}
	if _, ok := m.Lookup(broker.SourceBroker, "stopped/1"); ok {
		t.Error("read the retained messages of a stopped broker")
	}
	if d := m.Sources()[0]; d.SubtreeMessages != 2 {
		t.Errorf("the tree holds %d messages; a/1 was restored twice", d.SubtreeMessages)
	}
}
