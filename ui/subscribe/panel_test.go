package subscribe

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// TestInvalidFilterIsNotSubscribed types filters a broker would refuse:
// the form says what is wrong and where, and nothing is subscribed.
func TestInvalidFilterIsNotSubscribed(t *testing.T) {
	h := newHarness(t, Options{})
	c := h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	tests := []struct {
		filter   string
		noLocal  bool
		whileTyp []string // what the error says as soon as it is typed
		onSubmit []string // what it says after Subscribe
	}{
		{"sensors/#/temp", false, []string{"'#' must be the last level", "level 2 of 3"}, nil},
		{"a+", false, []string{"'+' must occupy a whole level", `level 1 is "a+"`}, nil},
		{"$share//sensors/#", false, []string{"no group name"}, nil},
		{"", false, nil, []string{"the topic filter is empty"}},
		{"$share/g/sensors/#", true, nil, []string{"no-local cannot be set on a shared subscription"}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			h.p.filter.SetText("x") // a valid filter first: the error must come from tt.filter
			h.p.noLocal.SetChecked(tt.noLocal)
			h.p.filter.SetText(tt.filter)
			if tt.whileTyp != nil {
				if !h.p.filterErr.Visible() {
					t.Fatalf("typing %q shows no error", tt.filter)
				}
				for _, w := range tt.whileTyp {
					if !has(h.p.filterErr.Text, w) {
						t.Errorf("error %q does not say %q", h.p.filterErr.Text, w)
					}
				}
			} else if h.p.filterErr.Visible() {
				t.Fatalf("typing %q already shows %q", tt.filter, h.p.filterErr.Text)
			}
			test.Tap(h.p.subscribeBtn)
			if !h.p.filterErr.Visible() {
				t.Fatal("Subscribe with an invalid filter shows no error")
			}
			for _, w := range append(tt.whileTyp, tt.onSubmit...) {
				if !has(h.p.filterErr.Text, w) {
					t.Errorf("error %q does not say %q", h.p.filterErr.Text, w)
				}
			}
			if h.p.subscribeBtn.Disabled() || h.p.formMsg.Visible() {
				t.Errorf("a subscribe was started: %q", h.p.formMsg.Text)
			}
			if subs := c.Subscriptions(); len(subs) != 0 {
				t.Errorf("the connection holds %+v", subs)
			}
		})
	}
	h.p.noLocal.SetChecked(false)
	h.p.filter.SetText("sensors/+/temp")
	if h.p.filterErr.Visible() {
		t.Errorf("a valid filter still shows %q", h.p.filterErr.Text)
	}
}

// TestSubscribeShowsGrantedQoS subscribes through the form on a real
// connection to the embedded broker and checks the SUBACK is shown, with
// the subscription's colour.
func TestSubscribeShowsGrantedQoS(t *testing.T) {
	h := newHarness(t, Options{})
	c := h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	h.choose(t, "local")
	test.Tap(h.p.noLocal)
	h.p.retain.SetSelectedIndex(2)
	h.subscribe(t, "sensors/#", 2)
	r := h.subRow("sensors/#")
	if r.result.Text != "Granted QoS 2" {
		t.Errorf("result %q, want Granted QoS 2", r.result.Text)
	}
	if !has(r.label.Text, "no-local") || !has(r.label.Text, "no retained") {
		t.Errorf("row %q does not show the MQTT 5 options", r.label.Text)
	}
	if r.swatch.FillColor != colourOf(0) {
		t.Errorf("first subscription's colour %v, want %v", r.swatch.FillColor, colourOf(0))
	}
	if !has(h.p.formMsg.Text, "granted QoS 2") {
		t.Errorf("form says %q", h.p.formMsg.Text)
	}
	subs := c.Subscriptions()
	if len(subs) != 1 || !subs[0].NoLocal || subs[0].RetainHandling != 2 || subs[0].QoS != 2 {
		t.Errorf("the connection holds %+v", subs)
	}
	h.subscribe(t, "sensors/+/temp", 0)
	if got := h.subRow("sensors/+/temp"); got.swatch.FillColor == r.swatch.FillColor || got.result.Text != "Granted QoS 0" {
		t.Errorf("second subscription: colour %v (first %v), result %q", got.swatch.FillColor, r.swatch.FillColor, got.result.Text)
	}
}

