package broker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// recorded collects what the tap hands over.
type recorded struct {
	mu   sync.Mutex
	recs []message.Message
}

func (r *recorded) Ingest(rec message.Message) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return true
}

func (r *recorded) wait(t *testing.T, n int) []message.Message {
	t.Helper()
	var out []message.Message
	testkit.Eventually(t, fmt.Sprintf("the recorder to get %d records", n), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		out = append(out[:0], r.recs...)
		return len(out) >= n
	})
	return out
}

func TestTapRecordsEveryFieldOfAPublish(t *testing.T) {
	rec := &recorded{}
	b := startBroker(t, func(c *Config) { c.Recorder = rec })
	c := mustDialV5(t, listenerAddr(t, b, "mqtt"), "thermo-1")
	format, expiry := byte(1), uint32(600)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	before := time.Now()
	_, err := c.Publish(ctx, &paho.Publish{Topic: "home/kitchen/temp", QoS: 1, Retain: true, Payload: []byte{0, 1, 2, 0xff},
		Properties: &paho.PublishProperties{
			PayloadFormat: &format, MessageExpiry: &expiry, ContentType: "application/octet-stream",
			ResponseTopic: "home/kitchen/reply", CorrelationData: []byte("corr-7"),
			User: paho.UserProperties{{Key: "unit", Value: "C"}, {Key: "unit", Value: "again"}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	r := rec.wait(t, 1)[0]
	if r.Source != SourceBroker || r.ClientID != "thermo-1" || r.Protocol != 5 || r.Topic != "home/kitchen/temp" ||
		string(r.Payload) != "\x00\x01\x02\xff" || r.QoS != 1 || !r.Retain {
		t.Fatalf("record %+v", r)
	}
	if r.Time.Before(before) || time.Since(r.Time) > testTimeout {
		t.Fatalf("record time %v not the receive time", r.Time)
	}
	if r.PayloadFormat == nil || *r.PayloadFormat != 1 || r.MessageExpiry == nil || *r.MessageExpiry != 600 ||
		r.ContentType != "application/octet-stream" || r.ResponseTopic != "home/kitchen/reply" || string(r.CorrelationData) != "corr-7" {
		t.Fatalf("MQTT 5 properties lost: %+v", r)
	}
	if len(r.UserProps) != 2 || r.UserProps[0] != (message.UserProp{Key: "unit", Value: "C"}) || r.UserProps[1].Value != "again" {
		t.Fatalf("user properties %+v", r.UserProps)
	}
}

func TestTapSkipsSysMessages(t *testing.T) {
	rec := &recorded{}
	b := startBroker(t, func(c *Config) { c.Recorder = rec })
	c := mustDialV5(t, listenerAddr(t, b, "mqtt"), "pub")
	c.pub(t, "a", "1", 0, false)
	time.Sleep(1500 * time.Millisecond) // past one $SYS tick
	c.pub(t, "b", "2", 0, false)
	recs := rec.wait(t, 2)
	for _, r := range recs {
		if r.Topic != "a" && r.Topic != "b" {
			t.Fatalf("captured %q; only client publishes belong in the capture", r.Topic)
		}
	}
}

// A device that drops off has its will published by the broker; the
// capture and the Explorer must see it like any publish, or they keep
// showing the device "online".
func TestTapRecordsWills(t *testing.T) {
	rec := &recorded{}
	b := startBroker(t, func(c *Config) { c.Recorder = rec })
	if code := connectWithWill(t, listenerAddr(t, b, "mqtt"), 4, "plug-7", "", "", "plugs/plug-7/status", true); code != 0 {
		t.Fatalf("CONNACK %#x", code)
	}
	r := rec.wait(t, 1)[0]
	if r.Topic != "plugs/plug-7/status" || string(r.Payload) != "pwned by plug-7" || r.ClientID != "plug-7" || !r.Retain || r.QoS != 1 {
		t.Fatalf("will recorded as %+v", r)
	}
}
