package capturepanel

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
)

// targetBroker starts a broker on a free loopback port whose accepted
// messages go to a store of their own; it returns the broker's URL and
// that store.
func targetBroker(t *testing.T) (string, *capture.Store) {
	t.Helper()
	got := openStore(t)
	b := brokertest.Start(t, func(c *broker.Config) { c.Recorder = got })
	return b.State().Listeners[0].URL, got
}

func TestReplayPublishesTheSearchRemappedWithQoS(t *testing.T) {
	url, got := targetBroker(t)
	store := openStore(t, sample(30)...)
	h := newHarness(t, store)
	p := h.panel
	p.opts.BrokerURL = func() string { return url }
	h.search(t, "a/+", true)

	test.Tap(p.replayBtn)
	d := p.replayDlg
	if d == nil || !strings.Contains(d.what.Text, "20 messages") || !strings.HasPrefix(d.target.Selected, targetEmbedded) ||
		!d.url.Disabled() {
		t.Fatalf("dialog: %+v", d)
	}
	if !strings.Contains(d.target.Selected, url) {
		t.Errorf("the embedded target does not say where: %q", d.target.Selected)
	}
	d.speed.SetSelected("Max")
	d.remap.SetText("a=replayed/a\n")
	d.qos.SetSelected("1")
	test.Tap(d.replayB)
	h.waitIdle(t)
	if p.actionText.Importance != widget.SuccessImportance || !strings.HasPrefix(p.actionText.Text, "Replayed 20 messages to "+url) {
		t.Fatalf("result %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
	flush(t, got)
	recs, _, err := got.Query(context.Background(), capture.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 20 {
		t.Fatalf("the target broker got %d messages, want 20", len(recs))
	}
	var topics []string
	for _, r := range recs {
		if r.QoS != 1 {
			t.Errorf("%s arrived with QoS %d, want the override 1", r.Topic, r.QoS)
		}
		topics = append(topics, r.Topic)
	}
	sort.Strings(topics)
	if topics[0] != "replayed/a/1" || topics[19] != "replayed/a/2" {
		t.Errorf("topics %v", topics)
	}
}

func TestReplayShowsProgressAndCancels(t *testing.T) {
	url, got := targetBroker(t)
	now := time.Now()
	store := openStore(t,
		message.Message{Time: now.Add(-2 * time.Hour), Topic: "slow/1", Payload: []byte("first")},
		message.Message{Time: now.Add(-time.Hour), Topic: "slow/2", Payload: []byte("an hour later")},
	)
	h := newHarness(t, store)
	p := h.panel
	p.opts.BrokerURL = func() string { return url }

	test.Tap(p.replayBtn)
	d := p.replayDlg
	if d.speed.Selected != "1×" {
		t.Errorf("default speed %q", d.speed.Selected)
	}
	test.Tap(d.replayB) // real time: the second message is an hour away
	h.q.Until(t, "the first message", func() bool {
		return strings.Contains(p.actionText.Text, "1 of 2 messages") && p.actionBar.Visible()
	})
	if !strings.Contains(p.actionText.Text, "of 1:00:00 of capture time") || p.actionBar.Value >= 0.5 {
		t.Errorf("progress %q, bar %.2f", p.actionText.Text, p.actionBar.Value)
	}
	if !p.exportBtn.Disabled() || !p.replayBtn.Disabled() {
		t.Error("another action can start while replaying")
	}
	test.Tap(p.actionCancel)
	h.waitIdle(t)
	if p.actionText.Importance != widget.WarningImportance || !strings.HasPrefix(p.actionText.Text, "Replay stopped after 1 of 2 messages") {
		t.Errorf("after cancel: %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
	flush(t, got)
	if n := records(t, got); n != 1 {
		t.Errorf("the target got %d messages, want 1", n)
	}
}

func TestReplayDialogChecksTheForm(t *testing.T) {
	store := openStore(t, sample(3)...)
	h := newHarness(t, store)
	p := h.panel
	p.opts.BrokerURL = func() string { return "" } // the broker is stopped

	test.Tap(p.replayBtn)
	d := p.replayDlg
	if d.target.Selected != targetURL || !d.target.Disabled() || d.url.Disabled() {
		t.Errorf("without the embedded broker: target %q (disabled %v), URL disabled %v", d.target.Selected, d.target.Disabled(), d.url.Disabled())
	}
	for _, tt := range []struct{ url, remap, want string }{
		{"", "", "Enter the URL"},
		{"http://example.com", "", "unsupported scheme"},
		{"mqtt://127.0.0.1:1883", "nonsense", "Remap line 1"},
		{"mqtt://127.0.0.1:1883", "a=b\nc/=d", "Remap line 2"},
	} {
		d.url.SetText(tt.url)
		d.remap.SetText(tt.remap)
		test.Tap(d.replayB)
		if !strings.Contains(d.errText.Text, tt.want) || p.act != nil {
			t.Errorf("url %q remap %q: error %q, want %q", tt.url, tt.remap, d.errText.Text, tt.want)
		}
	}

	// Nobody listening: the failure says so.
	d.url.SetText("mqtt://127.0.0.1:1")
	d.remap.SetText("")
	test.Tap(d.replayB)
	h.waitIdle(t)
	t.Log(p.actionText.Text)
	if p.actionText.Importance != widget.DangerImportance || !strings.HasPrefix(p.actionText.Text, "Replay failed: ") {
		t.Errorf("refused connection: %q (%v)", p.actionText.Text, p.actionText.Importance)
	}
}