// TestMQTT311DisablesV5Options: an MQTT 3.1.1 connection cannot carry the
// MQTT 5 options, and the form says so.
func TestMQTT311DisablesV5Options(t *testing.T) {
	h := newHarness(t, Options{})
	h.connect(t, "v5", "alice", "alice-demo", client.MQTT5)
	h.connect(t, "v311", "alice", "alice-demo", client.MQTT311)
	h.choose(t, "v5")
	test.Tap(h.p.noLocal)
	h.choose(t, "v311")
	if !h.p.noLocal.Disabled() || !h.p.rap.Disabled() || !h.p.retain.Disabled() || h.p.noLocal.Checked {
		t.Error("MQTT 5 options stay on for a 3.1.1 connection")
	}
	if !h.p.v5Note.Visible() || !has(h.p.v5Note.Text, "MQTT 5 options: v311 speaks MQTT 3.1.1") {
		t.Errorf("note %q (visible %v)", h.p.v5Note.Text, h.p.v5Note.Visible())
	}
	h.subscribe(t, "plain/#", 1)
	if got := h.subRow("plain/#").result.Text; got != "Granted QoS 1" {
		t.Errorf("3.1.1 subscription: %q", got)
	}
	h.choose(t, "v5")
	if h.p.noLocal.Disabled() || h.p.v5Note.Visible() {
		t.Error("MQTT 5 options stay off for an MQTT 5 connection")
	}
	if h.subRow("plain/#") != nil {
		t.Error("v311's subscription is listed under v5")
	}
}

// TestRefusalShowsReason subscribes where the broker's ACL forbids it:
// the row says why, in MQTT 5's words or MQTT 3.1.1's lack of them.
func TestRefusalShowsReason(t *testing.T) {
	h := newHarness(t, Options{})
	for _, tt := range []struct {
		proto client.Protocol
		want  string
	}{
		{client.MQTT5, "Refused: not authorized"},
		{client.MQTT311, "Refused: refused by the broker (MQTT 3.1.1 gives no reason"},
	} {
		t.Run(string(tt.proto), func(t *testing.T) {
			name := "sensor-" + string(tt.proto)
			c := h.connect(t, name, "sensor", "sensor-demo", tt.proto)
			h.choose(t, name)
			h.subscribe(t, "secret/#", 1)
			r := h.subRow("secret/#")
			if !strings.HasPrefix(r.result.Text, tt.want) {
				t.Errorf("row says %q, want %q…", r.result.Text, tt.want)
			}
			if r.button.Text != "Dismiss" || r.swatch.FillColor != noColourFill {
				t.Errorf("refused row: button %q, colour %v", r.button.Text, r.swatch.FillColor)
			}
			if len(c.Subscriptions()) != 0 {
				t.Errorf("the connection holds %+v", c.Subscriptions())
			}
			test.Tap(r.button)
			if h.subRow("secret/#") != nil {
				t.Error("Dismiss left the refused row")
			}
		})
	}
}

// TestMessagesListedWithColour publishes into two overlapping
// subscriptions: each message gets the colour of the most specific filter
// it matches; the text filter narrows the list by topic or payload.
func TestMessagesListedWithColour(t *testing.T) {
	h := newHarness(t, Options{})
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	h.subscribe(t, "sensors/#", 1)
	h.subscribe(t, "sensors/+/temp", 1)
	wide, narrow := h.subRow("sensors/#").swatch.FillColor, h.subRow("sensors/+/temp").swatch.FillColor
	h.pub(t, "sensors/a/temp", "21.5")
	h.pub(t, "sensors/a/hum", `{"rh": 40}`)
	h.pub(t, "other/x", "not subscribed")
	h.q.until(t, "two messages listed", func() bool { return h.p.list.Length() == 2 })
	if got := h.listed(); got[0] != "sensors/a/hum" || got[1] != "sensors/a/temp" {
		t.Errorf("listed %v, want the newest first", got)
	}
	rows := h.shownRows()
	if r := rows["sensors/a/temp"]; r == nil || r.swatch.FillColor != narrow || r.preview.Text != "21.5" {
		t.Errorf("temp row: %s; want colour %v of sensors/+/temp", describe(r), narrow)
	}
	if r := rows["sensors/a/hum"]; r == nil || r.swatch.FillColor != wide || r.preview.Text != `{"rh": 40}` {
		t.Errorf("hum row: %s; want colour %v of sensors/#", describe(r), wide)
	}

	test.Type(h.p.textFilter, "HUM")
	h.q.until(t, "the text filter to narrow the list", func() bool { return h.p.list.Length() == 1 })
	if got := h.listed(); got[0] != "sensors/a/hum" {
		t.Errorf("filter by topic lists %v", got)
	}
	h.p.textFilter.SetText("21.5")
	h.q.until(t, "the payload filter", func() bool { return h.p.list.Length() == 1 && h.listed()[0] == "sensors/a/temp" })
	h.p.textFilter.SetText("")
	h.q.until(t, "the whole list back", func() bool { return h.p.list.Length() == 2 })

	// Selecting shows the whole message.
	h.p.list.Select(0)
	if !has(h.p.detailMeta.Text, "sensors/a/hum") || !has(h.p.detailMeta.Text, "Subscription: sensors/#") || !has(h.p.detailMeta.Text, "QoS 1") {
		t.Errorf("detail says %q", h.p.detailMeta.Text)
	}
	if h.p.detail == nil || !has(strings.Join(h.p.detail.Lines(0, h.p.detail.LineCount()), "\n"), `"rh": 40`) {
		t.Error("the detail does not show the payload")
	}
	// The selection follows its message as new ones arrive on top.
	h.pub(t, "sensors/b/temp", "19")
	h.q.until(t, "a third message", func() bool { return h.p.list.Length() == 3 })
	if h.p.selected == nil || h.p.selected.rec.Topic != "sensors/a/hum" || h.p.entryAt(1) != h.p.selected {
		t.Errorf("selection moved to another message: %v", h.p.selected)
	}
}

