package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
)

// The test: at 10x, 20 records captured over about 2 s arrive at a
// real subscriber over about 200 ms, each at its scheduled offset within
// 30 ms.
func TestTimingAt10xWithinTolerance(t *testing.T) {
	// Measured at a subscriber, under -race, on a 2-core CI machine that
	// also runs other tests: delivery jitter alone reached 32 ms. The
	// schedule itself is checked without a network in
	// TestScheduleScalesWithSpeed; 50 ms still fails a replay that ignores
	// the captured gaps (off by up to 190 ms here).
	const tolerance = 50 * time.Millisecond
	b := startBroker(t, nil)
	store := openStore(t)
	offsets := make([]time.Duration, 20)
	for i := range offsets {
		// Uneven gaps, so that a replay ignoring them would fail.
		offsets[i] = time.Duration(i)*100*time.Millisecond + time.Duration(i%3)*30*time.Millisecond
	}
	fill(t, store, series(time.Now().Add(-time.Hour), "line/1/speed", offsets))
	sub := subscribe(t, b, "line/#")
	pub := dialClient(t, brokerURL(t, b, "mqtt"))

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	res, err := Run(ctx, store, capture.Query{Filter: "line/#"}, pub, Options{Speed: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 20 || res.Total != 20 || res.Span != offsets[19] {
		t.Fatalf("result %+v", res)
	}
	got := sub.take(t, 20)
	var worst time.Duration
	for i, m := range got {
		if string(m.p.Payload) != strconv.Itoa(i) {
			t.Fatalf("message %d has payload %q: out of order", i, m.p.Payload)
		}
		want := offsets[i] / 10
		off := m.at.Sub(got[0].at) - want
		worst = max(worst, off.Abs())
		if off.Abs() > tolerance {
			t.Errorf("message %d arrived %v after the first, scheduled %v (off by %v, tolerance %v)", i, m.at.Sub(got[0].at), want, off, tolerance)
		}
	}
	if span := got[19].at.Sub(got[0].at); span < offsets[19]/10-tolerance {
		t.Errorf("replay of a %v capture at 10x took %v", offsets[19], span)
	}
	t.Logf("20 records over %v replayed at 10x in %v; worst timing error at the subscriber %v", offsets[19], res.Elapsed, worst)
}

// Scheduling alone, without a network: several speeds, each record at its
// scaled offset from the start.
func TestScheduleScalesWithSpeed(t *testing.T) {
	offsets := []time.Duration{0, 40 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond}
	cases := []struct {
		speed float64
		scale float64 // wall time per captured time
	}{
		{0.5, 2}, {1, 1}, {4, 0.25}, {0, 0}, {-1, 0},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.speed), func(t *testing.T) {
			store := openStore(t)
			fill(t, store, series(time.Now().Add(-time.Minute), "s", offsets))
			rec := &recorder{}
			start := time.Now()
			res, err := Run(context.Background(), store, capture.Query{}, rec, Options{Speed: tc.speed}, nil)
			if err != nil || res.Published != int64(len(offsets)) {
				t.Fatalf("Run: %+v, %v", res, err)
			}
			for i, at := range rec.times {
				want := time.Duration(float64(offsets[i]) * tc.scale)
				if off := at.Sub(start) - want; off < 0 || off > 40*time.Millisecond {
					t.Errorf("record %d published at %v, scheduled at %v", i, at.Sub(start), want)
				}
			}
		})
	}
}

