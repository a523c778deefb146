package publish

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

func TestTopicValidationShowsErrorAndDisablesPublish(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	f := &h.p.form
	for _, c := range []struct {
		topic   string
		msg     string // "" means no message shown
		enabled bool
	}{
		{"home/kitchen/light", "", true},
		{"", "Topic: the topic is empty", false},
		{"home/+/light", "Topic: '+' is a wildcard: it may appear in a subscription's filter, never in the topic of a message (byte 5, level 2)", false},
		{"home/#", "(byte 5, level 2)", false},
		{"/home", "Note: level 1 of 2 is empty (the topic starts with '/')", true},
		{"$SYS/x", "reserved for the broker", true},
	} {
		typeInto(f.topic, c.topic)
		shown := f.topicMsg.Visible()
		if c.msg == "" && shown {
			t.Errorf("topic %q: message %q shown, want none", c.topic, f.topicMsg.Text)
		}
		if c.msg != "" && (!shown || !strings.Contains(f.topicMsg.Text, c.msg)) {
			t.Errorf("topic %q: message %q (shown %v), want %q", c.topic, f.topicMsg.Text, shown, c.msg)
		}
		if f.publish.Disabled() == c.enabled {
			t.Errorf("topic %q: Publish enabled = %v, want %v", c.topic, !f.publish.Disabled(), c.enabled)
		}
	}
}

func TestOtherFieldErrorsDisablePublish(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	f := &h.p.form
	typeInto(f.topic, "a/b")
	for _, c := range []struct {
		name  string
		set   func()
		reset func()
		label func() string
		want  string
	}{
		{"expiry", func() { typeInto(f.expiry, "soon") }, func() { typeInto(f.expiry, "") }, func() string { return f.v5Err.Text }, `Message expiry "soon": type a whole number of seconds`},
		{"response topic", func() { typeInto(f.respTopic, "r/#") }, func() { typeInto(f.respTopic, "") }, func() string { return f.v5Err.Text }, "Response topic: '#' is a wildcard"},
		{"user property", func() { h.p.addUserProp("", "v") }, func() { h.p.removeUserProp(h.p.props[0]) }, func() string { return f.v5Err.Text }, "User property 1 has a value but no name"},
		{"count", func() { typeInto(f.count, "0") }, func() { typeInto(f.count, "1") }, func() string { return f.rptErr.Text }, `Repeat "0" times: type a whole number from 1 to 1000000`},
		{"interval", func() { typeInto(f.interval, "often") }, func() { typeInto(f.interval, "1s") }, func() string { return f.rptErr.Text }, `Every "often": type a duration such as 500 ms, 2 s or 1 min`},
	} {
		c.set()
		if !strings.Contains(c.label(), c.want) || !f.publish.Disabled() {
			t.Errorf("%s: error %q, Publish disabled %v; want %q and disabled", c.name, c.label(), f.publish.Disabled(), c.want)
		}
		c.reset()
		if f.publish.Disabled() {
			t.Errorf("%s: Publish still disabled after the fix (v5 %q, repeat %q)", c.name, f.v5Err.Text, f.rptErr.Text)
		}
	}
}

func TestInvalidJSONShowsLineAndColumnAndPrettyPrints(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	f := &h.p.form
	typeInto(f.topic, "a/b")
	f.formatSel.SetSelected(string(formatJSON))
	if !f.pretty.Visible() {
		t.Fatal("no Pretty-print button for JSON")
	}
	f.payload.SetText("{\"temp\": 21.5,\n \"unit\": }")
	if want := "JSON: line 2, column 10: invalid character '}' looking for beginning of value"; !f.payErr.Visible() || f.payErr.Text != want {
		t.Fatalf("payload error %q (shown %v), want %q", f.payErr.Text, f.payErr.Visible(), want)
	}
	if !f.publish.Disabled() || !h.p.saved.save.Disabled() {
		t.Fatal("Publish or Save enabled with invalid JSON")
	}
	test.Tap(f.pretty)
	if f.payload.Text != "{\"temp\": 21.5,\n \"unit\": }" {
		t.Fatalf("pretty-print changed invalid JSON to %q", f.payload.Text)
	}

	f.payload.SetText(`{"temp":21.5,"unit":"C"}`)
	if f.payErr.Visible() || f.publish.Disabled() {
		t.Fatalf("valid JSON: error %q, Publish disabled %v", f.payErr.Text, f.publish.Disabled())
	}
	test.Tap(f.pretty)
	if want := "{\n  \"temp\": 21.5,\n  \"unit\": \"C\"\n}"; f.payload.Text != want {
		t.Fatalf("pretty-printed %q, want %q", f.payload.Text, want)
	}
	f.formatSel.SetSelected(string(formatText))
	if f.pretty.Visible() {
		t.Fatal("Pretty-print shown for text")
	}
}

