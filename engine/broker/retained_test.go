package broker

import (
	"reflect"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A retained message published in one run is listed by the next run on the
// same data dir, with its publisher and time, without mochi's $SYS topics
// and without one cleared before the restart.
func TestRetainedMessagesIncludeThoseRestoredAtStart(t *testing.T) {
	dir := t.TempDir()
	before := time.Now().Truncate(time.Second)
	first := startBroker(t, func(c *Config) { c.DataDir = dir })
	pub := mustDialV5(t, listenerAddr(t, first, "mqtt"), "sensor-7")
	pub.pub(t, "house/temp", "21.5", 1, true)
	pub.pub(t, "house/gone", "x", 1, true)
	pub.pub(t, "house/gone", "", 1, true) // clears it
	pub.pub(t, "house/live", "not retained", 1, false)
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	second := startBroker(t, func(c *Config) { c.DataDir = dir })
	got := second.RetainedMessages()
	if len(got) != 1 {
		t.Fatalf("second run lists %d retained messages (%v), want house/temp only", len(got), got)
	}
	r := got[0]
	if r.Topic != "house/temp" || string(r.Payload) != "21.5" || !r.Retain || r.Source != SourceBroker ||
		r.ClientID != "sensor-7" || r.QoS != 1 || r.Protocol != 5 || r.Time.Before(before) || r.Time.After(time.Now()) {
		t.Errorf("restored record: %+v", r)
	}
	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := second.RetainedMessages(); got != nil {
		t.Errorf("a stopped broker lists %d retained messages", len(got))
	}
}

// RetainedAtStart hears of the retained messages once per start, a
// restart (the Broker panel's Reconfigure) included, and not when Start
// finds the broker running: the topic model is told of restored messages
// by an event, not by polling the broker's state.
func TestRetainedAtStartTellsEachStartOnce(t *testing.T) {
	dir := t.TempDir()
	first := startBroker(t, func(c *Config) { c.DataDir = dir })
	if err := first.Publish("house/temp", []byte("21.5"), true, 1); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	var starts [][]string
	second := startBroker(t, func(c *Config) {
		c.DataDir = dir
		c.RetainedAtStart = func(recs []message.Message) {
			var topics []string
			for _, r := range recs {
				topics = append(topics, r.Topic+"="+string(r.Payload))
			}
			starts = append(starts, topics)
		}
	})
	if err := second.Start(); err != nil { // already running: no event
		t.Fatal(err)
	}
	if err := second.Publish("house/door", []byte("open"), true, 1); err != nil {
		t.Fatal(err)
	}
	if err := second.Reconfigure(second.Config()); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"house/temp=21.5"}, {"house/door=open", "house/temp=21.5"}}
	if !reflect.DeepEqual(starts, want) {
		t.Errorf("RetainedAtStart heard %q, want %q", starts, want)
	}
}

// A retained message's time survives a restart to the millisecond, as
// the capture has it; mochi keeps whole seconds (09:23:01.135 came back
// as 09:23:01.000).
func TestRestoredRetainedMessageKeepsItsMilliseconds(t *testing.T) {
	dir := t.TempDir()
	rec := &recorded{}
	first := startBroker(t, func(c *Config) { c.DataDir = dir; c.Recorder = rec })
	pub := mustDialV5(t, listenerAddr(t, first, "mqtt"), "sensor-7")
	for time.Now().Nanosecond() < 100e6 || time.Now().Nanosecond() > 800e6 {
		time.Sleep(10 * time.Millisecond) // away from a whole second, so truncation shows
	}
	pub.pub(t, "house/temp", "21.5", 1, true)
	published := rec.wait(t, 1)[0].Time
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	second := startBroker(t, func(c *Config) { c.DataDir = dir })
	got := second.RetainedMessages()
	if len(got) != 1 {
		t.Fatalf("%d retained messages restored", len(got))
	}
	// The store stamps the message when mochi retains it, before it is
	// delivered; the capture after delivery. Under load the two were 8 ms
	// apart (CI, 2026-12-07); whole seconds would be off by 100 ms or more
	// here.
	if d := got[0].Time.Sub(published); d < -50*time.Millisecond || d > 5*time.Millisecond {
		t.Fatalf("restored time %s, published at %s", got[0].Time.Format("15:04:05.000"), published.Format("15:04:05.000"))
	}
}