// As fast as possible: thousands of records captured over an hour go out
// at once, in order and complete, at QoS 0 and pipelined QoS 1 and 2.
func TestAsFastAsPossible(t *testing.T) {
	const n = 5000
	offsets := make([]time.Duration, n)
	for i := range offsets {
		offsets[i] = time.Duration(i) * time.Hour / n
	}
	for _, qos := range []byte{0, 1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			b := startBroker(t, nil)
			store := openStore(t)
			recs := series(time.Now().Add(-2*time.Hour), "bulk/x", offsets)
			for i := range recs {
				recs[i].QoS = qos
			}
			fill(t, store, recs)
			sub := subscribe(t, b, "bulk/#")
			pub := dialClient(t, brokerURL(t, b, "mqtt"))
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			res, err := Run(ctx, store, capture.Query{}, pub, Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := sub.take(t, n)
			for i, m := range got {
				if string(m.p.Payload) != strconv.Itoa(i) || m.p.QoS != qos {
					t.Fatalf("message %d: payload %q QoS %d", i, m.p.Payload, m.p.QoS)
				}
			}
			if res.Published != n || res.Elapsed > 10*time.Second {
				t.Fatalf("result %+v", res)
			}
			t.Logf("QoS %d: %d records of a 1 h capture replayed in %v (%.0f msg/s)", qos, n, res.Elapsed, n/res.Elapsed.Seconds())
		})
	}
}

func qos(q byte) *byte { return &q }

// Remap, QoS override and retain handling, seen by a real subscriber.
func TestTopicQoSAndRetainTransforms(t *testing.T) {
	base := time.Now().Add(-time.Hour)
	captured := []message.Message{
		{Time: base, Topic: "plant/a/power", Payload: []byte("1"), QoS: 0, Retain: true},
		{Time: base.Add(time.Millisecond), Topic: "plant/a", Payload: []byte("2"), QoS: 2},
		{Time: base.Add(2 * time.Millisecond), Topic: "plant/alpha/power", Payload: []byte("3"), QoS: 1},
		{Time: base.Add(3 * time.Millisecond), Topic: "plant/a/b/c", Payload: []byte("4"), QoS: 1, Retain: true},
	}
	type want struct {
		topic  string
		qos    byte
		retain bool
	}
	cases := []struct {
		name string
		opts Options
		want []want
	}{
		{"as captured", Options{}, []want{{"plant/a/power", 0, true}, {"plant/a", 2, false}, {"plant/alpha/power", 1, false}, {"plant/a/b/c", 1, true}}},
		{"remap longest prefix wins, whole levels only",
			Options{Remap: []Remap{{"plant", "replay/plant"}, {"plant/a", "unit-a"}}},
			[]want{{"unit-a/power", 0, true}, {"unit-a", 2, false}, {"replay/plant/alpha/power", 1, false}, {"unit-a/b/c", 1, true}}},
		{"remap everything under a prefix", Options{Remap: []Remap{{"", "copy"}}},
			[]want{{"copy/plant/a/power", 0, true}, {"copy/plant/a", 2, false}, {"copy/plant/alpha/power", 1, false}, {"copy/plant/a/b/c", 1, true}}},
		{"qos override up", Options{QoS: qos(2)}, []want{{"plant/a/power", 2, true}, {"plant/a", 2, false}, {"plant/alpha/power", 2, false}, {"plant/a/b/c", 2, true}}},
		{"qos override down", Options{QoS: qos(0)}, []want{{"plant/a/power", 0, true}, {"plant/a", 0, false}, {"plant/alpha/power", 0, false}, {"plant/a/b/c", 0, true}}},
		{"retain cleared", Options{ClearRetain: true}, []want{{"plant/a/power", 0, false}, {"plant/a", 2, false}, {"plant/alpha/power", 1, false}, {"plant/a/b/c", 1, false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, nil)
			store := openStore(t)
			fill(t, store, captured)
			sub := subscribe(t, b, "#")
			pub := dialClient(t, brokerURL(t, b, "mqtt"))
			res, err := Run(context.Background(), store, capture.Query{Filter: "plant/#"}, pub, tc.opts, nil)
			if err != nil || res.Published != 4 {
				t.Fatalf("Run: %+v %v", res, err)
			}
			for i, m := range sub.take(t, 4) {
				w := tc.want[i]
				if m.p.Topic != w.topic || m.p.QoS != w.qos || m.p.Retain != w.retain || string(m.p.Payload) != strconv.Itoa(i+1) {
					t.Errorf("message %d: %q QoS %d retain %v payload %q; want %q QoS %d retain %v", i, m.p.Topic, m.p.QoS, m.p.Retain, m.p.Payload, w.topic, w.qos, w.retain)
				}
			}
		})
	}
}