func TestFormatSwitchConvertsThePayload(t *testing.T) {
	h := newHarness(t)
	f := &h.p.form
	f.payload.SetText("Hi!")
	f.formatSel.SetSelected(string(formatHex))
	if f.payload.Text != "48 69 21" {
		t.Fatalf("text as hex: %q", f.payload.Text)
	}
	f.formatSel.SetSelected(string(formatBase64))
	if f.payload.Text != "SGkh" {
		t.Fatalf("hex as base64: %q", f.payload.Text)
	}
	f.formatSel.SetSelected(string(formatText))
	if f.payload.Text != "Hi!" {
		t.Fatalf("base64 back to text: %q", f.payload.Text)
	}

	// Binary cannot become text: the switch is refused and nothing is lost.
	f.formatSel.SetSelected(string(formatHex))
	f.payload.SetText("00 ff 0x10")
	f.formatSel.SetSelected(string(formatText))
	if f.formatSel.Selected != string(formatHex) || f.payload.Text != "00 ff 0x10" || !strings.Contains(f.payErr.Text, "Cannot switch to Text: the payload is binary") {
		t.Fatalf("after refusing: format %s, payload %q, error %q", f.formatSel.Selected, f.payload.Text, f.payErr.Text)
	}
	f.formatSel.SetSelected(string(formatBase64))
	if f.payload.Text != "AP8Q" {
		t.Fatalf("binary as base64: %q", f.payload.Text)
	}

	// Invalid input says where, and blocks the switch.
	for _, c := range []struct {
		format payloadFormat
		text   string
		want   string
	}{
		{formatHex, "48 6", "hex: line 1, column 4: a byte needs two hex digits"},
		{formatHex, "48\n6g", "hex: line 2, column 2: 'g' is not a hex digit"},
		{formatBase64, "SGk*", `base64: character 4 ('*') is not valid here`},
	} {
		h.p.loadPayload(c.format, c.text)
		if !f.payErr.Visible() || !strings.Contains(f.payErr.Text, c.want) {
			t.Errorf("%s %q: error %q, want %q", c.format, c.text, f.payErr.Text, c.want)
		}
		f.formatSel.SetSelected(string(formatText))
		if f.formatSel.Selected != string(c.format) || f.payload.Text != c.text {
			t.Errorf("%s %q: switched to %s with %q", c.format, c.text, f.formatSel.Selected, f.payload.Text)
		}
	}
}

func TestInvalidJSONCanGoBackToText(t *testing.T) {
	h := newHarness(t)
	f := &h.p.form
	h.p.loadPayload(formatJSON, `{"half":`)
	f.formatSel.SetSelected(string(formatText))
	if f.formatSel.Selected != string(formatText) || f.payload.Text != `{"half":` || f.payErr.Visible() {
		t.Fatalf("format %s, payload %q, error %q", f.formatSel.Selected, f.payload.Text, f.payErr.Text)
	}
}

func TestPublishDeliversMQTT5Properties(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	f := &h.p.form
	typeInto(f.topic, "lab/lamp/set")
	f.formatSel.SetSelected(string(formatJSON))
	f.payload.SetText(`{"on": true}`)
	f.qos.SetSelected("1")
	typeInto(f.contentType, "application/json")
	f.payloadFormat.SetSelected(pfUTF8)
	typeInto(f.expiry, "120")
	typeInto(f.respTopic, "lab/lamp/reply")
	typeInto(f.correlation, "req-7")
	h.p.addUserProp("site", "north")
	test.Tap(f.addProp)
	test.Type(h.p.props[1].key, "site")
	test.Type(h.p.props[1].value, "south")
	if f.publish.Disabled() {
		t.Fatalf("Publish disabled: topic %q payload %q v5 %q", f.topicMsg.Text, f.payErr.Text, f.v5Err.Text)
	}
	test.Tap(f.publish)
	h.resultHas("Published to lab/lamp/set on Local broker (QoS 1)")

	r := h.received("lab/lamp/set", 1)[0]
	if string(r.Payload) != `{"on": true}` || r.QoS != 1 || r.Retain || r.ContentType != "application/json" ||
		r.PayloadFormat == nil || *r.PayloadFormat != 1 || r.MessageExpiry == nil || *r.MessageExpiry == 0 || *r.MessageExpiry > 120 ||
		r.ResponseTopic != "lab/lamp/reply" || string(r.CorrelationData) != "req-7" ||
		!reflect.DeepEqual(r.UserProps, []message.UserProp{{Key: "site", Value: "north"}, {Key: "site", Value: "south"}}) {
		t.Fatalf("subscriber got %+v", r)
	}
}