// TestPauseFreezesList: while paused the list stands still but the
// arrivals are counted; Clear empties it; resuming catches up.
func TestPauseFreezesList(t *testing.T) {
	h := newHarness(t, Options{})
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	h.subscribe(t, "p/#", 0)
	h.pub(t, "p/1", "a")
	h.q.until(t, "the first message", func() bool { return h.p.list.Length() == 1 })

	test.Tap(h.p.pauseBtn)
	if h.p.pauseBtn.Text != "Resume" {
		t.Errorf("pause button says %q", h.p.pauseBtn.Text)
	}
	for i := 2; i <= 4; i++ {
		h.pub(t, fmt.Sprintf("p/%d", i), "b")
	}
	h.q.until(t, "the status to count what arrived while paused", func() bool { return has(h.p.status.Text, "Paused: 3 more arrived since") })
	if got := h.listed(); len(got) != 1 || got[0] != "p/1" {
		t.Errorf("paused list changed: %v", got)
	}
	// The text filter still works on what is frozen.
	h.p.textFilter.SetText("p/2")
	h.q.until(t, "the frozen list filtered", func() bool { return h.p.list.Length() == 0 })
	h.p.textFilter.SetText("")
	h.q.until(t, "the frozen list back", func() bool { return h.p.list.Length() == 1 })

	test.Tap(h.p.pauseBtn)
	h.q.until(t, "the list to catch up", func() bool { return h.p.list.Length() == 4 })
	if got := h.listed(); got[0] != "p/4" {
		t.Errorf("after resume: %v", got)
	}
	test.Tap(h.p.clearBtn)
	if h.p.list.Length() != 0 {
		t.Errorf("Clear left %d rows", h.p.list.Length())
	}
	h.pub(t, "p/5", "c")
	h.q.until(t, "a message after Clear", func() bool { return h.p.list.Length() == 1 })
	if !has(h.p.status.Text, "5 received on local") {
		t.Errorf("status %q: Clear must not reset what was received", h.p.status.Text)
	}
}

// TestUnsubscribeStopsDelivery: after Unsubscribe the broker sends no more
// and the list gets no more.
func TestUnsubscribeStopsDelivery(t *testing.T) {
	h := newHarness(t, Options{})
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	h.subscribe(t, "a/#", 1)
	h.subscribe(t, "marker/#", 1)
	h.pub(t, "a/before", "1")
	h.q.until(t, "a/before listed", func() bool { return contains(h.listed(), "a/before") })

	test.Tap(h.subRow("a/#").button)
	h.q.until(t, "a/# gone from the subscriptions", func() bool { return h.subRow("a/#") == nil && has(h.p.formMsg.Text, "Unsubscribed from a/#") })
	h.pub(t, "a/after", "2")
	h.pub(t, "marker/done", "3") // same publisher, so delivered after a/after would be
	h.q.until(t, "the marker listed", func() bool { return contains(h.listed(), "marker/done") })
	if contains(h.listed(), "a/after") || h.rec.received("local", "a/after") {
		t.Errorf("a/after delivered after Unsubscribe: listed %v", h.listed())
	}
}

