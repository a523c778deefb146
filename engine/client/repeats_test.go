package client

import (
	"fmt"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// A connection subscribed to # that reconnects gets every retained
// message again; behind a RepeatFilter they are recorded once, while a
// retained message that changed in between is recorded again.
func TestRepeatFilterKeepsRetainedOnceAcrossReconnects(t *testing.T) {
	for _, proto := range []Protocol{MQTT5, MQTT311} {
		t.Run(string(proto), func(t *testing.T) {
			b, err := broker.New(broker.Config{MQTTAddr: "127.0.0.1:0", NoPersistence: true, DataDir: t.TempDir(), Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Stop() })
			const retained = 5
			for i := range retained {
				if err := b.Publish(fmt.Sprintf("plant/m%d", i), []byte("v1"), true, 1); err != nil {
					t.Fatal(err)
				}
			}
			rec := newRecorder()
			p := profile("plant", b.State().Listeners[0].URL, proto)
			p.Subscribe = []Subscription{{Filter: "#", QoS: 1}}
			_, c := open(t, NewRepeatFilter(rec), p, Credentials{})
			waitState(t, c, StateConnected, 10*time.Second)
			testkit.Eventually(t, "the retained set", func() bool { return countTopicPrefix(rec, "plant/") == retained })

			for round := 1; round <= 2; round++ {
				if round == 2 { // changed while the link is down: a new value
					if err := b.Publish("plant/m0", []byte("v2"), true, 1); err != nil {
						t.Fatal(err)
					}
				}
				up := c.Status().Since
				if err := b.Disconnect(c.Status().ClientID); err != nil {
					t.Fatal(err)
				}
				testkit.Eventually(t, "the reconnect", func() bool {
					st := c.Status()
					return st.State == StateConnected && st.Since.After(up)
				})
				marker := fmt.Sprintf("mark/%d", round)
				// The marker's return shows the subscription renewed. It
				// does not show its retained messages in: mochi sends them
				// after the SUBACK, so a live message published meanwhile
				// (a marker) can come first.
				testkit.Eventually(t, "the renewed subscription", func() bool {
					_ = b.Publish(marker, []byte("x"), false, 0)
					return gotWithin(rec, marker, 100*time.Millisecond)
				})
			}
			// The changed value is recorded (once it arrives); the others
			// never again, which a short wait after it would show.
			testkit.Eventually(t, "the changed retained value", func() bool { return countTopicPrefix(rec, "plant/") >= retained+1 })
			time.Sleep(200 * time.Millisecond)
			if n := countTopicPrefix(rec, "plant/"); n != retained+1 {
				t.Errorf("%d records of the %d retained topics after two reconnects and one change; want %d", n, retained, retained+1)
			}
		})
	}
}

func countTopicPrefix(r *recorder, prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.recs {
		if len(m.Topic) >= len(prefix) && m.Topic[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// The filter tells sources apart and lets a live repeat of a value pass:
// only retained deliveries are replays.
func TestRepeatFilterRules(t *testing.T) {
	rec := newRecorder()
	f := NewRepeatFilter(rec)
	msg := func(source, payload string, retain bool) message.Message {
		return message.Message{Source: source, Topic: "t", Payload: []byte(payload), Retain: retain}
	}
	for _, m := range []message.Message{
		msg("a", "1", true),  // first: passes
		msg("a", "1", true),  // replay: dropped
		msg("b", "1", true),  // another connection: passes
		msg("a", "1", false), // live, same value: passes
		msg("a", "2", false), // live: passes
		msg("a", "2", true),  // retained as the last live one: dropped
		msg("a", "1", true),  // the retained value seen before: dropped
		msg("a", "3", true),  // changed: passes
	} {
		if !f.Ingest(m) {
			t.Fatal("a dropped repeat must count as taken")
		}
	}
	if got := countTopicPrefix(rec, "t"); got != 5 {
		t.Errorf("%d passed, want 5", got)
	}
}