func TestRemapStripsAndSkipsEmpty(t *testing.T) {
	store := openStore(t)
	base := time.Now().Add(-time.Hour)
	fill(t, store, []message.Message{
		{Time: base, Topic: "site/x", Payload: []byte("1")},
		{Time: base.Add(time.Millisecond), Topic: "site", Payload: []byte("2")},
		{Time: base.Add(2 * time.Millisecond), Topic: "other", Payload: []byte("3")},
	})
	rec := &recorder{}
	res, err := Run(context.Background(), store, capture.Query{}, rec, Options{Remap: []Remap{{Old: "site"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 2 || res.Skipped != 1 || res.Total != 3 || rec.recs[0].Topic != "x" || rec.recs[1].Topic != "other" {
		t.Fatalf("result %+v, published %v", res, rec.recs)
	}
}

// Every MQTT 5 property of a captured message reaches the subscriber.
func TestMQTT5PropertiesArrive(t *testing.T) {
	b := startBroker(t, nil)
	store := openStore(t)
	format, expiry := byte(1), uint32(3600)
	fill(t, store, []message.Message{{
		Time: time.Now().Add(-time.Minute), Topic: "rpc/req", Payload: []byte(`{"op":"ping"}`), QoS: 1,
		PayloadFormat: &format, ContentType: "application/json", MessageExpiry: &expiry,
		ResponseTopic: "rpc/resp/7", CorrelationData: []byte{0, 1, 0xfe},
		UserProps: []message.UserProp{{Key: "trace", Value: "a"}, {Key: "trace", Value: "b"}, {Key: "unit", Value: "C"}},
	}})
	sub := subscribe(t, b, "rpc/#")
	pub := dialClient(t, brokerURL(t, b, "mqtt"))
	if _, err := Run(context.Background(), store, capture.Query{}, pub, Options{}, nil); err != nil {
		t.Fatal(err)
	}
	p := sub.take(t, 1)[0].p.Properties
	if p == nil || p.PayloadFormat == nil || *p.PayloadFormat != 1 || p.ContentType != "application/json" ||
		p.ResponseTopic != "rpc/resp/7" || !bytes.Equal(p.CorrelationData, []byte{0, 1, 0xfe}) {
		t.Fatalf("properties %+v", p)
	}
	if p.MessageExpiry == nil || *p.MessageExpiry == 0 || *p.MessageExpiry > 3600 {
		t.Fatalf("message expiry %v, want at most 3600 s left", p.MessageExpiry)
	}
	want := paho.UserProperties{{Key: "trace", Value: "a"}, {Key: "trace", Value: "b"}, {Key: "unit", Value: "C"}}
	if fmt.Sprint(p.User) != fmt.Sprint(want) {
		t.Fatalf("user properties %v, want %v in order", p.User, want)
	}
}

// Cancelling during a long wait stops at once and says how far it got.
func TestCancelDuringLongWait(t *testing.T) {
	b := startBroker(t, nil)
	store := openStore(t)
	offsets := []time.Duration{0, 20 * time.Millisecond, 40 * time.Millisecond, time.Hour, time.Hour + time.Second}
	fill(t, store, series(time.Now().Add(-2*time.Hour), "slow", offsets))
	sub := subscribe(t, b, "slow")
	pub := dialClient(t, brokerURL(t, b, "mqtt"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last atomic.Pointer[Progress]
	done := make(chan struct{})
	var res Result
	var err error
	go func() {
		defer close(done)
		res, err = Run(ctx, store, capture.Query{}, pub, Options{Speed: 1, ProgressEvery: 10 * time.Millisecond},
			func(p Progress) { last.Store(&p) })
	}()
	sub.take(t, 3)
	time.Sleep(50 * time.Millisecond) // now waiting for the record an hour later
	cancelled := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if d := time.Since(cancelled); d > 500*time.Millisecond {
		t.Errorf("Run took %v to stop", d)
	}
	if !errors.Is(err, context.Canceled) || res.Published != 3 || res.Total != 5 {
		t.Fatalf("after cancel: %+v, %v", res, err)
	}
	if want := "interrupted after 3 of 5"; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	p := last.Load()
	if p == nil || !p.Done || p.Published != 3 || p.Total != 5 || p.Span != offsets[4] || p.Position < 40*time.Millisecond || p.Position > time.Second {
		t.Fatalf("last progress %+v", p)
	}
	sub.none(t, 100*time.Millisecond)
}

// Replaying into the embedded broker that captures into the same store:
// the copies it captures during the replay are never replayed themselves.
func TestReplayIntoItsOwnCaptureStopsAtStart(t *testing.T) {
	defer func(n int) { pageSize = n }(pageSize)
	pageSize = 2 // several pages, so a later page could see the copies
	store := openStore(t)
	b := startBroker(t, func(c *broker.Config) { c.Recorder = store })
	const n = 7
	offsets := make([]time.Duration, n)
	for i := range offsets {
		offsets[i] = time.Duration(i) * time.Millisecond
	}
	fill(t, store, series(time.Now().Add(-time.Minute), "loop/t", offsets))
	c := dialClient(t, brokerURL(t, b, "mqtt"))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	// After each message, wait until the broker has captured its copy and
	// make it visible to queries, so that the next page would include it.
	pub := &capturedPublisher{Client: c, store: store, t: t}
	res, err := Run(ctx, store, capture.Query{Filter: "loop/#"}, pub, Options{}, func(p Progress) {
		if p.Published > n {
			cancel() // the loop the bound prevents; stop it rather than spin
		}
	})
	if err != nil || res.Published != n || res.Total != n {
		t.Fatalf("replay of %d records: %+v, %v", n, res, err)
	}
	recs, _, err := store.Query(context.Background(), capture.Query{Filter: "loop/#", Limit: 100})
	if err != nil || len(recs) != 2*n {
		t.Fatalf("store holds %d records (%v), want the %d originals and %d copies", len(recs), err, n, n)
	}
	// A second replay now includes the copies, as it should.
	res, err = Run(ctx, store, capture.Query{Filter: "loop/#"}, &recorder{}, Options{}, nil)
	if err != nil || res.Published != 2*n {
		t.Fatalf("second replay: %+v, %v", res, err)
	}
}

type capturedPublisher struct {
	*Client
	store *capture.Store
	t     *testing.T
}

func (p *capturedPublisher) Publish(ctx context.Context, r message.Message) error {
	before, err := p.store.Stats()
	if err != nil {
		return err
	}
	r.QoS = 1 // acknowledged after the broker has handled it
	if err := p.Client.Publish(ctx, r); err != nil {
		return err
	}
	if err := p.Client.Flush(ctx); err != nil {
		return err
	}
	for {
		st, err := p.store.Stats()
		if err != nil {
			return err
		}
		if st.Ingested > before.Ingested {
			return p.store.Flush(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// A broker refusing a QoS 1 message (ACL) stops the replay with a clear
// error naming the topic.
func TestRefusedMessageStopsReplay(t *testing.T) {
	dir := t.TempDir()
	writeUsers(t, dir, "writer", "pw", "public/#")
	b := startBroker(t, func(c *broker.Config) { c.DataDir = dir })
	store := openStore(t)
	base := time.Now().Add(-time.Minute)
	fill(t, store, []message.Message{
		{Time: base, Topic: "public/a", Payload: []byte("ok"), QoS: 1},
		{Time: base.Add(time.Millisecond), Topic: "private/b", Payload: []byte("no"), QoS: 1},
		{Time: base.Add(2 * time.Millisecond), Topic: "public/c", Payload: []byte("later"), QoS: 1},
	})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := Dial(ctx, ClientOptions{URL: brokerURL(t, b, "mqtt"), Username: "writer", Password: []byte("pw"), InFlight: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = Run(ctx, store, capture.Query{}, c, Options{}, nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"private/b"`)) || !bytes.Contains([]byte(err.Error()), []byte("not authorized")) {
		t.Fatalf("error %v; want the broker's refusal of private/b", err)
	}
}