func TestMQTT311ConnectionDisablesPropertiesAndSaysWhy(t *testing.T) {
	h := newHarness(t)
	h.open(h.mgr, client.MQTT311, "Old device")
	h.selectConnection("Old device")
	f := &h.p.form
	if !f.v5Note.Visible() || !strings.Contains(f.v5Note.Text, "Old device speaks MQTT 3.1.1, which has no message properties") {
		t.Fatalf("no reason shown: %q", f.v5Note.Text)
	}
	if !f.contentType.Disabled() || !f.addProp.Disabled() || !f.payloadFormat.Disabled() {
		t.Fatal("MQTT 5 fields still editable on a 3.1.1 connection")
	}
	f.contentType.SetText("text/plain") // typed earlier for an MQTT 5 connection: kept, not sent
	typeInto(f.topic, "old/device")
	typeInto(f.payload, "hello")
	test.Tap(f.publish)
	h.resultHas("Published to old/device on Old device")
	if r := h.received("old/device", 1)[0]; string(r.Payload) != "hello" || r.ContentType != "" {
		t.Fatalf("subscriber got %+v", r)
	}

	h.p.form.conn.SetSelected(localName)
	if f.v5Note.Visible() || f.contentType.Disabled() || f.contentType.Text != "text/plain" {
		t.Fatalf("back on MQTT 5: note shown %v, content type disabled %v, text %q", f.v5Note.Visible(), f.contentType.Disabled(), f.contentType.Text)
	}
}

func TestRepeatPublishesNTimesAndStopHalts(t *testing.T) {
	h := newHarness(t)
	f := &h.p.form
	h.publishRepeated("lab/tick", "5", "20ms")
	if !f.publish.Disabled() || f.stop.Disabled() || !f.progress.Visible() {
		t.Fatal("while running: Publish should be disabled, Stop enabled and progress shown")
	}
	h.resultHas("Published 5 times to lab/tick on Local broker")
	// Five publishes 20 ms apart take at least 80 ms, which the result
	// says (it said "in 0s" whatever the run took).
	if took := resultTook(t, f.result.Text, " in ", "ms", "s"); took < 80*time.Millisecond {
		t.Fatalf("result %q: the run took at least 80 ms", f.result.Text)
	}
	if f.progress.Value != 1 || !f.stop.Disabled() || f.publish.Disabled() {
		t.Fatalf("after the run: progress %v, Stop disabled %v, Publish disabled %v", f.progress.Value, f.stop.Disabled(), f.publish.Disabled())
	}
	if n := len(h.received("lab/tick", 5)); n != 5 {
		t.Fatalf("subscriber got %d messages, want 5", n)
	}

	typeInto(f.topic, "lab/long")
	typeInto(f.count, "1000")
	typeInto(f.interval, "50ms")
	test.Tap(f.publish)
	h.received("lab/long", 2)
	test.Tap(f.stop)
	h.resultHas("Stopped after")
	var sent int
	if _, err := fmt.Sscanf(f.result.Text, "Stopped after %d of 1000", &sent); err != nil || sent < 2 || sent >= 1000 {
		t.Fatalf("result %q", f.result.Text)
	}
	if f.progress.Value >= 1 || f.progress.Value <= 0 {
		t.Fatalf("progress %v after a stop", f.progress.Value)
	}
	// Everything sent arrives, and nothing more: wait well past a period.
	time.Sleep(200 * time.Millisecond)
	if got := len(h.sub.on("lab/long")); got != sent {
		t.Fatalf("subscriber got %d messages, the panel says %d were sent", got, sent)
	}
	if e := h.p.histRows[0]; e.Count != sent || e.Message.Topic != "lab/long" {
		t.Fatalf("history's newest entry: %+v", e)
	}
}