// TestBurstKeepsTheCap ingests 20,000 messages from four goroutines while
// the UI runs: the list keeps the newest MaxMessages, says how many left,
// and the UI gets a batch per pass rather than a call per message.
func TestBurstKeepsTheCap(t *testing.T) {
	const total, keep = 20_000, 500
	h := newHarness(t, Options{MaxMessages: keep})
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	h.subscribe(t, "burst/#", 0)
	before := h.q.calls.Load()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range total / 4 {
				if !h.p.Ingest(message.Message{Source: "local", Topic: fmt.Sprintf("burst/%d/%d", g, i), Payload: []byte("x"), Time: time.Now()}) {
					t.Error("Ingest refused a record")
					return
				}
			}
		}()
	}
	ingested := make(chan struct{})
	go func() { wg.Wait(); close(ingested) }()
	done := false
	h.q.until(t, "the burst listed", func() bool {
		if !done {
			select {
			case <-ingested:
				done = true
			default:
				if h.p.list.Length() > keep {
					t.Fatalf("the list holds %d rows, cap %d", h.p.list.Length(), keep)
				}
				return false
			}
		}
		return h.p.counts.received == total && h.p.list.Length() == keep
	})
	calls := h.q.calls.Load() - before
	if calls > total/100 {
		t.Errorf("%d UI calls for %d messages", calls, total)
	}
	t.Logf("%d messages, %d UI calls", total, calls)
	if h.p.counts.evicted != total-keep || !has(h.p.status.Text, "19,500 have left the list") || !has(h.p.status.Text, "older ones are in the capture") {
		t.Errorf("evicted %d; status %q", h.p.counts.evicted, h.p.status.Text)
	}
	for _, e := range h.p.view {
		if e.colour != 0 {
			t.Fatalf("%s has colour %d, want burst/#'s", e.rec.Topic, e.colour)
		}
	}
}

// TestIngestIgnoresOtherSources: records from a source that is not an
// open connection (the embedded broker's own tap) take no room.
func TestIngestIgnoresOtherSources(t *testing.T) {
	h := newHarness(t, Options{MaxMessages: 10})
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	for range 100 {
		h.p.Ingest(message.Message{Source: "broker", Topic: "t"})
	}
	if c := h.p.store.counts("broker"); c.kept != 0 || c.received != 0 {
		t.Errorf("kept %d records of a source that is no connection", c.kept)
	}
}

// TestLargePayloadKeptInPart: a payload over a quarter of the memory cap
// is kept in part, and the panel says so rather than cutting it silently.
func TestLargePayloadKeptInPart(t *testing.T) {
	h := newHarness(t, Options{MaxBytes: 64 << 10})
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	h.p.Ingest(message.Message{Source: "local", Topic: "big", Payload: []byte(strings.Repeat("0123456789", 10_000))})
	h.q.until(t, "the big message listed", func() bool { return h.p.list.Length() == 1 })
	if !has(h.p.status.Text, "Payloads over 16 KiB are kept in part (1 so far)") {
		t.Errorf("status %q", h.p.status.Text)
	}
	h.p.list.Select(0)
	if !has(h.p.detailMeta.Text, "100,000 bytes") || !has(h.p.detailMeta.Text, "Only the first 16 KiB of 98 KiB are kept here; the whole payload is in the capture") {
		t.Errorf("detail %q", h.p.detailMeta.Text)
	}
	if r := h.shownRows()["big"]; r == nil || !strings.HasSuffix(r.preview.Text, "…") {
		t.Errorf("row %s: the preview must show that there is more", describe(r))
	}
}

// The app adds the panel to the main window and tees the Manager's
// recorder into it.
var (
	_ shell.Panel  = (*Panel)(nil)
	_ message.Sink = (*Panel)(nil)
)

// Subscriptions made here are remembered by connection and made again
// when the connection is next opened (here: closed and opened again, as
// at the next start of the app); one unsubscribed here is forgotten.
func TestKeptSubscriptionsComeBackWhenTheConnectionOpensAgain(t *testing.T) {
	kept := client.NewKeptSubscriptions(t.TempDir())
	h := newHarness(t, Options{Kept: kept})
	h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	h.subscribe(t, "sensors/#", 1)
	h.subscribe(t, "alarms/+", 2)
	test.Tap(h.subRow("alarms/+").button)
	h.q.until(t, "alarms/+ unsubscribed", func() bool { return h.subRow("alarms/+") == nil && has(h.p.formMsg.Text, "Unsubscribed") })
	if got, err := kept.For("local"); err != nil || len(got) != 1 || got[0] != (client.Subscription{Filter: "sensors/#", QoS: 1}) {
		t.Fatalf("kept for local: %+v, %v; want sensors/# at QoS 1 only", got, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := h.mgr.Close(ctx, "local"); err != nil {
		t.Fatal(err)
	}
	h.q.until(t, "local gone from the panel", func() bool { return h.p.conn() == nil })
	c := h.connect(t, "local", "alice", "alice-demo", client.MQTT5)
	h.q.until(t, "sensors/# made again", func() bool {
		r := h.subRow("sensors/#")
		return r != nil && r.result.Text == "Granted QoS 1"
	})
	if subs := c.Subscriptions(); len(subs) != 1 || subs[0].Filter != "sensors/#" {
		t.Fatalf("the reopened connection holds %+v, want sensors/# only", subs)
	}
	h.pub(t, "sensors/7", "21.5")
	h.q.until(t, "sensors/7 listed", func() bool { return contains(h.listed(), "sensors/7") })
}