func TestPublishErrorsAreShownPlainly(t *testing.T) {
	h := newHarness(t)
	// A connection to a port nobody listens on never connects.
	prof, err := client.NewFromPreset(client.PresetGeneric, client.PresetInput{Name: "Nowhere", Host: "mqtt://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.mgr.Open(prof, client.Credentials{}); err != nil {
		t.Fatal(err)
	}
	h.selectConnection("Nowhere")
	f := &h.p.form
	typeInto(f.topic, "a/b")
	test.Tap(f.publish)
	h.resultHas("Not published:")
	if !strings.Contains(f.result.Text, "not connected") {
		t.Fatalf("result %q does not say the connection is down", f.result.Text)
	}
	h.q.until(t, "the connection's error", func() bool { return f.connErr.Visible() })
	if !strings.Contains(f.connErr.Text, "Last error:") {
		t.Fatalf("connection error %q", f.connErr.Text)
	}
}

// TestBrokerRefusalIsShown publishes where the embedded broker's ACL
// forbids it: the repository's example users file lets "sensor" write
// sensors/# only.
func TestBrokerRefusalIsShown(t *testing.T) {
	h := newBareHarness(t, "../../testdata/users.yaml")
	h.mgr = h.newManager(nil)
	h.openAs(h.mgr, client.MQTT5, "Sensor", "sensor", "sensor-demo")
	h.win = test.NewTempWindow(t, nil)
	h.p = h.newPanel()
	h.selectConnection("Sensor")
	f := &h.p.form
	typeInto(f.topic, "secret/plans")
	f.qos.SetSelected("1")
	test.Tap(f.publish)
	h.resultHas("Not published:")
	if !strings.Contains(f.result.Text, "the broker refused the message: not authorized") {
		t.Fatalf("result %q does not give the broker's reason", f.result.Text)
	}
	if len(h.p.histRows) != 0 {
		t.Fatalf("a refused publish went into the history: %+v", h.p.histRows)
	}
}

func TestSavedMessagePublishesAgainAndSurvivesARestart(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	f, s := &h.p.form, &h.p.saved
	typeInto(f.topic, "lab/pump")
	f.formatSel.SetSelected(string(formatHex))
	typeInto(f.payload, "01 ff")
	f.retain.SetChecked(true)
	h.p.addUserProp("by", "test")
	typeInto(&s.collection.Entry, "pump")
	typeInto(s.name, "start")
	test.Tap(s.save)
	if !strings.Contains(s.note.Text, "Saved as pump/start.") {
		t.Fatalf("save note %q", s.note.Text)
	}
	typeInto(s.name, "")
	test.Tap(s.save)
	if !strings.Contains(s.note.Text, "Not saved: the message needs a name") {
		t.Fatalf("saving without a name: %q", s.note.Text)
	}

	// A new panel over the same data dir (the app restarted) lists it.
	h.win = test.NewTempWindow(t, nil)
	h.p = h.newPanel()
	h.selectConnection(localName)
	f, s = &h.p.form, &h.p.saved
	if len(h.p.savedRows) != 1 || h.p.savedRows[0].collection != "pump" || h.p.savedRows[0].msg.Name != "start" {
		t.Fatalf("after a restart the saved list holds %+v", h.p.savedRows)
	}
	pub := buttons(s.list, "Publish")
	if len(pub) != 1 {
		t.Fatalf("%d Publish buttons in the saved list", len(pub))
	}
	test.Tap(pub[0])
	h.resultHas("Published to lab/pump on Local broker (QoS 0, retained)")
	r := h.received("lab/pump", 1)[0]
	// (A live subscriber sees the retain flag cleared [MQTT-3.3.1-9]; the
	// result line above says it was sent retained.)
	if !bytes.Equal(r.Payload, []byte{1, 0xff}) || len(r.UserProps) != 1 {
		t.Fatalf("subscriber got %+v", r)
	}

	test.Tap(buttons(s.list, "Load")[0])
	if f.topic.Text != "lab/pump" || f.formatSel.Selected != string(formatHex) || f.payload.Text != "01 ff" || !f.retain.Checked ||
		len(h.p.props) != 1 || h.p.props[0].key.Text != "by" || s.name.Text != "start" {
		t.Fatalf("loaded: topic %q format %s payload %q retain %v props %d name %q", f.topic.Text, f.formatSel.Selected, f.payload.Text, f.retain.Checked, len(h.p.props), s.name.Text)
	}

	test.Tap(buttons(s.list, "")[0])
	if s.deleteDlg == nil {
		t.Fatal("no confirmation before deleting")
	}
	s.deleteDlg.Confirm()
	if len(h.p.savedRows) != 0 || !strings.Contains(s.note.Text, "Deleted pump/start.") {
		t.Fatalf("after delete: %+v, note %q", h.p.savedRows, s.note.Text)
	}
}

func TestHistoryLoadsIntoTheForm(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	f := &h.p.form
	typeInto(f.topic, "lab/first")
	typeInto(f.payload, "one")
	test.Tap(f.publish)
	h.resultHas("Published to lab/first")
	typeInto(f.topic, "lab/second")
	typeInto(f.payload, "two")
	test.Tap(f.publish)
	h.resultHas("Published to lab/second")
	if len(h.p.histRows) != 2 || h.p.histRows[0].Message.Topic != "lab/second" {
		t.Fatalf("history: %+v", h.p.histRows)
	}
	h.p.saved.histList.Select(1)
	if f.topic.Text != "lab/first" || f.payload.Text != "one" || f.conn.Selected != localName {
		t.Fatalf("history entry loaded as topic %q payload %q on %q", f.topic.Text, f.payload.Text, f.conn.Selected)
	}
}

func TestPrefillSelectsTheConnectionWhenItOpens(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	h.p.Prefill("Later", "site/a/valve", nil)
	if h.p.form.topic.Text != "site/a/valve" || h.p.form.conn.Selected != localName {
		t.Fatalf("prefill: topic %q, connection %q", h.p.form.topic.Text, h.p.form.conn.Selected)
	}
	h.open(h.mgr, client.MQTT5, "Later")
	h.q.until(t, "the prefilled connection selected", func() bool { return h.p.form.conn.Selected == "Later" })
}

func TestClosedConnectionLeavesTheSelector(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	if err := h.mgr.Close(t.Context(), localName); err != nil {
		t.Fatal(err)
	}
	f := &h.p.form
	h.q.until(t, "the closed connection gone", func() bool { return len(f.conn.Options) == 0 })
	if f.conn.Selected != "" || !f.publish.Disabled() {
		t.Fatalf("after closing the only connection: selected %q, Publish disabled %v", f.conn.Selected, f.publish.Disabled())
	}
}

// The Explorer's Publish… hands over the topic's last payload: it lands in
// the editor in a format that shows it whole.
func TestPrefillShowsThePayload(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	for _, tc := range []struct {
		payload []byte
		format  payloadFormat
		text    string
	}{
		{[]byte(`{"temp":21.5}`), formatJSON, `{"temp":21.5}`},
		{[]byte("on"), formatText, "on"},
		{[]byte("11.2"), formatText, "11.2"},
		{[]byte(" [1, 2]"), formatJSON, " [1, 2]"},
		{[]byte{0x00, 0xff, 0x10}, formatHex, "00 ff 10"},
	} {
		h.p.Prefill(localName, "site/a/valve", tc.payload)
		f := &h.p.form
		if h.p.format != tc.format || f.formatSel.Selected != string(tc.format) || f.payload.Text != tc.text {
			t.Errorf("payload %q: format %s (selector %s), editor %q; want %s %q", tc.payload, h.p.format, f.formatSel.Selected, f.payload.Text, tc.format, tc.text)
		}
		if f.publish.Disabled() {
			t.Errorf("payload %q: Publish disabled after prefill", tc.payload)
		}
	}
}

// A form just opened shows no error for the topic nobody has typed yet,
// keeps Publish off, and keeps Publish in view at the window's default size.
func TestFreshFormIsQuietAndPublishInView(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	f := &h.p.form
	if f.topicMsg.Visible() {
		t.Errorf("fresh form shows %q", f.topicMsg.Text)
	}
	if !f.publish.Disabled() {
		t.Error("Publish enabled with no topic")
	}
	h.win.Resize(fyne.NewSize(1000, 640))
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(f.publish)
	if bottom := pos.Y + f.publish.Size().Height; bottom > h.win.Canvas().Size().Height || !f.publish.Visible() {
		t.Errorf("Publish ends at y=%v in a %v canvas: off screen", bottom, h.win.Canvas().Size())
	}
}

// Ctrl/Cmd+Enter publishes the form as the Publish button does: while
// typing in the payload (the desktop driver hands the key to the focused
// entry, not the window), and with nothing focused (Enter on the keypad
// too); not while another panel is shown.
func TestCtrlEnterPublishesTheForm(t *testing.T) {
	h := newHarness(t)
	h.selectConnection(localName)
	f := &h.p.form
	typeInto(f.topic, "lab/keys")
	h.win.Canvas().Focus(f.payload)
	test.Type(f.payload, "typed")
	uitest.Press(h.win, uitest.Ctrl(fyne.KeyReturn))
	h.resultHas("Published to lab/keys on Local broker")
	if r := h.received("lab/keys", 1)[0]; string(r.Payload) != "typed" {
		t.Fatalf("subscriber got %q, want the form's payload", r.Payload)
	}

	h.win.Canvas().Unfocus()
	uitest.Press(h.win, uitest.Ctrl(fyne.KeyEnter))
	h.received("lab/keys", 2)
	h.resultHas("Published to lab/keys on Local broker")

	h.p.Content().Hide()
	uitest.Press(h.win, uitest.Ctrl(fyne.KeyReturn))
	if h.p.running {
		t.Error("Ctrl+Enter published from a hidden Publish panel")
	}
}
